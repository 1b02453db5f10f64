//! `#[derive(FromCql, ToCql)]` against UDT column types built as a server describes them.

use cql4_frame::bind::SerializeRow;
use cql4_frame::rows::ColumnSpec;
use cql4_frame::types::{ColumnType, UdtType};
use cql4_frame::value::{write_value, FromCql, IsNull, ToCql};
use cql4_frame::{DecodeErrorKind, DecodeResult, EncodeError};
use cql4_macros::{FromCql, SerializeRow, ToCql};

fn udt(fields: &[(&str, ColumnType)]) -> ColumnType {
    ColumnType::Udt(Box::new(UdtType {
        keyspace: "ks".into(),
        name: "address".into(),
        fields: fields
            .iter()
            .map(|(n, t)| ((*n).to_owned(), t.clone()))
            .collect(),
    }))
}

/// The UDT as the struct was written against it: declared zip_code, street, note.
fn address_type() -> ColumnType {
    udt(&[
        ("zip_code", ColumnType::Int),
        ("street", ColumnType::Text),
        ("note", ColumnType::Text),
    ])
}

#[derive(Debug, Clone, PartialEq, FromCql, ToCql)]
struct Address {
    street: String,
    #[cql(rename = "zip_code")]
    zip: i32,
    note: Option<String>,
}

#[derive(Debug, PartialEq, FromCql)]
struct BorrowedAddress<'a> {
    street: &'a str,
    note: Option<&'a str>,
}

/// The bytes of `v` as type `ty` (no length prefix).
fn write<T: ToCql>(v: &T, ty: &ColumnType) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    assert_eq!(
        v.to_cql(ty, &mut cql4_frame::Writer::new(&mut out))?,
        IsNull::No
    );
    Ok(out)
}

/// `ty` checked, then `raw` read, as a column's cell is.
fn read<'a, T: FromCql<'a>>(ty: &'a ColumnType, raw: &'a [u8]) -> DecodeResult<T> {
    T::type_check(ty).map_err(|k| cql4_frame::DecodeError::new(k, "test", 0))?;
    T::from_cql(ty, Some(raw))
}

fn ada() -> Address {
    Address {
        street: "Main".into(),
        zip: 7,
        note: None,
    }
}

#[test]
fn writes_in_the_udts_declared_order_and_reads_back() {
    let ty = address_type();
    let bytes = write(&ada(), &ty).expect("writes");
    assert_eq!(
        bytes,
        [
            0, 0, 0, 4, 0, 0, 0, 7, // zip_code
            0, 0, 0, 4, b'M', b'a', b'i', b'n', // street
            0xff, 0xff, 0xff, 0xff, // note: null
        ]
    );
    assert_eq!(read::<Address>(&ty, &bytes), Ok(ada()));
    let borrowed: BorrowedAddress<'_> = read(&ty, &bytes).expect("reads");
    assert_eq!(
        borrowed,
        BorrowedAddress {
            street: "Main",
            note: None
        }
    );
}

#[test]
fn fields_added_to_the_udt_later_are_skipped_reading_and_null_writing() {
    // country was added between street and note, planet after note.
    let ty = udt(&[
        ("zip_code", ColumnType::Int),
        ("street", ColumnType::Text),
        ("country", ColumnType::Text),
        ("note", ColumnType::Text),
        ("planet", ColumnType::Text),
    ]);
    let value = Address {
        note: Some("n".into()),
        ..ada()
    };
    let bytes = write(&value, &ty).expect("writes");
    // country (before note) null; planet (after the struct's last field) not written at all.
    assert_eq!(
        bytes,
        [
            0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0, 4, b'M', b'a', b'i', b'n', 0xff, 0xff, 0xff, 0xff, 0,
            0, 0, 1, b'n',
        ]
    );
    // A value the server sends with the new fields set: they are skipped.
    let mut full = bytes.clone();
    full.splice(16..20, [0, 0, 0, 2, b'u', b'k']);
    full.extend_from_slice(&[0, 0, 0, 5, b'e', b'a', b'r', b't', b'h']);
    assert_eq!(read::<Address>(&ty, &full), Ok(value));
}

#[test]
fn a_value_ending_early_reads_its_missing_trailing_fields_as_null() {
    let ty = address_type();
    // Only zip_code and street: note (Option) is None.
    let bytes = [0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0, 4, b'M', b'a', b'i', b'n'];
    assert_eq!(read::<Address>(&ty, &bytes), Ok(ada()));
    // Only zip_code: street is not an Option, and the error names it.
    let err = read::<Address>(&ty, &bytes[..8]).unwrap_err();
    assert_eq!(
        err.kind().to_string(),
        "in value ks.address field street: null value read into a non-Option type"
    );
    // More fields than the type declares is malformed, not ignored.
    let mut long = write(&ada(), &ty).expect("writes");
    long.extend_from_slice(&[0, 0, 0, 0]);
    assert!(read::<Address>(&ty, &long).is_err());
}

#[test]
fn type_errors_name_the_udt_field_and_both_types() {
    let ty = udt(&[
        ("zip_code", ColumnType::BigInt),
        ("street", ColumnType::Text),
        ("note", ColumnType::Text),
    ]);
    let err = Address::type_check(&ty).unwrap_err();
    assert_eq!(
        err.to_string(),
        "in value ks.address field zip_code: cannot read CQL type bigint as i32"
    );
    let err = write(&ada(), &ty).unwrap_err();
    assert_eq!(
        err.to_string(),
        "UDT ks.address field zip_code: encoding i32: value does not match CQL type bigint"
    );

    // A struct field the UDT does not have.
    let ty = udt(&[("zip_code", ColumnType::Int), ("street", ColumnType::Text)]);
    assert_eq!(
        Address::type_check(&ty),
        Err(DecodeErrorKind::NoSuchField {
            udt: "ks.address".into(),
            field: "note".into()
        })
    );
    assert_eq!(
        write(&ada(), &ty).unwrap_err().to_string(),
        "UDT ks.address has no field note"
    );

    // Not a UDT at all.
    assert_eq!(
        Address::type_check(&ColumnType::Int)
            .unwrap_err()
            .to_string(),
        "cannot read CQL type int as Address"
    );
    assert_eq!(
        write(&ada(), &ColumnType::Int).unwrap_err().to_string(),
        "encoding Address: value does not match CQL type int"
    );
}

#[test]
fn null_and_nested_udt_values() {
    let ty = address_type();
    // A null UDT: an error for the struct, None for an Option of it.
    assert_eq!(
        Address::from_cql(&ty, None).unwrap_err().kind(),
        &DecodeErrorKind::UnexpectedNull
    );
    assert_eq!(Option::<Address>::from_cql(&ty, None), Ok(None));

    // A list<frozen<address>>, written and read back, errors naming the element and field.
    let list = ColumnType::List(Box::new(ty.clone()));
    let values = vec![ada(), Address { zip: 9, ..ada() }];
    let bytes = write(&values, &list).expect("writes");
    assert_eq!(read::<Vec<Address>>(&list, &bytes), Ok(values));
    let mut bad = bytes.clone();
    // Element 0's street length 4 -> 3 leaves a stray byte inside the element: malformed.
    bad[4 + 4 + 8 + 3] = 3;
    let err = read::<Vec<Address>>(&list, &bad).unwrap_err();
    assert!(
        err.kind()
            .to_string()
            .starts_with("in value list<frozen<ks.address>> element 0 / ks.address field note: "),
        "{}",
        err.kind()
    );
}

#[test]
fn a_udt_field_binds_through_a_derived_row() {
    #[derive(SerializeRow)]
    struct Row {
        id: i32,
        home: Address,
    }
    let markers = [
        ColumnSpec::new("home", address_type()),
        ColumnSpec::new("id", ColumnType::Int),
    ];
    let mut out = Vec::new();
    Row { id: 1, home: ada() }
        .serialize_row(&markers, &mut cql4_frame::Writer::new(&mut out))
        .expect("binds");
    let mut expected = Vec::new();
    write_value(&ada(), &address_type(), &mut expected).expect("writes");
    write_value(&1i32, &ColumnType::Int, &mut expected).expect("writes");
    assert_eq!(out, expected);
}

#[test]
fn every_truncation_of_a_value_fails_cleanly_unless_it_ends_between_fields() {
    let ty = address_type();
    let bytes = write(&ada(), &ty).expect("writes");
    for len in 0..=bytes.len() {
        let got = read::<Address>(&ty, &bytes[..len]);
        // 16: zip_code and street, note left off (null); 20: all three.
        assert_eq!(got.is_ok(), len == 16 || len == 20, "{len}: {got:?}");
    }
    // Every single-byte corruption reads or fails, never panics, and a length made negative
    // other than -1 is refused.
    for i in 0..bytes.len() {
        for b in [0x00, 0x7f, 0x80, 0xff] {
            let mut bad = bytes.clone();
            bad[i] = b;
            let _ = read::<Address>(&ty, &bad);
        }
    }
    let mut bad = bytes.clone();
    bad[0] = 0xfe;
    assert!(read::<Address>(&ty, &bad).is_err());
}
