//! Open code spaces: newtypes over the wire integer with named constants generated from one
//! table, so an unknown value round-trips instead of failing (as rustls' `enum_builder!`).

/// Declares an open newtype `$name($repr)` with named constants, `name()`, `Display` (the
/// spec's name, or the number in hex when unknown) and `From` conversions.
macro_rules! open_code {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident($repr:ty) {
            $( $(#[$cmeta:meta])* $const:ident = $value:expr => $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis struct $name(pub $repr);

        impl $name {
            $( $(#[$cmeta])* pub const $const: Self = Self($value); )*

            /// Every named value, in table order.
            pub const KNOWN: &'static [Self] = &[$(Self::$const),*];

            /// The spec's name for this value, or `None` when it is not a known value.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $( Self::$const => Some($text), )*
                    _ => None,
                }
            }

            /// The value with the spec's name `name` (ASCII case-insensitive).
            pub fn from_name(name: &str) -> Option<Self> {
                Self::KNOWN
                    .iter()
                    .copied()
                    .find(|c| c.name().is_some_and(|n| n.eq_ignore_ascii_case(name)))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{}({:#x})", stringify!($name), self.0),
                }
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self.name() {
                    Some(n) => write!(f, "{}::{}", stringify!($name), n),
                    None => write!(f, "{}({:#x})", stringify!($name), self.0),
                }
            }
        }

        impl From<$repr> for $name {
            fn from(v: $repr) -> Self {
                Self(v)
            }
        }

        impl From<$name> for $repr {
            fn from(v: $name) -> Self {
                v.0
            }
        }
    };
}

pub(crate) use open_code;

/// `contains` and `with` for a bit-flag newtype `$name(pub int)` (frame flags, metadata flags).
macro_rules! flag_ops {
    ($name:ident) => {
        impl $name {
            /// True when every bit of `other` is set.
            pub fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// These flags with `other`'s bits set (`on`) or cleared.
            #[must_use]
            pub fn with(self, other: Self, on: bool) -> Self {
                if on {
                    Self(self.0 | other.0)
                } else {
                    Self(self.0 & !other.0)
                }
            }
        }
    };
}

pub(crate) use flag_ops;
