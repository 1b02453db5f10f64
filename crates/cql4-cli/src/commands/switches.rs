//! TRACING, EXPAND and PAGING: ON/OFF switches (PAGING also takes a page size), with cqlsh's
//! messages.

use super::{improper, Arg};
use crate::error::CliError;

/// cqlsh's page size when PAGING is ON without a number.
pub(crate) const DEFAULT_PAGE_ROWS: i32 = 100;

/// How rows are shown: the display switches of the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Display {
    /// EXPAND: one `@ Row N` block per row instead of a table.
    pub(crate) expand: bool,
    /// PAGING: on a terminal, pages of this many rows with a `---MORE---` prompt between them.
    pub(crate) paging: bool,
    /// Rows per page while paging.
    pub(crate) page_rows: i32,
}

impl Default for Display {
    fn default() -> Self {
        Self {
            expand: false,
            paging: true,
            page_rows: DEFAULT_PAGE_ROWS,
        }
    }
}

fn state(on: bool) -> &'static str {
    if on {
        "ON"
    } else {
        "OFF"
    }
}

/// `NAME [ON|OFF]`: the message to print.
pub(super) fn on_off(name: &str, args: &[Arg], current: &mut bool) -> Result<String, CliError> {
    let wanted = match args {
        [] => return Ok(format!("{name} is {}", state(*current))),
        [arg] if arg.is("ON") => true,
        [arg] if arg.is("OFF") => false,
        _ => return Err(improper(name)),
    };
    if *current == wanted {
        Ok(format!("{name} is already {}", state(wanted)))
    } else {
        *current = wanted;
        Ok(format!("{name} set to {}", state(wanted)))
    }
}

/// `PAGING [ON|OFF|rows]`.
pub(super) fn paging(args: &[Arg], display: &mut Display) -> Result<String, CliError> {
    let rows = match args {
        [arg] => arg
            .word()
            .filter(|w| w.bytes().all(|b| b.is_ascii_digit()))
            .map(|w| w.parse::<i32>().ok().filter(|&n| n > 0)),
        _ => None,
    };
    let msg = match rows {
        Some(Some(rows)) => {
            display.paging = true;
            display.page_rows = rows;
            String::new()
        }
        Some(None) => return Err(improper("PAGING")),
        None => on_off("PAGING", args, &mut display.paging)?,
    };
    if display.paging {
        let size = format!("Page size: {}", display.page_rows);
        Ok(if msg.is_empty() {
            size
        } else {
            format!("{msg}\n{size}")
        })
    } else {
        display.page_rows = DEFAULT_PAGE_ROWS;
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::super::arguments;
    use super::*;

    #[test]
    fn on_off_reports_like_cqlsh() {
        let mut on = false;
        let say = |args: &str, on: &mut bool| on_off("EXPAND", &arguments(args).unwrap(), on);
        assert_eq!(say("", &mut on).unwrap(), "EXPAND is OFF");
        assert_eq!(say("on", &mut on).unwrap(), "EXPAND set to ON");
        assert!(on);
        assert_eq!(say("ON", &mut on).unwrap(), "EXPAND is already ON");
        assert_eq!(say("Off", &mut on).unwrap(), "EXPAND set to OFF");
        let e = say("maybe", &mut on).unwrap_err();
        assert_eq!(e.to_string(), "Improper EXPAND command.");
        assert!(!on);
    }

    #[test]
    fn paging_takes_a_size() {
        let mut d = Display::default();
        let say = |args: &str, d: &mut Display| paging(&arguments(args).unwrap(), d);
        assert_eq!(say("", &mut d).unwrap(), "PAGING is ON\nPage size: 100");
        assert_eq!(say("50", &mut d).unwrap(), "Page size: 50");
        assert_eq!((d.paging, d.page_rows), (true, 50));
        assert_eq!(say("off", &mut d).unwrap(), "PAGING set to OFF");
        assert_eq!((d.paging, d.page_rows), (false, 100));
        assert_eq!(
            say("on", &mut d).unwrap(),
            "PAGING set to ON\nPage size: 100"
        );
        for bad in ["0", "-3", "99999999999", "x", "1 2"] {
            assert_eq!(
                say(bad, &mut d).unwrap_err().to_string(),
                "Improper PAGING command.",
                "{bad}"
            );
        }
    }
}
