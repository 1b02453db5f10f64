//! CQL types as `system_schema` writes them (`frozen<map<text, list<int>>>`, `vector<float, 3>`,
//! UDT names, quoted identifiers, `'org.apache…'` custom types), parsed with a bounded depth.

use std::fmt;

use crate::ident::{quote, string_literal};

/// Nesting deeper than this is refused: the parser recurses once per level, and no schema
/// needs more (Cassandra itself nests types a few levels deep at most).
pub const MAX_TYPE_DEPTH: usize = 32;

/// A CQL type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CqlType {
    /// A native type (`int`, `text`, …).
    Native(NativeType),
    /// `list<T>`.
    List(Box<Self>),
    /// `set<T>`.
    Set(Box<Self>),
    /// `map<K, V>`.
    Map(Box<Self>, Box<Self>),
    /// `tuple<T1, T2, …>`.
    Tuple(Vec<Self>),
    /// `vector<T, N>`.
    Vector(Box<Self>, u32),
    /// `frozen<T>`.
    Frozen(Box<Self>),
    /// A user-defined type of the same keyspace, by name (unquoted).
    Udt(String),
    /// A custom type: its Java class name, written `'org.apache.…'`.
    Custom(String),
}

macro_rules! native_types {
    ($($variant:ident => $name:literal,)*) => {
        /// The native CQL types.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum NativeType {
            $(#[doc = concat!("`", $name, "`")] $variant,)*
        }

        impl NativeType {
            /// The type's CQL name.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }

            /// The native type named `name` (lower case), if there is one. `varchar` is `text`.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($name => Some(Self::$variant),)*
                    "varchar" => Some(Self::Text),
                    _ => None,
                }
            }
        }
    };
}

native_types! {
    Ascii => "ascii",
    Bigint => "bigint",
    Blob => "blob",
    Boolean => "boolean",
    Counter => "counter",
    Date => "date",
    Decimal => "decimal",
    Double => "double",
    Duration => "duration",
    Float => "float",
    Inet => "inet",
    Int => "int",
    Smallint => "smallint",
    Text => "text",
    Time => "time",
    Timestamp => "timestamp",
    Timeuuid => "timeuuid",
    Tinyint => "tinyint",
    Uuid => "uuid",
    Varint => "varint",
}

impl CqlType {
    /// Parses a type string of `system_schema` (or of a CREATE statement).
    pub fn parse(text: &str) -> Result<Self, TypeError> {
        let mut p = Parser {
            text,
            pos: 0,
            depth: 0,
        };
        let ty = p.ty()?;
        p.skip_ws();
        if p.pos != text.len() {
            return Err(p.error("trailing text after the type"));
        }
        Ok(ty)
    }

    /// The type without its outer `frozen<…>`: function signatures are written so.
    pub fn unfrozen(&self) -> &Self {
        match self {
            Self::Frozen(inner) => inner,
            other => other,
        }
    }

    /// True for a multi-cell type: a collection or a UDT that is not frozen (Cassandra stores
    /// its elements as cells of their own, and orders such columns after the others).
    pub fn is_multi_cell(&self) -> bool {
        matches!(
            self,
            Self::List(_) | Self::Set(_) | Self::Map(..) | Self::Udt(_)
        )
    }

    /// The UDT names this type uses, at any depth.
    pub fn udt_names<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Self::Udt(name) => out.push(name),
            Self::List(t) | Self::Set(t) | Self::Vector(t, _) | Self::Frozen(t) => t.udt_names(out),
            Self::Map(k, v) => {
                k.udt_names(out);
                v.udt_names(out);
            }
            Self::Tuple(ts) => ts.iter().for_each(|t| t.udt_names(out)),
            Self::Native(_) | Self::Custom(_) => {}
        }
    }
}

impl fmt::Display for CqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Native(n) => f.write_str(n.name()),
            Self::List(t) => write!(f, "list<{t}>"),
            Self::Set(t) => write!(f, "set<{t}>"),
            Self::Map(k, v) => write!(f, "map<{k}, {v}>"),
            Self::Tuple(ts) => {
                f.write_str("tuple<")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str(">")
            }
            Self::Vector(t, n) => write!(f, "vector<{t}, {n}>"),
            Self::Frozen(t) => write!(f, "frozen<{t}>"),
            Self::Udt(name) => f.write_str(&quote(name)),
            Self::Custom(class) => f.write_str(&string_literal(class)),
        }
    }
}

/// A type string that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeError {
    /// The type string.
    pub text: String,
    /// Byte offset in it where parsing stopped.
    pub offset: usize,
    /// What was wrong.
    pub reason: &'static str,
}

impl fmt::Display for TypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid CQL type {:?} at byte {}: {}",
            self.text, self.offset, self.reason
        )
    }
}

impl std::error::Error for TypeError {}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, reason: &'static str) -> TypeError {
        TypeError {
            text: self.text.to_owned(),
            offset: self.pos,
            reason,
        }
    }

    fn rest(&self) -> &str {
        self.text.get(self.pos..).unwrap_or_default()
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.rest().starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char, reason: &'static str) -> Result<(), TypeError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(reason))
        }
    }

    /// `'…'` or `"…"` with the quote doubled inside; the position is on the opening quote.
    fn quoted(&mut self, q: char) -> Result<String, TypeError> {
        let start = self.pos;
        let mut out = String::new();
        let mut chars = self.rest().char_indices().skip(1).peekable();
        while let Some((i, c)) = chars.next() {
            if c == q {
                if chars.peek().is_some_and(|&(_, n)| n == q) {
                    chars.next();
                    out.push(q);
                    continue;
                }
                self.pos = start + i + 1;
                return Ok(out);
            }
            out.push(c);
        }
        Err(self.error("unterminated quote"))
    }

    fn word(&mut self) -> &str {
        let rest = self.rest();
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len());
        let start = self.pos;
        self.pos += len;
        self.text.get(start..start + len).unwrap_or_default()
    }

    fn ty(&mut self) -> Result<CqlType, TypeError> {
        self.depth += 1;
        if self.depth > MAX_TYPE_DEPTH {
            return Err(self.error("type nested too deep"));
        }
        let ty = self.ty_inner();
        self.depth -= 1;
        ty
    }

    fn ty_inner(&mut self) -> Result<CqlType, TypeError> {
        self.skip_ws();
        if self.rest().starts_with('\'') {
            return Ok(CqlType::Custom(self.quoted('\'')?));
        }
        if self.rest().starts_with('"') {
            return Ok(CqlType::Udt(self.quoted('"')?));
        }
        let word = self.word().to_owned();
        if word.is_empty() {
            return Err(self.error("expected a type"));
        }
        let lower = word.to_ascii_lowercase();
        let one = |p: &mut Self| -> Result<CqlType, TypeError> {
            p.expect('<', "expected '<'")?;
            let t = p.ty()?;
            p.expect('>', "expected '>'")?;
            Ok(t)
        };
        Ok(match lower.as_str() {
            "list" => CqlType::List(Box::new(one(self)?)),
            "set" => CqlType::Set(Box::new(one(self)?)),
            "frozen" => CqlType::Frozen(Box::new(one(self)?)),
            "map" => {
                self.expect('<', "expected '<'")?;
                let k = self.ty()?;
                self.expect(',', "expected ','")?;
                let v = self.ty()?;
                self.expect('>', "expected '>'")?;
                CqlType::Map(Box::new(k), Box::new(v))
            }
            "tuple" => {
                self.expect('<', "expected '<'")?;
                let mut items = vec![self.ty()?];
                while self.eat(',') {
                    items.push(self.ty()?);
                }
                self.expect('>', "expected '>'")?;
                CqlType::Tuple(items)
            }
            "vector" => {
                self.expect('<', "expected '<'")?;
                let t = self.ty()?;
                self.expect(',', "expected ','")?;
                self.skip_ws();
                let n = self
                    .word()
                    .parse::<u32>()
                    .map_err(|_| self.error("expected the vector's dimension"))?;
                self.expect('>', "expected '>'")?;
                CqlType::Vector(Box::new(t), n)
            }
            _ => match NativeType::from_name(&lower) {
                Some(n) => CqlType::Native(n),
                // Unquoted names are case-insensitive in CQL; system_schema writes them as
                // stored (lower case unless quoted).
                None if word.contains('.') => return Err(self.error("unexpected '.' in a type")),
                None => CqlType::Udt(lower),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(s: &str) {
        let t = CqlType::parse(s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.to_string(), s);
    }

    #[test]
    fn system_schema_types_round_trip() {
        for s in [
            "int",
            "frozen<map<text, list<int>>>",
            "map<frozen<set<int>>, frozen<list<text>>>",
            "vector<float, 3>",
            "frozen<tuple<int, text, frozen<list<int>>>>",
            "frozen<person>",
            "list<frozen<\"Address Book\">>",
            "'org.apache.cassandra.db.marshal.DynamicCompositeType(s=>UTF8Type)'",
            "set<'it''s.Custom'>",
        ] {
            round_trip(s);
        }
    }

    #[test]
    fn parses_structure() {
        let t = CqlType::parse(" map < text ,frozen<address> > ").unwrap();
        assert_eq!(
            t,
            CqlType::Map(
                Box::new(CqlType::Native(NativeType::Text)),
                Box::new(CqlType::Frozen(Box::new(CqlType::Udt("address".into()))))
            )
        );
        assert_eq!(CqlType::parse("varchar").unwrap().to_string(), "text");
        let mut names = Vec::new();
        t.udt_names(&mut names);
        assert_eq!(names, ["address"]);
        assert_eq!(
            CqlType::parse("frozen<tuple<int>>")
                .unwrap()
                .unfrozen()
                .to_string(),
            "tuple<int>"
        );
    }

    #[test]
    fn bad_types_are_errors() {
        for (s, reason) in [
            ("", "expected a type"),
            ("list<int", "expected '>'"),
            ("map<int>", "expected ','"),
            ("vector<float, x>", "expected the vector's dimension"),
            ("int int", "trailing text after the type"),
            ("'open", "unterminated quote"),
            ("ks.t", "unexpected '.' in a type"),
        ] {
            assert_eq!(CqlType::parse(s).unwrap_err().reason, reason, "{s}");
        }
    }

    #[test]
    fn depth_is_bounded() {
        let deep = "list<".repeat(MAX_TYPE_DEPTH - 1) + "int" + &">".repeat(MAX_TYPE_DEPTH - 1);
        assert!(CqlType::parse(&deep).is_ok());
        let deeper = "list<".repeat(100_000) + "int" + &">".repeat(100_000);
        assert_eq!(
            CqlType::parse(&deeper).unwrap_err().reason,
            "type nested too deep"
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "[a-z<>, '\"0-9().]{0,40}") {
            let _ = CqlType::parse(&s);
        }
    }
}
