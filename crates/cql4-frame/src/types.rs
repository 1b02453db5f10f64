//! CQL column types: the `[option]` type descriptions of native_protocol_v4.spec §4.2.5.2.
//!
//! A type is read once per result page (or once per prepared statement) and then drives the
//! decoding of every cell, so it is a plain owned tree. Nesting is bounded by
//! [`DecodeLimits::max_type_depth`]: the decoder carries an explicit depth and fails with
//! [`DecodeErrorKind::TooDeep`] instead of recursing without bound.

use std::fmt;

use crate::error::{DecodeError, DecodeErrorKind, DecodeResult, EncodeError};
use crate::limits::DecodeLimits;
use crate::reader::Reader;
use crate::writer::Writer;

/// The `[short]` id of an `[option]` type (native_protocol_v4.spec §4.2.5.2).
///
/// An open newtype: every `u16` is representable, and the named constants are the ids v4
/// defines. An id outside this table cannot be skipped (its payload length is unknown), so
/// [`ColumnType::decode`] rejects it with [`DecodeErrorKind::UnknownTypeId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(pub u16);

macro_rules! type_ids {
    ($($name:ident = $value:literal, $cql:literal;)*) => {
        impl TypeId {
            $(
                #[doc = concat!("`", $cql, "` (", stringify!($value), ").")]
                pub const $name: Self = Self($value);
            )*

            /// The name the spec table gives this id, if it is a v4 id.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $(Self::$name => Some($cql),)*
                    _ => None,
                }
            }
        }
    };
}

type_ids! {
    CUSTOM = 0x0000, "custom";
    ASCII = 0x0001, "ascii";
    BIGINT = 0x0002, "bigint";
    BLOB = 0x0003, "blob";
    BOOLEAN = 0x0004, "boolean";
    COUNTER = 0x0005, "counter";
    DECIMAL = 0x0006, "decimal";
    DOUBLE = 0x0007, "double";
    FLOAT = 0x0008, "float";
    INT = 0x0009, "int";
    TIMESTAMP = 0x000B, "timestamp";
    UUID = 0x000C, "uuid";
    VARCHAR = 0x000D, "varchar";
    VARINT = 0x000E, "varint";
    TIMEUUID = 0x000F, "timeuuid";
    INET = 0x0010, "inet";
    DATE = 0x0011, "date";
    TIME = 0x0012, "time";
    SMALLINT = 0x0013, "smallint";
    TINYINT = 0x0014, "tinyint";
    LIST = 0x0020, "list";
    MAP = 0x0021, "map";
    SET = 0x0022, "set";
    UDT = 0x0030, "udt";
    TUPLE = 0x0031, "tuple";
}

impl fmt::Display for TypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({:#06x})", self.0),
            None => write!(f, "{:#06x}", self.0),
        }
    }
}

/// The Java class Cassandra names the duration type with. Protocol v4 has no native id for
/// `duration` (0x0015 is v5 only), so a v4 server sends it as this custom type.
pub const DURATION_CLASS: &str = "org.apache.cassandra.db.marshal.DurationType";

/// A CQL type as the `[option]` of native_protocol_v4.spec §4.2.5.2 describes it.
///
/// Custom types whose class name is a known Cassandra marshal class without parameters
/// (`DurationType`, `UTF8Type`, `Int32Type`, …) decode as the type they name, so a v4
/// `duration` column is [`ColumnType::Duration`]. Encoding writes the canonical v4 form: the
/// native id where v4 has one, and the custom `DurationType` class for `duration`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColumnType {
    /// A custom type (0x0000) this codec does not know, by its fully qualified class name.
    Custom(String),
    /// `ascii` (0x0001).
    Ascii,
    /// `bigint` (0x0002).
    BigInt,
    /// `blob` (0x0003).
    Blob,
    /// `boolean` (0x0004).
    Boolean,
    /// `counter` (0x0005).
    Counter,
    /// `decimal` (0x0006).
    Decimal,
    /// `double` (0x0007).
    Double,
    /// `float` (0x0008).
    Float,
    /// `int` (0x0009).
    Int,
    /// `timestamp` (0x000B).
    Timestamp,
    /// `uuid` (0x000C).
    Uuid,
    /// `text` / `varchar` (0x000D).
    Text,
    /// `varint` (0x000E).
    Varint,
    /// `timeuuid` (0x000F).
    Timeuuid,
    /// `inet` (0x0010).
    Inet,
    /// `date` (0x0011).
    Date,
    /// `time` (0x0012).
    Time,
    /// `smallint` (0x0013).
    SmallInt,
    /// `tinyint` (0x0014).
    TinyInt,
    /// `duration`: custom [`DURATION_CLASS`] in v4.
    Duration,
    /// `list<T>` (0x0020).
    List(Box<Self>),
    /// `map<K, V>` (0x0021).
    Map(Box<Self>, Box<Self>),
    /// `set<T>` (0x0022).
    Set(Box<Self>),
    /// A user-defined type (0x0030).
    Udt(Box<UdtType>),
    /// `tuple<…>` (0x0031).
    Tuple(Vec<Self>),
}

/// A user-defined type's description (native_protocol_v4.spec §4.2.5.2, id 0x0030).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UdtType {
    /// The keyspace the type belongs to.
    pub keyspace: String,
    /// The type's name.
    pub name: String,
    /// The fields in declaration order: name and type.
    pub fields: Vec<(String, ColumnType)>,
}

/// Simple (parameterless) Cassandra marshal classes and the type each one names.
const KNOWN_CLASSES: &[(&str, ColumnType)] = &[
    ("DurationType", ColumnType::Duration),
    ("AsciiType", ColumnType::Ascii),
    ("LongType", ColumnType::BigInt),
    ("BytesType", ColumnType::Blob),
    ("BooleanType", ColumnType::Boolean),
    ("CounterColumnType", ColumnType::Counter),
    ("DecimalType", ColumnType::Decimal),
    ("DoubleType", ColumnType::Double),
    ("FloatType", ColumnType::Float),
    ("Int32Type", ColumnType::Int),
    ("TimestampType", ColumnType::Timestamp),
    ("UUIDType", ColumnType::Uuid),
    ("UTF8Type", ColumnType::Text),
    ("IntegerType", ColumnType::Varint),
    ("TimeUUIDType", ColumnType::Timeuuid),
    ("InetAddressType", ColumnType::Inet),
    ("SimpleDateType", ColumnType::Date),
    ("TimeType", ColumnType::Time),
    ("ShortType", ColumnType::SmallInt),
    ("ByteType", ColumnType::TinyInt),
];

const MARSHAL_PREFIX: &str = "org.apache.cassandra.db.marshal.";

/// The type a custom class name stands for, when it is a simple known marshal class.
fn known_class(class: &str) -> Option<ColumnType> {
    let short = class.strip_prefix(MARSHAL_PREFIX)?;
    KNOWN_CLASSES
        .iter()
        .find(|(name, _)| *name == short)
        .map(|(_, ty)| ty.clone())
}

impl ColumnType {
    /// Decodes one `[option]` type (native_protocol_v4.spec §4.2.5.2), nesting at most
    /// `limits.max_type_depth` levels.
    pub fn decode(r: &mut Reader<'_>, limits: &DecodeLimits) -> DecodeResult<Self> {
        Self::decode_at(r, limits, 0)
    }

    fn decode_at(r: &mut Reader<'_>, limits: &DecodeLimits, depth: usize) -> DecodeResult<Self> {
        const WHAT: &str = "type option";
        if depth >= limits.max_type_depth {
            return Err(r.error(
                DecodeErrorKind::TooDeep {
                    limit: limits.max_type_depth,
                },
                WHAT,
            ));
        }
        let at = r.position();
        let id = TypeId(r.u16("type option id")?);
        let ty = match id {
            TypeId::CUSTOM => {
                let class = r.string("custom type class name")?;
                known_class(class).unwrap_or_else(|| Self::Custom(class.to_owned()))
            }
            TypeId::ASCII => Self::Ascii,
            TypeId::BIGINT => Self::BigInt,
            TypeId::BLOB => Self::Blob,
            TypeId::BOOLEAN => Self::Boolean,
            TypeId::COUNTER => Self::Counter,
            TypeId::DECIMAL => Self::Decimal,
            TypeId::DOUBLE => Self::Double,
            TypeId::FLOAT => Self::Float,
            TypeId::INT => Self::Int,
            TypeId::TIMESTAMP => Self::Timestamp,
            TypeId::UUID => Self::Uuid,
            TypeId::VARCHAR => Self::Text,
            TypeId::VARINT => Self::Varint,
            TypeId::TIMEUUID => Self::Timeuuid,
            TypeId::INET => Self::Inet,
            TypeId::DATE => Self::Date,
            TypeId::TIME => Self::Time,
            TypeId::SMALLINT => Self::SmallInt,
            TypeId::TINYINT => Self::TinyInt,
            TypeId::LIST => Self::List(Box::new(Self::decode_at(r, limits, depth + 1)?)),
            TypeId::SET => Self::Set(Box::new(Self::decode_at(r, limits, depth + 1)?)),
            TypeId::MAP => {
                let key = Self::decode_at(r, limits, depth + 1)?;
                let value = Self::decode_at(r, limits, depth + 1)?;
                Self::Map(Box::new(key), Box::new(value))
            }
            TypeId::UDT => {
                let keyspace = r.string("udt keyspace")?.to_owned();
                let name = r.string("udt name")?.to_owned();
                let n = usize::from(r.u16("udt field count")?);
                // A field is at least a 2-byte name length and a 2-byte type id.
                let mut fields = Vec::with_capacity(r.capacity_for(n, 4));
                for _ in 0..n {
                    let field = r.string("udt field name")?.to_owned();
                    fields.push((field, Self::decode_at(r, limits, depth + 1)?));
                }
                Self::Udt(Box::new(UdtType {
                    keyspace,
                    name,
                    fields,
                }))
            }
            TypeId::TUPLE => {
                let n = usize::from(r.u16("tuple element count")?);
                let mut elements = Vec::with_capacity(r.capacity_for(n, 2));
                for _ in 0..n {
                    elements.push(Self::decode_at(r, limits, depth + 1)?);
                }
                Self::Tuple(elements)
            }
            other => {
                return Err(DecodeError::new(
                    DecodeErrorKind::UnknownTypeId(other.0),
                    WHAT,
                    at,
                ))
            }
        };
        Ok(ty)
    }

    /// Appends this type as an `[option]` (§4.2.5.2). A name longer than a `[string]` or more
    /// UDT fields or tuple elements than a `[short]` count fails, naming what.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.u16(self.type_id().0);
        match self {
            Self::Custom(class) => w.string(class, "custom type class")?,
            Self::Duration => w.string(DURATION_CLASS, "custom type class")?,
            Self::List(t) | Self::Set(t) => t.encode(w)?,
            Self::Map(k, v) => {
                k.encode(w)?;
                v.encode(w)?;
            }
            Self::Udt(udt) => {
                w.string(&udt.keyspace, "UDT keyspace")?;
                w.string(&udt.name, "UDT name")?;
                w.short_count(udt.fields.len(), "UDT field count")?;
                for (name, ty) in &udt.fields {
                    w.string(name, "UDT field name")?;
                    ty.encode(w)?;
                }
            }
            Self::Tuple(elements) => {
                w.short_count(elements.len(), "tuple element count")?;
                for ty in elements {
                    ty.encode(w)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The `[option]` id this type encodes with.
    pub fn type_id(&self) -> TypeId {
        match self {
            Self::Custom(_) | Self::Duration => TypeId::CUSTOM,
            Self::Ascii => TypeId::ASCII,
            Self::BigInt => TypeId::BIGINT,
            Self::Blob => TypeId::BLOB,
            Self::Boolean => TypeId::BOOLEAN,
            Self::Counter => TypeId::COUNTER,
            Self::Decimal => TypeId::DECIMAL,
            Self::Double => TypeId::DOUBLE,
            Self::Float => TypeId::FLOAT,
            Self::Int => TypeId::INT,
            Self::Timestamp => TypeId::TIMESTAMP,
            Self::Uuid => TypeId::UUID,
            Self::Text => TypeId::VARCHAR,
            Self::Varint => TypeId::VARINT,
            Self::Timeuuid => TypeId::TIMEUUID,
            Self::Inet => TypeId::INET,
            Self::Date => TypeId::DATE,
            Self::Time => TypeId::TIME,
            Self::SmallInt => TypeId::SMALLINT,
            Self::TinyInt => TypeId::TINYINT,
            Self::List(_) => TypeId::LIST,
            Self::Map(..) => TypeId::MAP,
            Self::Set(_) => TypeId::SET,
            Self::Udt(_) => TypeId::UDT,
            Self::Tuple(_) => TypeId::TUPLE,
        }
    }

    /// Nesting depth: 1 for a simple type, 1 + the deepest parameter otherwise.
    pub fn depth(&self) -> usize {
        // Iterative so that a hand-built, absurdly deep type cannot overflow the stack here.
        let mut deepest = 0;
        let mut stack: Vec<(&Self, usize)> = vec![(self, 1)];
        while let Some((ty, d)) = stack.pop() {
            deepest = deepest.max(d);
            match ty {
                Self::List(t) | Self::Set(t) => stack.push((t, d + 1)),
                Self::Map(k, v) => {
                    stack.push((k, d + 1));
                    stack.push((v, d + 1));
                }
                Self::Udt(udt) => stack.extend(udt.fields.iter().map(|(_, t)| (t, d + 1))),
                Self::Tuple(ts) => stack.extend(ts.iter().map(|t| (t, d + 1))),
                _ => {}
            }
        }
        deepest
    }

    /// True for the types whose empty (zero-length) value is an ordinary value rather than the
    /// legacy "empty" marker of native_protocol_v4.spec §6: text, ascii, blob and custom (the
    /// empty string or byte string), and UDT and tuple, whose values may stop before their last
    /// field (§7), so zero bytes is the value with every field null.
    pub fn empty_is_natural(&self) -> bool {
        matches!(
            self,
            Self::Ascii | Self::Text | Self::Blob | Self::Custom(_) | Self::Udt(_) | Self::Tuple(_)
        )
    }

    /// True for list, set and map.
    pub fn is_collection(&self) -> bool {
        matches!(self, Self::List(_) | Self::Set(_) | Self::Map(..))
    }

    fn fmt_nested(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Inside a collection, non-tuple multi-cell types must be frozen in CQL.
        if self.is_collection() || matches!(self, Self::Udt(_)) {
            write!(f, "frozen<{self}>")
        } else {
            fmt::Display::fmt(self, f)
        }
    }
}

impl fmt::Display for ColumnType {
    /// CQL syntax, e.g. `map<text, frozen<list<int>>>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Custom(class) => write!(f, "'{class}'"),
            Self::Ascii => f.write_str("ascii"),
            Self::BigInt => f.write_str("bigint"),
            Self::Blob => f.write_str("blob"),
            Self::Boolean => f.write_str("boolean"),
            Self::Counter => f.write_str("counter"),
            Self::Decimal => f.write_str("decimal"),
            Self::Double => f.write_str("double"),
            Self::Float => f.write_str("float"),
            Self::Int => f.write_str("int"),
            Self::Timestamp => f.write_str("timestamp"),
            Self::Uuid => f.write_str("uuid"),
            Self::Text => f.write_str("text"),
            Self::Varint => f.write_str("varint"),
            Self::Timeuuid => f.write_str("timeuuid"),
            Self::Inet => f.write_str("inet"),
            Self::Date => f.write_str("date"),
            Self::Time => f.write_str("time"),
            Self::SmallInt => f.write_str("smallint"),
            Self::TinyInt => f.write_str("tinyint"),
            Self::Duration => f.write_str("duration"),
            Self::List(t) => {
                f.write_str("list<")?;
                t.fmt_nested(f)?;
                f.write_str(">")
            }
            Self::Set(t) => {
                f.write_str("set<")?;
                t.fmt_nested(f)?;
                f.write_str(">")
            }
            Self::Map(k, v) => {
                f.write_str("map<")?;
                k.fmt_nested(f)?;
                f.write_str(", ")?;
                v.fmt_nested(f)?;
                f.write_str(">")
            }
            Self::Udt(udt) => write!(f, "{}.{}", udt.keyspace, udt.name),
            Self::Tuple(ts) => {
                f.write_str("tuple<")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    t.fmt_nested(f)?;
                }
                f.write_str(">")
            }
        }
    }
}

/// A type string that [`ColumnType::from_str`](std::str::FromStr::from_str) could not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseTypeError {
    /// Byte offset in the string.
    pub offset: usize,
    /// What was wrong.
    pub reason: &'static str,
}

impl fmt::Display for ParseTypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CQL type at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for ParseTypeError {}

impl std::str::FromStr for ColumnType {
    type Err = ParseTypeError;

    /// Parses CQL type syntax as [`Display`](fmt::Display) writes it: native names (`varchar`
    /// too), `list<T>`, `set<T>`, `map<K, V>`, `tuple<…>`, `frozen<T>` (the same type) and a
    /// quoted custom class (`'org.apache.cassandra.db.marshal.DurationType'`). User-defined
    /// types need their fields from the schema, so a UDT name is an error. Nesting is limited to
    /// [`DecodeLimits::DEFAULT_MAX_TYPE_DEPTH`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut p = TypeParser { s, pos: 0 };
        let ty = p.parse(0)?;
        p.skip_spaces();
        if p.pos != s.len() {
            return Err(p.error("unexpected text after the type"));
        }
        Ok(ty)
    }
}

struct TypeParser<'s> {
    s: &'s str,
    pos: usize,
}

impl<'s> TypeParser<'s> {
    fn error(&self, reason: &'static str) -> ParseTypeError {
        ParseTypeError {
            offset: self.pos,
            reason,
        }
    }

    fn rest(&self) -> &'s str {
        self.s.get(self.pos..).unwrap_or_default()
    }

    fn skip_spaces(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_spaces();
        if self.rest().starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char, reason: &'static str) -> Result<(), ParseTypeError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(reason))
        }
    }

    fn word(&mut self) -> &'s str {
        self.skip_spaces();
        let rest = self.rest();
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len());
        self.pos += len;
        rest.get(..len).unwrap_or_default()
    }

    fn parse(&mut self, depth: usize) -> Result<ColumnType, ParseTypeError> {
        if depth >= DecodeLimits::DEFAULT_MAX_TYPE_DEPTH {
            return Err(self.error("types nested too deep"));
        }
        self.skip_spaces();
        if self.eat('\'') {
            let rest = self.rest();
            let end = rest
                .find('\'')
                .ok_or_else(|| self.error("unterminated custom class"))?;
            let class = rest.get(..end).unwrap_or_default();
            self.pos += end + 1;
            return Ok(known_class(class).unwrap_or_else(|| ColumnType::Custom(class.to_owned())));
        }
        let start = self.pos;
        let name = self.word().to_ascii_lowercase();
        let simple = match name.as_str() {
            "ascii" => Some(ColumnType::Ascii),
            "bigint" => Some(ColumnType::BigInt),
            "blob" => Some(ColumnType::Blob),
            "boolean" => Some(ColumnType::Boolean),
            "counter" => Some(ColumnType::Counter),
            "decimal" => Some(ColumnType::Decimal),
            "double" => Some(ColumnType::Double),
            "float" => Some(ColumnType::Float),
            "int" => Some(ColumnType::Int),
            "timestamp" => Some(ColumnType::Timestamp),
            "uuid" => Some(ColumnType::Uuid),
            "text" | "varchar" => Some(ColumnType::Text),
            "varint" => Some(ColumnType::Varint),
            "timeuuid" => Some(ColumnType::Timeuuid),
            "inet" => Some(ColumnType::Inet),
            "date" => Some(ColumnType::Date),
            "time" => Some(ColumnType::Time),
            "smallint" => Some(ColumnType::SmallInt),
            "tinyint" => Some(ColumnType::TinyInt),
            "duration" => Some(ColumnType::Duration),
            _ => None,
        };
        if let Some(ty) = simple {
            return Ok(ty);
        }
        let open = |p: &mut Self| p.expect('<', "expected '<'");
        let close = |p: &mut Self| p.expect('>', "expected '>'");
        let ty = match name.as_str() {
            "list" | "set" | "frozen" => {
                open(self)?;
                let inner = self.parse(depth + 1)?;
                close(self)?;
                match name.as_str() {
                    "list" => ColumnType::List(Box::new(inner)),
                    "set" => ColumnType::Set(Box::new(inner)),
                    _ => inner,
                }
            }
            "map" => {
                open(self)?;
                let k = self.parse(depth + 1)?;
                self.expect(',', "expected ',' between map key and value types")?;
                let v = self.parse(depth + 1)?;
                close(self)?;
                ColumnType::Map(Box::new(k), Box::new(v))
            }
            "tuple" => {
                open(self)?;
                let mut elements = vec![self.parse(depth + 1)?];
                while self.eat(',') {
                    elements.push(self.parse(depth + 1)?);
                }
                close(self)?;
                ColumnType::Tuple(elements)
            }
            "" => {
                self.pos = start;
                return Err(self.error("expected a type"));
            }
            _ => {
                self.pos = start;
                return Err(self.error("unknown type (user-defined types need the schema)"));
            }
        };
        Ok(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> DecodeResult<ColumnType> {
        let mut r = Reader::new(bytes);
        let ty = ColumnType::decode(&mut r, &DecodeLimits::default())?;
        r.expect_end("test")?;
        Ok(ty)
    }

    fn enc(ty: &ColumnType) -> Vec<u8> {
        let mut out = Vec::new();
        ty.encode(&mut Writer::new(&mut out)).unwrap();
        out
    }

    fn put_string(out: &mut Vec<u8>, s: &str) {
        Writer::new(out).string(s, "test").unwrap();
    }

    #[test]
    fn too_many_tuple_elements_or_too_long_a_name_is_refused() {
        let tuple = ColumnType::Tuple(vec![ColumnType::Int; 65_536]);
        let err = tuple.encode(&mut Writer::new(&mut Vec::new())).unwrap_err();
        assert_eq!(
            err,
            EncodeError::TooLong {
                what: "tuple element count",
                length: 65_536,
                max: 65_535
            }
        );
        let custom = ColumnType::Custom("x".repeat(65_536));
        assert!(custom.encode(&mut Writer::new(&mut Vec::new())).is_err());
    }

    #[test]
    fn map_of_text_to_frozen_list_of_int() {
        // 0x0021 map, key 0x000D varchar, value 0x0020 list of 0x0009 int.
        let bytes = [0x00, 0x21, 0x00, 0x0D, 0x00, 0x20, 0x00, 0x09];
        let ty = decode(&bytes).unwrap();
        assert_eq!(
            ty,
            ColumnType::Map(
                Box::new(ColumnType::Text),
                Box::new(ColumnType::List(Box::new(ColumnType::Int)))
            )
        );
        assert_eq!(ty.to_string(), "map<text, frozen<list<int>>>");
        let out = enc(&ty);
        assert_eq!(out, bytes);
    }

    #[test]
    fn duration_custom_class_decodes_as_duration_and_round_trips() {
        let mut bytes = vec![0x00, 0x00];
        put_string(&mut bytes, DURATION_CLASS);
        let ty = decode(&bytes).unwrap();
        assert_eq!(ty, ColumnType::Duration);
        let out = enc(&ty);
        assert_eq!(out, bytes);
    }

    #[test]
    fn known_marshal_class_decodes_as_native_type() {
        let mut bytes = vec![0x00, 0x00];
        put_string(&mut bytes, "org.apache.cassandra.db.marshal.Int32Type");
        assert_eq!(decode(&bytes).unwrap(), ColumnType::Int);
        let mut bytes = vec![0x00, 0x00];
        put_string(&mut bytes, "com.example.MyType");
        assert_eq!(
            decode(&bytes).unwrap(),
            ColumnType::Custom("com.example.MyType".into())
        );
    }

    #[test]
    fn unknown_id_names_the_id() {
        let err = decode(&[0x00, 0x15]).unwrap_err();
        assert_eq!(err.kind(), &DecodeErrorKind::UnknownTypeId(0x0015));
        assert_eq!(err.offset(), 0);
        let err = decode(&[0x00, 0x20, 0x00, 0x0A]).unwrap_err();
        assert_eq!(err.kind(), &DecodeErrorKind::UnknownTypeId(0x000A));
        assert_eq!(err.offset(), 2);
    }

    #[test]
    fn nesting_past_the_limit_is_too_deep() {
        let limits = DecodeLimits::default();
        let mut bytes = Vec::new();
        for _ in 0..limits.max_type_depth {
            bytes.extend_from_slice(&[0x00, 0x20]);
        }
        bytes.extend_from_slice(&[0x00, 0x09]);
        let err = decode(&bytes).unwrap_err();
        assert_eq!(
            err.kind(),
            &DecodeErrorKind::TooDeep {
                limit: limits.max_type_depth
            }
        );
        // One level less is accepted.
        let ok = decode(bytes.get(2..).unwrap()).unwrap();
        assert_eq!(ok.depth(), limits.max_type_depth);
    }

    #[test]
    fn udt_and_tuple_display_and_round_trip() {
        let ty = ColumnType::Udt(Box::new(UdtType {
            keyspace: "ks".into(),
            name: "addr".into(),
            fields: vec![
                ("street".into(), ColumnType::Text),
                (
                    "tags".into(),
                    ColumnType::Tuple(vec![
                        ColumnType::Int,
                        ColumnType::Set(Box::new(ColumnType::Text)),
                    ]),
                ),
            ],
        }));
        assert_eq!(ty.to_string(), "ks.addr");
        assert_eq!(
            ColumnType::List(Box::new(ty.clone())).to_string(),
            "list<frozen<ks.addr>>"
        );
        let out = enc(&ty);
        assert_eq!(decode(&out).unwrap(), ty);
    }

    #[test]
    fn parse_cql_syntax() {
        let ty: ColumnType = "map<text, frozen<list<int>>>".parse().unwrap();
        assert_eq!(
            ty,
            ColumnType::Map(
                Box::new(ColumnType::Text),
                Box::new(ColumnType::List(Box::new(ColumnType::Int)))
            )
        );
        assert_eq!(
            " tuple< VARCHAR ,set<date>>".parse::<ColumnType>().unwrap(),
            ColumnType::Tuple(vec![
                ColumnType::Text,
                ColumnType::Set(Box::new(ColumnType::Date))
            ])
        );
        assert_eq!(
            format!("'{DURATION_CLASS}'").parse::<ColumnType>().unwrap(),
            ColumnType::Duration
        );
        assert_eq!("'a.B'".parse::<ColumnType>().unwrap().to_string(), "'a.B'");
        for (bad, offset) in [
            ("", 0),
            ("list<int", 8),
            ("map<int>", 7),
            ("ks.address", 0),
            ("int int", 4),
            ("'x", 1),
        ] {
            let err = bad.parse::<ColumnType>().unwrap_err();
            assert_eq!(err.offset, offset, "{bad}: {err}");
        }
        let deep = format!("{}int{}", "list<".repeat(100), ">".repeat(100));
        assert!(deep.parse::<ColumnType>().is_err());
    }

    #[test]
    fn udt_field_count_beyond_body_fails_without_reserving() {
        // udt "k"."u" claiming 65535 fields with none present.
        let bytes = [0x00, 0x30, 0x00, 0x01, b'k', 0x00, 0x01, b'u', 0xff, 0xff];
        let err = decode(&bytes).unwrap_err();
        assert!(matches!(err.kind(), DecodeErrorKind::Truncated { .. }));
    }
}
