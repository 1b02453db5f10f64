//! Borrowed fields of derived rows and UDTs: `&str`, `&[u8]` and the lazy collection views
//! (`ListIter`, `MapIter`) read straight from the page's bytes, nothing copied.

use std::ops::Range;

use bytes::Bytes;
use cql4_frame::rows::{ColumnSpec, ResultMetadata, Rows};
use cql4_frame::types::{ColumnType, UdtType};
use cql4_frame::value::{ListIter, MapIter};
use cql4_frame::{DecodeErrorKind, DecodeLimits, DecodeResult, Reader, Writer};
use cql4_macros::{FromCql, FromRow};

/// `CREATE TYPE ks.address (street text, lines list<text>)`
#[derive(Debug, FromCql)]
struct Address<'a> {
    street: &'a str,
    lines: ListIter<'a, &'a str>,
}

#[derive(Debug, FromRow)]
struct Profile<'a> {
    name: &'a str,
    avatar: &'a [u8],
    tags: ListIter<'a, &'a str>,
    scores: MapIter<'a, &'a str, i32>,
    nickname: Option<&'a str>,
    home: Address<'a>,
}

fn list_of(items: &[&[u8]]) -> Vec<u8> {
    let mut out = i32::try_from(items.len())
        .expect("n")
        .to_be_bytes()
        .to_vec();
    for item in items {
        out.extend_from_slice(&i32::try_from(item.len()).expect("len").to_be_bytes());
        out.extend_from_slice(item);
    }
    out
}

fn columns() -> Vec<ColumnSpec> {
    let text = || Box::new(ColumnType::Text);
    let address = ColumnType::Udt(Box::new(UdtType {
        keyspace: "ks".into(),
        name: "address".into(),
        fields: vec![
            ("street".into(), ColumnType::Text),
            ("lines".into(), ColumnType::List(text())),
        ],
    }));
    vec![
        ColumnSpec::new("home", address),
        ColumnSpec::new("scores", ColumnType::Map(text(), Box::new(ColumnType::Int))),
        ColumnSpec::new("name", ColumnType::Text),
        ColumnSpec::new("avatar", ColumnType::Blob),
        ColumnSpec::new("tags", ColumnType::Set(text())),
        ColumnSpec::new("nickname", ColumnType::Ascii),
    ]
}

/// One row's page, and the body it was decoded from.
fn page(cells: &[Option<Vec<u8>>]) -> (Bytes, Rows) {
    let mut body = Vec::new();
    ResultMetadata::new(None, columns())
        .encode(&mut Writer::new(&mut body))
        .expect("metadata encodes");
    body.extend_from_slice(&1i32.to_be_bytes());
    for cell in cells {
        match cell {
            Some(v) => {
                body.extend_from_slice(&i32::try_from(v.len()).expect("len").to_be_bytes());
                body.extend_from_slice(v);
            }
            None => body.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }
    let body = Bytes::from(body);
    let rows = Rows::decode(&body, &mut Reader::new(&body), &DecodeLimits::default())
        .expect("the page decodes");
    (body, rows)
}

fn cells() -> Vec<Option<Vec<u8>>> {
    let mut scores = 2i32.to_be_bytes().to_vec();
    for (k, v) in [("go", 3i32), ("chess", 9)] {
        scores.extend_from_slice(&list_of(&[k.as_bytes(), &v.to_be_bytes()])[4..]);
    }
    let mut home = list_of(&[b"Main St"]).split_off(4);
    home.extend_from_slice(&(list_of(&[&list_of(&[b"flat 2", b"floor 3"])]).split_off(4)));
    vec![
        Some(home),
        Some(scores),
        Some(b"ada".to_vec()),
        Some(vec![0xca, 0xfe]),
        Some(list_of(&[b"math", b"poetry"])),
        None,
    ]
}

/// True when `s` lies inside `body`: borrowed, not copied.
fn within(body: &Bytes, s: &[u8]) -> bool {
    let Range { start, end } = body.as_ptr_range();
    let r = s.as_ptr_range();
    start <= r.start && r.end <= end
}

#[test]
fn borrowed_fields_and_lazy_views_read_from_the_page() {
    let (body, rows) = page(&cells());
    let profile: Profile<'_> = rows
        .typed()
        .next()
        .expect("one row")
        .expect("the row reads");
    assert_eq!(profile.name, "ada");
    assert!(within(&body, profile.name.as_bytes()));
    assert_eq!(profile.avatar, [0xca, 0xfe]);
    assert!(within(&body, profile.avatar));
    assert_eq!(profile.nickname, None);

    assert_eq!(profile.tags.len(), 2);
    let tags: Vec<&str> = profile.tags.collect::<DecodeResult<_>>().expect("tags");
    assert_eq!(tags, ["math", "poetry"]);
    assert!(tags.iter().all(|t| within(&body, t.as_bytes())));

    let scores: Vec<(&str, i32)> = profile.scores.collect::<DecodeResult<_>>().expect("map");
    assert_eq!(scores, [("go", 3), ("chess", 9)]);
    assert!(within(&body, scores[1].0.as_bytes()));

    assert_eq!(profile.home.street, "Main St");
    assert!(within(&body, profile.home.street.as_bytes()));
    let lines: Vec<&str> = profile
        .home
        .lines
        .collect::<DecodeResult<_>>()
        .expect("lines");
    assert_eq!(lines, ["flat 2", "floor 3"]);
    assert!(within(&body, lines[0].as_bytes()));
}

#[test]
fn lazy_views_are_type_checked_with_the_page_and_fail_lazily_on_bad_elements() {
    // A list element of 2 bytes read as text is fine; as the map's int value it is not.
    let mut bad = cells();
    let mut scores = 1i32.to_be_bytes().to_vec();
    scores.extend_from_slice(&list_of(&[b"go", &[0, 3]])[4..]);
    bad[1] = Some(scores);
    let (_body, rows) = page(&bad);
    let profile: Profile<'_> = rows
        .typed()
        .next()
        .expect("one row")
        .expect("the row reads: map entries are decoded when iterated");
    let err = profile
        .scores
        .collect::<DecodeResult<Vec<_>>>()
        .unwrap_err();
    assert!(
        matches!(err.kind(), DecodeErrorKind::InValue { .. }),
        "{err:?}"
    );

    // A view of the wrong element type fails the page's check, naming the column.
    #[derive(Debug, FromRow)]
    struct WrongElements<'a> {
        #[allow(dead_code)]
        tags: ListIter<'a, i32>,
    }
    let (_body, rows) = page(&cells());
    let err = rows
        .typed::<WrongElements<'_>>()
        .next()
        .expect("item")
        .unwrap_err();
    assert_eq!(
        err.kind().to_string(),
        "column tags: cannot read CQL type text as i32"
    );
}
