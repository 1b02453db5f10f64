//! Containers for secret material: passwords, AWS secret keys, session tokens and the SASL
//! responses built from them.
//!
//! Both types print `***` from `Debug` and `Display` and zero their heap memory on drop
//! (`zeroize`), so a secret cannot leak through `{:?}` in an error, a log line or a panic message.
//! The only way to read one is the explicit `expose*` call, which makes every use greppable.

use std::fmt;

use zeroize::Zeroizing;

/// Secret bytes: a SASL response (`AUTH_RESPONSE` token) or any other secret byte string.
///
/// `Debug`/`Display` print `***`; the buffer is zeroed on drop.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wraps `bytes`; the caller's buffer is moved, not copied.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The secret bytes. Call only where they are written to the wire.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes (not secret: it is visible on the wire anyway).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for Secret {
    fn from(bytes: Vec<u8>) -> Self {
        Self::new(bytes)
    }
}

impl From<SecretString> for Secret {
    fn from(s: SecretString) -> Self {
        // `String::into_bytes` moves the allocation, so no unzeroed copy is left behind.
        let mut s = s;
        Self::new(std::mem::take(&mut *s.0).into_bytes())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A secret UTF-8 string: a password, an AWS secret access key or a session token.
///
/// `Debug`/`Display` print `***`; the buffer is zeroed on drop.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Wraps `s`; the caller's string is moved, not copied.
    pub fn new(s: String) -> Self {
        Self(Zeroizing::new(s))
    }

    /// The secret text. Call only where it is signed or written to the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl From<&str> for SecretString {
    fn from(s: &str) -> Self {
        Self::new(s.to_owned())
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = SecretString::from("hunter2");
        assert_eq!(format!("{s:?} {s} {s:#?}"), "*** *** ***");
        let b = Secret::new(b"hunter2".to_vec());
        assert_eq!(format!("{b:?} {b}"), "*** ***");
        assert_eq!(b.expose(), b"hunter2");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn secret_string_into_secret_keeps_bytes() {
        let b: Secret = SecretString::from("pw").into();
        assert_eq!(b.expose(), b"pw");
        assert_eq!(b.len(), 2);
        assert!(!b.is_empty());
    }
}
