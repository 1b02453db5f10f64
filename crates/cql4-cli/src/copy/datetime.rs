//! Timestamps as DATETIMEFORMAT writes and reads them: a strftime subset (`%Y %m %d %H %M %S
//! %f %z %Z %%`), always UTC, as cqlsh writes them without a timezone setting. Reading also
//! takes what CQL takes (`2024-02-29`, `2024-02-29T13:45:30.123Z`, `… +0100`) and integer
//! milliseconds, as cqlsh falls back to.

use std::fmt::Write as _;

/// One piece of a format.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(char),
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    /// Microseconds, 6 digits.
    Micros,
    /// `+0000`.
    Offset,
    /// `UTC`.
    Zone,
}

/// A checked DATETIMEFORMAT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TimeFormat(Vec<Part>);

const MS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01 (`civil_from_days`).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Milliseconds since the epoch of a UTC date and time, `None` when a field is out of range.
pub(crate) fn millis_of(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: u32) -> Option<i64> {
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59
    {
        return None;
    }
    if !(-292_000_000..=292_000_000).contains(&y) {
        return None;
    }
    let day_ms = i64::from(((h * 60 + mi) * 60 + s) * 1000 + ms);
    days_from_civil(y, mo, d)
        .checked_mul(MS_PER_DAY)?
        .checked_add(day_ms)
}

impl TimeFormat {
    /// Checks a format; the error names the first unsupported directive.
    pub(crate) fn parse(format: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut chars = format.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                parts.push(Part::Literal(c));
                continue;
            }
            parts.push(match chars.next() {
                Some('Y') => Part::Year,
                Some('m') => Part::Month,
                Some('d') => Part::Day,
                Some('H') => Part::Hour,
                Some('M') => Part::Minute,
                Some('S') => Part::Second,
                Some('f') => Part::Micros,
                Some('z') => Part::Offset,
                Some('Z') => Part::Zone,
                Some('%') => Part::Literal('%'),
                Some(other) => return Err(format!("unsupported directive %{other}")),
                None => return Err("a lone % at the end".to_owned()),
            });
        }
        if !parts.contains(&Part::Year) {
            return Err("no %Y".to_owned());
        }
        Ok(Self(parts))
    }

    /// The text of a timestamp (milliseconds since the epoch), in UTC.
    pub(crate) fn format(&self, millis: i64, out: &mut String) {
        let days = millis.div_euclid(MS_PER_DAY);
        let ms = millis.rem_euclid(MS_PER_DAY);
        let (y, mo, d) = civil_from_days(days);
        let (h, mi, s, sub) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
        for part in &self.0 {
            let _ = match part {
                Part::Literal(c) => {
                    out.push(*c);
                    Ok(())
                }
                Part::Year if y < 0 => write!(out, "-{:04}", -y),
                Part::Year => write!(out, "{y:04}"),
                Part::Month => write!(out, "{mo:02}"),
                Part::Day => write!(out, "{d:02}"),
                Part::Hour => write!(out, "{h:02}"),
                Part::Minute => write!(out, "{mi:02}"),
                Part::Second => write!(out, "{s:02}"),
                Part::Micros => write!(out, "{:06}", sub * 1000),
                Part::Offset => {
                    out.push_str("+0000");
                    Ok(())
                }
                Part::Zone => {
                    out.push_str("UTC");
                    Ok(())
                }
            };
        }
    }

    /// A timestamp in this format, else in a CQL form, else integer milliseconds.
    pub(crate) fn read(&self, text: &str) -> Option<i64> {
        let text = text.trim();
        self.read_format(text)
            .or_else(|| read_cql(text))
            .or_else(|| text.parse().ok())
    }

    fn read_format(&self, text: &str) -> Option<i64> {
        let mut s = Scanner(text);
        let (mut y, mut mo, mut d, mut h, mut mi, mut sec, mut micros, mut offset) =
            (0i64, 1, 1, 0, 0, 0, 0u32, 0i64);
        for part in &self.0 {
            match part {
                Part::Literal(c) => s.char(*c)?,
                Part::Year => y = s.year()?,
                Part::Month => mo = s.digits(1, 2)?,
                Part::Day => d = s.digits(1, 2)?,
                Part::Hour => h = s.digits(1, 2)?,
                Part::Minute => mi = s.digits(1, 2)?,
                Part::Second => sec = s.digits(1, 2)?,
                Part::Micros => micros = s.fraction(6)?,
                Part::Offset => offset = s.offset()?,
                Part::Zone => {
                    if !(s.word("UTC") || s.word("GMT") || s.word("Z")) {
                        return None;
                    }
                }
            }
        }
        if !s.0.is_empty() {
            return None;
        }
        millis_of(y, mo, d, h, mi, sec, micros / 1000)?.checked_sub(offset)
    }
}

/// CQL's timestamp literal forms: a date, optionally `T` or a space and `hh:mm[:ss[.fff]]`,
/// optionally a zone (`Z`, `+hhmm`, `+hh:mm`, `UTC`).
fn read_cql(text: &str) -> Option<i64> {
    let mut s = Scanner(text);
    let y = s.year()?;
    s.char('-')?;
    let mo = s.digits(1, 2)?;
    s.char('-')?;
    let d = s.digits(1, 2)?;
    let (mut h, mut mi, mut sec, mut frac) = (0, 0, 0, 0);
    if s.char('T').is_some() || s.char(' ').is_some() {
        h = s.digits(1, 2)?;
        s.char(':')?;
        mi = s.digits(1, 2)?;
        if s.char(':').is_some() {
            sec = s.digits(1, 2)?;
            if s.char('.').is_some() {
                frac = s.fraction(3)?;
            }
        }
    }
    let _ = s.char(' ');
    let offset = if s.0.is_empty() || s.word("Z") || s.word("UTC") || s.word("GMT") {
        0
    } else {
        s.offset()?
    };
    if !s.0.is_empty() {
        return None;
    }
    millis_of(y, mo, d, h, mi, sec, frac)?.checked_sub(offset)
}

/// A cursor over text being read.
struct Scanner<'a>(&'a str);

impl Scanner<'_> {
    fn char(&mut self, c: char) -> Option<()> {
        self.0 = self.0.strip_prefix(c)?;
        Some(())
    }

    fn word(&mut self, w: &str) -> bool {
        match self.0.strip_prefix(w) {
            Some(rest) => {
                self.0 = rest;
                true
            }
            None => false,
        }
    }

    fn take_digits(&mut self, max: usize) -> &str {
        let n = self
            .0
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        let (d, rest) = self.0.split_at(n);
        self.0 = rest;
        d
    }

    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let d = self.take_digits(max);
        (d.len() >= min).then(|| d.parse().ok())?
    }

    fn year(&mut self) -> Option<i64> {
        let neg = self.char('-').is_some();
        let d = self.take_digits(10);
        if d.len() < 4 {
            return None;
        }
        let y: i64 = d.parse().ok()?;
        Some(if neg { -y } else { y })
    }

    /// 1 to `places` fraction digits, scaled to `places` (`.5` is 500 thousandths).
    fn fraction(&mut self, places: usize) -> Option<u32> {
        let d = self.take_digits(places);
        if d.is_empty() {
            return None;
        }
        let n: u32 = d.parse().ok()?;
        Some(n * 10u32.pow((places - d.len()) as u32))
    }

    /// `+hhmm`, `-hh:mm`, `Z`, as milliseconds east of UTC.
    fn offset(&mut self) -> Option<i64> {
        if self.word("Z") {
            return Some(0);
        }
        let sign = if self.char('+').is_some() {
            1
        } else {
            self.char('-')?;
            -1
        };
        let h = self.digits(2, 2)?;
        let _ = self.char(':');
        let m = self.digits(2, 2)?;
        if h > 23 || m > 59 {
            return None;
        }
        Some(sign * i64::from(h * 60 + m) * 60_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default() -> TimeFormat {
        TimeFormat::parse(super::super::options::DEFAULT_DATETIME).unwrap()
    }

    #[test]
    fn writes_cqlshs_default() {
        let mut s = String::new();
        default().format(1_709_214_330_123, &mut s);
        assert_eq!(s, "2024-02-29 13:45:30.123000+0000");
        s.clear();
        default().format(-1, &mut s);
        assert_eq!(s, "1969-12-31 23:59:59.999000+0000");
    }

    #[test]
    fn reads_its_format_cql_forms_and_millis() {
        let f = default();
        assert_eq!(
            f.read("2024-02-29 13:45:30.123000+0000"),
            Some(1_709_214_330_123)
        );
        assert_eq!(
            f.read("2024-02-29 14:45:30.123000+0100"),
            Some(1_709_214_330_123)
        );
        assert_eq!(f.read("2024-02-29T13:45:30.123Z"), Some(1_709_214_330_123));
        assert_eq!(
            f.read("2024-02-29 13:45:30.1+0000"),
            Some(1_709_214_330_100)
        );
        assert_eq!(f.read("2024-02-29"), Some(1_709_164_800_000));
        assert_eq!(f.read("1709214330123"), Some(1_709_214_330_123));
        assert_eq!(f.read("2024-02-30 00:00:00.000000+0000"), None);
        assert_eq!(f.read("yesterday"), None);
        let custom = TimeFormat::parse("%d/%m/%Y %H:%M").unwrap();
        assert_eq!(custom.read("29/02/2024 13:45"), Some(1_709_214_300_000));
        let mut s = String::new();
        custom.format(1_709_214_300_000, &mut s);
        assert_eq!(s, "29/02/2024 13:45");
    }

    #[test]
    fn civil_days_agree_both_ways() {
        for z in [-800_000i64, -719_468, -1, 0, 1, 19_782, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    proptest::proptest! {
        #[test]
        fn every_millisecond_round_trips(ms in -62_135_596_800_000i64..253_402_300_799_999) {
            let f = default();
            let mut s = String::new();
            f.format(ms, &mut s);
            proptest::prop_assert_eq!(f.read(&s), Some(ms), "{}", s);
        }
    }
}
