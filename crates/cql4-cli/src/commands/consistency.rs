//! CONSISTENCY and SERIAL CONSISTENCY: show or set the level of the statements that follow.

use cql4_frame::Consistency;

use super::{improper, Arg};
use crate::error::CliError;

fn name(c: Consistency) -> String {
    c.name().map_or_else(|| format!("{c:?}"), str::to_owned)
}

/// The level named by the one argument, if it is one cqlsh accepts there.
fn level(args: &[Arg], serial: bool, command: &str) -> Result<Option<Consistency>, CliError> {
    match args {
        [] => Ok(None),
        [arg] => arg
            .word()
            .and_then(Consistency::from_name)
            .filter(|c| !serial || c.is_serial())
            .map(Some)
            .ok_or_else(|| improper(command)),
        _ => Err(improper(command)),
    }
}

/// `CONSISTENCY [level]`: the message to print; `current` is the session's level (`None`
/// before any is set: the connection's default, which the session always sets).
pub(super) fn consistency(
    args: &[Arg],
    current: &mut Option<Consistency>,
) -> Result<String, CliError> {
    Ok(match level(args, false, "CONSISTENCY")? {
        None => format!(
            "Current consistency level is {}.",
            name(current.unwrap_or(Consistency::ONE))
        ),
        Some(c) => {
            *current = Some(c);
            format!("Consistency level set to {}.", name(c))
        }
    })
}

/// `SERIAL CONSISTENCY [SERIAL|LOCAL_SERIAL]`; unset means the server's default, SERIAL.
pub(super) fn serial(args: &[Arg], current: &mut Option<Consistency>) -> Result<String, CliError> {
    Ok(match level(args, true, "SERIAL CONSISTENCY")? {
        None => format!(
            "Current serial consistency level is {}.",
            name(current.unwrap_or(Consistency::SERIAL))
        ),
        Some(c) => {
            *current = Some(c);
            format!("Serial consistency level set to {}.", name(c))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::arguments;
    use super::*;

    #[test]
    fn consistency_shows_and_sets() {
        let mut c = Some(Consistency::ONE);
        assert_eq!(
            consistency(&[], &mut c).unwrap(),
            "Current consistency level is ONE."
        );
        let args = arguments("local_quorum").unwrap();
        assert_eq!(
            consistency(&args, &mut c).unwrap(),
            "Consistency level set to LOCAL_QUORUM."
        );
        assert_eq!(c, Some(Consistency::LOCAL_QUORUM));
        for bad in ["FOO", "ONE TWO", "'ONE'"] {
            let e = consistency(&arguments(bad).unwrap(), &mut c).unwrap_err();
            assert_eq!(e.to_string(), "Improper CONSISTENCY command.", "{bad}");
        }
        assert_eq!(c, Some(Consistency::LOCAL_QUORUM), "unchanged by errors");
    }

    #[test]
    fn serial_takes_only_serial_levels() {
        let mut c = None;
        assert_eq!(
            serial(&[], &mut c).unwrap(),
            "Current serial consistency level is SERIAL."
        );
        assert_eq!(
            serial(&arguments("Local_Serial").unwrap(), &mut c).unwrap(),
            "Serial consistency level set to LOCAL_SERIAL."
        );
        let e = serial(&arguments("QUORUM").unwrap(), &mut c).unwrap_err();
        assert_eq!(e.to_string(), "Improper SERIAL CONSISTENCY command.");
        assert_eq!(c, Some(Consistency::LOCAL_SERIAL));
    }
}
