//! Frame opcodes (native_protocol_v4.spec §2.4).

use crate::codes::open_code;

open_code! {
    /// A frame opcode (native_protocol_v4.spec §2.4). Open: an unknown opcode is a value,
    /// which the message decoders reject with [`crate::DecodeErrorKind::UnexpectedOpcode`].
    pub struct Opcode(u8) {
        /// 0x00, response.
        ERROR = 0x00 => "ERROR",
        /// 0x01, request.
        STARTUP = 0x01 => "STARTUP",
        /// 0x02, response.
        READY = 0x02 => "READY",
        /// 0x03, response.
        AUTHENTICATE = 0x03 => "AUTHENTICATE",
        /// 0x05, request.
        OPTIONS = 0x05 => "OPTIONS",
        /// 0x06, response.
        SUPPORTED = 0x06 => "SUPPORTED",
        /// 0x07, request.
        QUERY = 0x07 => "QUERY",
        /// 0x08, response.
        RESULT = 0x08 => "RESULT",
        /// 0x09, request.
        PREPARE = 0x09 => "PREPARE",
        /// 0x0A, request.
        EXECUTE = 0x0A => "EXECUTE",
        /// 0x0B, request.
        REGISTER = 0x0B => "REGISTER",
        /// 0x0C, response (server push, stream -1).
        EVENT = 0x0C => "EVENT",
        /// 0x0D, request.
        BATCH = 0x0D => "BATCH",
        /// 0x0E, response.
        AUTH_CHALLENGE = 0x0E => "AUTH_CHALLENGE",
        /// 0x0F, request.
        AUTH_RESPONSE = 0x0F => "AUTH_RESPONSE",
        /// 0x10, response.
        AUTH_SUCCESS = 0x10 => "AUTH_SUCCESS",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_unknown_values() {
        assert_eq!(Opcode::EXECUTE.to_string(), "EXECUTE");
        assert_eq!(Opcode(0x04).name(), None);
        assert_eq!(Opcode(0x04).to_string(), "Opcode(0x4)");
        assert_eq!(Opcode::from_name("auth_success"), Some(Opcode(0x10)));
        assert_eq!(Opcode::KNOWN.len(), 16);
    }
}
