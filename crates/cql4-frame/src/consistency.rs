//! Consistency levels (native_protocol_v4.spec §3 `[consistency]`).

use std::str::FromStr;

use crate::codes::open_code;

open_code! {
    /// A `[consistency]` (native_protocol_v4.spec §3): an open newtype over the `[short]`, so a
    /// level this crate does not know still round-trips.
    pub struct Consistency(u16) {
        /// 0x0000
        ANY = 0x0000 => "ANY",
        /// 0x0001
        ONE = 0x0001 => "ONE",
        /// 0x0002
        TWO = 0x0002 => "TWO",
        /// 0x0003
        THREE = 0x0003 => "THREE",
        /// 0x0004
        QUORUM = 0x0004 => "QUORUM",
        /// 0x0005
        ALL = 0x0005 => "ALL",
        /// 0x0006
        LOCAL_QUORUM = 0x0006 => "LOCAL_QUORUM",
        /// 0x0007
        EACH_QUORUM = 0x0007 => "EACH_QUORUM",
        /// 0x0008
        SERIAL = 0x0008 => "SERIAL",
        /// 0x0009
        LOCAL_SERIAL = 0x0009 => "LOCAL_SERIAL",
        /// 0x000A
        LOCAL_ONE = 0x000A => "LOCAL_ONE",
    }
}

impl Consistency {
    /// True for SERIAL and LOCAL_SERIAL, the only levels allowed as a serial consistency.
    pub fn is_serial(self) -> bool {
        matches!(self, Self::SERIAL | Self::LOCAL_SERIAL)
    }
}

/// A consistency name that is not one of §3's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownConsistency(pub String);

impl std::fmt::Display for UnknownConsistency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown consistency level {:?}", self.0)
    }
}

impl std::error::Error for UnknownConsistency {}

impl FromStr for Consistency {
    type Err = UnknownConsistency;

    /// Parses a §3 name such as `LOCAL_QUORUM` (ASCII case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| UnknownConsistency(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_every_level() {
        let names = [
            "ANY",
            "ONE",
            "TWO",
            "THREE",
            "QUORUM",
            "ALL",
            "LOCAL_QUORUM",
            "EACH_QUORUM",
            "SERIAL",
            "LOCAL_SERIAL",
            "LOCAL_ONE",
        ];
        for (i, name) in names.iter().enumerate() {
            let c = Consistency(u16::try_from(i).unwrap());
            assert_eq!(c.to_string(), *name);
            assert_eq!(name.parse::<Consistency>().unwrap(), c);
        }
        assert_eq!("local_one".parse::<Consistency>().unwrap(), Consistency(10));
        assert!("LOCAL".parse::<Consistency>().is_err());
        assert_eq!(Consistency(0x0b).to_string(), "Consistency(0xb)");
        assert!(Consistency::LOCAL_SERIAL.is_serial());
        assert!(!Consistency::QUORUM.is_serial());
    }
}
