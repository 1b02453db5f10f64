//! The few timestamp formats SigV4 and the credential sources use, written out by hand so they
//! cannot drift with a format-description change.

use time::{OffsetDateTime, UtcOffset};

/// `yyyy-mm-ddThh:mm:ss.mmmZ` in UTC, milliseconds truncated (the Java and Go plugins truncate;
/// see `sigv4` for the Python plugin's rounding).
pub(crate) fn amz_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// `yyyymmdd` in UTC: the date of the SigV4 credential scope.
pub(crate) fn date_stamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!("{:04}{:02}{:02}", t.year(), u8::from(t.month()), t.day())
}

/// RFC 3339 in UTC with second precision, for messages.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses an RFC 3339 timestamp (`Expiration` of `credential_process` and container output).
pub(crate) fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats() {
        let t = datetime!(2020-06-09 22:41:51.999_999 UTC);
        assert_eq!(amz_date(t), "2020-06-09T22:41:51.999Z");
        assert_eq!(date_stamp(t), "20200609");
        assert_eq!(rfc3339(t), "2020-06-09T22:41:51Z");
        // Another offset is converted to UTC first: the scope date can change.
        let t = datetime!(2020-06-10 01:00:00 +03:00);
        assert_eq!(amz_date(t), "2020-06-09T22:00:00.000Z");
        assert_eq!(date_stamp(t), "20200609");
    }

    #[test]
    fn parses_rfc3339() {
        assert_eq!(
            parse_rfc3339("2026-01-02T03:04:05Z"),
            Some(datetime!(2026-01-02 03:04:05 UTC))
        );
        assert_eq!(
            parse_rfc3339("2026-01-02T03:04:05.5+01:00"),
            Some(datetime!(2026-01-02 03:04:05.5 +01:00))
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
