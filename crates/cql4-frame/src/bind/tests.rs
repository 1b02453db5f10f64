use std::collections::{BTreeMap, HashMap};

use super::SerializeRow;
use crate::error::EncodeError;
use crate::reader::{RawValue, Reader};
use crate::rows::ColumnSpec;
use crate::types::ColumnType;
use crate::writer::Writer;

fn markers(specs: &[(&str, ColumnType)]) -> Vec<ColumnSpec> {
    specs
        .iter()
        .map(|(n, t)| ColumnSpec::new(*n, t.clone()))
        .collect()
}

/// The `[value]`s of `out`, as written, with nothing left over.
fn values(out: &[u8]) -> Vec<Option<Vec<u8>>> {
    let mut r = Reader::new(out);
    let mut v = Vec::new();
    while !r.is_empty() {
        v.push(match r.value("test").expect("a [value]") {
            RawValue::Bytes(b) => Some(b.to_vec()),
            RawValue::Null => None,
            RawValue::NotSet => panic!("not set"),
        });
    }
    v
}

fn row(r: &impl SerializeRow, m: &[ColumnSpec]) -> Result<Vec<Option<Vec<u8>>>, EncodeError> {
    let mut out = Vec::new();
    r.serialize_row(m, &mut Writer::new(&mut out))?;
    Ok(values(&out))
}

#[test]
fn unit_binds_no_markers_only() {
    assert_eq!(row(&(), &[]), Ok(vec![]));
    assert_eq!(
        row(&(), &markers(&[("a", ColumnType::Int)])),
        Err(EncodeError::ValueCount {
            markers: 1,
            values: 0
        })
    );
}

#[test]
fn tuple_writes_each_value_as_its_marker_type() {
    let m = markers(&[
        ("a", ColumnType::Int),
        ("b", ColumnType::Text),
        ("c", ColumnType::BigInt),
    ]);
    assert_eq!(
        row(&(1i32, "x", None::<i64>), &m),
        Ok(vec![Some(vec![0, 0, 0, 1]), Some(b"x".to_vec()), None])
    );
}

#[test]
fn tuple_of_16_binds_16_markers() {
    let m: Vec<ColumnSpec> = (0..16)
        .map(|i| ColumnSpec::new(format!("c{i}"), ColumnType::TinyInt))
        .collect();
    let t = (
        0i8, 1i8, 2i8, 3i8, 4i8, 5i8, 6i8, 7i8, 8i8, 9i8, 10i8, 11i8, 12i8, 13i8, 14i8, 15i8,
    );
    let got = row(&t, &m).expect("binds");
    assert_eq!(got, (0..16).map(|i| Some(vec![i])).collect::<Vec<_>>());
}

#[test]
fn wrong_count_names_both_counts() {
    let m = markers(&[("a", ColumnType::Int)]);
    let err = row(&(1i32, 2i32), &m).unwrap_err();
    assert_eq!(
        err,
        EncodeError::ValueCount {
            markers: 1,
            values: 2
        }
    );
    assert_eq!(
        err.to_string(),
        "2 values for a statement of 1 bind markers"
    );
    assert_eq!(
        row(&vec![1i32, 2, 3], &m).unwrap_err(),
        EncodeError::ValueCount {
            markers: 1,
            values: 3
        }
    );
}

#[test]
fn type_mismatch_names_marker_and_both_types() {
    let m = markers(&[("id", ColumnType::Int), ("name", ColumnType::Text)]);
    let err = row(&(1i32, 2i64), &m).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bind marker 1 (name): encoding i64: value does not match CQL type text"
    );
    let EncodeError::InMarker { index, name, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!((index, name.as_str()), (1, "name"));
}

#[test]
fn null_binds_to_any_marker_type() {
    let m = markers(&[("a", ColumnType::Uuid)]);
    assert_eq!(row(&(None::<String>,), &m), Ok(vec![None]));
}

#[test]
fn slices_vecs_and_arrays_bind_by_position() {
    let m = markers(&[("a", ColumnType::Int), ("b", ColumnType::Int)]);
    let want = Ok(vec![Some(vec![0, 0, 0, 5]), Some(vec![0, 0, 0, 6])]);
    assert_eq!(row(&[5i32, 6], &m), want);
    assert_eq!(row(&vec![5i32, 6], &m), want);
    assert_eq!(row(&&[5i32, 6][..], &m), want);
}

#[test]
fn maps_bind_by_marker_name_in_marker_order() {
    let m = markers(&[("b", ColumnType::Int), ("a", ColumnType::Int)]);
    let hash: HashMap<&str, i32> = [("a", 1), ("b", 2)].into();
    let tree: BTreeMap<String, i32> = [("a".to_owned(), 1), ("b".to_owned(), 2)].into();
    let want = Ok(vec![Some(vec![0, 0, 0, 2]), Some(vec![0, 0, 0, 1])]);
    assert_eq!(row(&hash, &m), want);
    assert_eq!(row(&tree, &m), want);
}

#[test]
fn map_without_a_markers_name_or_with_an_extra_name_fails() {
    let m = markers(&[("a", ColumnType::Int), ("b", ColumnType::Int)]);
    let missing: BTreeMap<&str, i32> = [("a", 1)].into();
    let err = row(&missing, &m).unwrap_err();
    assert_eq!(err.to_string(), "no value for bind marker 1 (b)");
    let extra: BTreeMap<&str, i32> = [("a", 1), ("b", 2), ("c", 3)].into();
    assert_eq!(
        row(&extra, &m).unwrap_err(),
        EncodeError::NoSuchMarker("c".into())
    );
}

#[test]
fn repeated_marker_name_binds_the_same_value_twice() {
    let m = markers(&[("a", ColumnType::Int), ("a", ColumnType::Int)]);
    let map: BTreeMap<&str, i32> = [("a", 9)].into();
    assert_eq!(
        row(&map, &m),
        Ok(vec![Some(vec![0, 0, 0, 9]), Some(vec![0, 0, 0, 9])])
    );
}

/// The raw `[value]` lengths of `out`: -1 null, -2 not set, else the byte count.
fn lengths(out: &[u8]) -> Vec<i32> {
    let mut r = Reader::new(out);
    let mut v = Vec::new();
    while !r.is_empty() {
        v.push(match r.value("test").expect("a [value]") {
            RawValue::Bytes(b) => i32::try_from(b.len()).expect("len"),
            RawValue::Null => -1,
            RawValue::NotSet => -2,
        });
    }
    v
}

#[test]
fn unset_binds_not_set_to_any_marker_in_tuples_slices_and_maps() {
    use crate::value::Unset;
    let m = markers(&[("a", ColumnType::Int), ("b", ColumnType::Text)]);
    let mut out = Vec::new();
    (Unset, None::<&str>)
        .serialize_row(&m, &mut Writer::new(&mut out))
        .unwrap();
    assert_eq!(lengths(&out), [-2, -1]);
    assert_eq!(&out[..4], &[0xff, 0xff, 0xff, 0xfe]);

    let mut out = Vec::new();
    [Unset, Unset]
        .serialize_row(&m, &mut Writer::new(&mut out))
        .unwrap();
    assert_eq!(lengths(&out), [-2, -2]);

    // A map of name to Option<&dyn …> is not possible; use one value type that can be unset.
    #[derive(Debug)]
    enum V {
        Set(i32),
        NotSet,
    }
    impl crate::value::ToCql for V {
        fn to_cql(
            &self,
            ty: &ColumnType,
            w: &mut Writer<'_>,
        ) -> Result<crate::value::IsNull, EncodeError> {
            match self {
                Self::Set(v) => v.to_cql(ty, w),
                Self::NotSet => Unset.to_cql(ty, w),
            }
        }

        fn natural_type(&self) -> Option<ColumnType> {
            match self {
                Self::Set(v) => v.natural_type(),
                Self::NotSet => None,
            }
        }
    }
    let m = markers(&[("a", ColumnType::Int), ("b", ColumnType::Int)]);
    let map = BTreeMap::from([("b", V::Set(3)), ("a", V::NotSet)]);
    let mut out = Vec::new();
    map.serialize_row(&m, &mut Writer::new(&mut out)).unwrap();
    assert_eq!(lengths(&out), [-2, 4]);
}

#[test]
fn unset_inside_a_collection_or_tuple_value_is_refused_naming_the_marker() {
    use crate::value::Unset;
    let m = markers(&[("l", ColumnType::List(Box::new(ColumnType::Int)))]);
    let err = (vec![Unset],)
        .serialize_row(&m, &mut Writer::new(&mut Vec::new()))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bind marker 0 (l): encoding: an unset value is a bind value only, not an element of a collection, tuple or UDT"
    );
    let m = markers(&[("t", ColumnType::Tuple(vec![ColumnType::Int]))]);
    assert!(((Unset,),)
        .serialize_row(&m, &mut Writer::new(&mut Vec::new()))
        .is_err());
    // Refused before anything is left in the buffer by write_value.
    let mut out = vec![9];
    assert!(crate::value::write_value(&Unset, &ColumnType::Int, &mut out).is_err());
    assert_eq!(out, [9]);
}

#[test]
fn option_none_binds_null_and_some_binds_the_value() {
    let m = markers(&[("a", ColumnType::Int), ("b", ColumnType::Text)]);
    let mut out = Vec::new();
    (None::<i32>, Some("x"))
        .serialize_row(&m, &mut Writer::new(&mut out))
        .unwrap();
    assert_eq!(out, [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, b'x']);
    // A None is not a way around the type check of the Some it could have been.
    assert!((Some(1i64), Some("x"))
        .serialize_row(&m, &mut Writer::new(&mut Vec::new()))
        .is_err());
}

/// The values an unprepared QUERY carries for `r`: the `[short]` count, then each value (after
/// its name when named), as the request's flags say.
fn unprepared(r: &impl SerializeRow) -> (Option<bool>, Vec<u8>) {
    use super::Unprepared;
    use crate::request::WriteValues;
    let mut out = Vec::new();
    let named = Unprepared(r)
        .write_values(&mut Writer::new(&mut out))
        .unwrap();
    (named, out)
}

#[test]
fn unprepared_values_take_their_natural_types_by_position() {
    use crate::value::Unset;
    let (named, out) = unprepared(&(1i32, "x", None::<i64>, Unset, vec![2i16], 3i64));
    assert_eq!(named, Some(false));
    let mut want = vec![0, 6];
    want.extend([0, 0, 0, 4, 0, 0, 0, 1]); // int
    want.extend([0, 0, 0, 1, b'x']); // text
    want.extend([0xff; 4]); // null
    want.extend([0xff, 0xff, 0xff, 0xfe]); // not set
    want.extend([0, 0, 0, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 2]); // list<smallint>
    want.extend([0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 3]); // bigint
    assert_eq!(out, want);
    // A slice of dynamic values: each its own type.
    let (_, out) = unprepared(&vec![
        Some(crate::CqlValue::Boolean(true)),
        None,
        Some(crate::CqlValue::Text("é".into())),
    ]);
    assert_eq!(
        out,
        [0, 3, 0, 0, 0, 1, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2, 0xc3, 0xa9]
    );
}

#[test]
fn unprepared_maps_are_named_and_an_empty_row_sends_no_values() {
    let (named, out) = unprepared(&BTreeMap::from([("a", 1i32)]));
    assert_eq!(named, Some(true));
    assert_eq!(out, [0, 1, 0, 1, b'a', 0, 0, 0, 4, 0, 0, 0, 1]);
    assert_eq!(unprepared(&()), (None, vec![]));
    assert_eq!(unprepared(&Vec::<i32>::new()), (None, vec![]));
}

#[test]
fn natural_types_of_collections_and_tuples() {
    use crate::value::ToCql;
    let list = |t| ColumnType::List(Box::new(t));
    assert_eq!(vec![1i32].natural_type(), Some(list(ColumnType::Int)));
    // The first non-null element decides; with none, blob stands in (nothing is written).
    assert_eq!(
        vec![None, Some("a")].natural_type(),
        Some(list(ColumnType::Text))
    );
    assert_eq!(
        Vec::<i32>::new().natural_type(),
        Some(list(ColumnType::Blob))
    );
    assert_eq!(
        HashMap::from([("k", 1.5f64)]).natural_type(),
        Some(ColumnType::Map(
            Box::new(ColumnType::Text),
            Box::new(ColumnType::Double)
        ))
    );
    assert_eq!(
        (1i8, true).natural_type(),
        Some(ColumnType::Tuple(vec![
            ColumnType::TinyInt,
            ColumnType::Boolean
        ]))
    );
    assert_eq!(None::<i32>.natural_type(), None);
    assert_eq!(crate::Unset.natural_type(), None);
}
