//! `uuid::Uuid` for CQL uuid and timeuuid (native_protocol_v4.spec §6.21, §6.19): the 16
//! bytes as they are. A timeuuid column accepts any `Uuid` here; the server refuses one that
//! is not version 1.

use uuid::Uuid;

use super::{check, mismatch, DecodeError, DecodeErrorKind, DecodeResult, EncodeError};
use super::{ColumnType, FromCql, IsNull, ToCql};

via!(
    Uuid,
    "Uuid",
    [u8; 16],
    ColumnType::Uuid | ColumnType::Timeuuid,
    |c| Some(Uuid::from_bytes(c)),
    "unreachable: every 16 bytes are a Uuid",
    |v| Some(*v.as_bytes()),
    "unreachable: every Uuid is 16 bytes"
);

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use crate::error::{DecodeErrorKind, EncodeError};
    use crate::types::ColumnType;
    use crate::value::{write_value, FromCql};

    const BYTES: [u8; 16] = [
        0x55, 0x0e, 0x84, 0x00, 0xe2, 0x9b, 0x41, 0xd4, 0xa7, 0x16, 0x44, 0x66, 0x55, 0x44, 0x00,
        0x00,
    ];

    #[test]
    fn uuid_round_trips_as_uuid_and_timeuuid() {
        let id = Uuid::from_bytes(BYTES);
        for ty in [ColumnType::Uuid, ColumnType::Timeuuid] {
            let mut out = Vec::new();
            write_value(&id, &ty, &mut out).expect("writes");
            assert_eq!(out.get(4..), Some(&BYTES[..]));
            assert_eq!(Uuid::type_check(&ty), Ok(()));
            assert_eq!(Uuid::from_cql(&ty, Some(&BYTES)), Ok(id));
        }
    }

    #[test]
    fn uuid_refuses_other_types_and_wrong_lengths() {
        let id = Uuid::from_bytes(BYTES);
        assert_eq!(
            write_value(&id, &ColumnType::Text, &mut Vec::new()),
            Err(EncodeError::TypeMismatch {
                what: "Uuid",
                cql: "text".into()
            })
        );
        assert_eq!(
            Uuid::type_check(&ColumnType::Blob),
            Err(DecodeErrorKind::TypeMismatch {
                rust: "Uuid",
                cql: "blob".into()
            })
        );
        assert!(Uuid::from_cql(&ColumnType::Uuid, Some(&BYTES[..15])).is_err());
        assert_eq!(
            Uuid::from_cql(&ColumnType::Uuid, None).map_err(|e| e.kind().clone()),
            Err(DecodeErrorKind::UnexpectedNull)
        );
    }
}
