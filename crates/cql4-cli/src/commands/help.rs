//! HELP [topic]: the shell commands and what each does.

use super::{improper, Arg};
use crate::error::CliError;

/// Each command's help text, cqlsh's topics (CQL topics are the server's documentation).
const TOPICS: &[(&str, &str)] = &[
    ("CAPTURE", "CAPTURE '<file>' | OFF\n\n  Sends query results to <file> (appended) instead of the screen; CAPTURE OFF\n  shows them again, CAPTURE alone tells where they go."),
    ("CLEAR", "CLEAR | CLS\n\n  Clears the screen."),
    ("CONSISTENCY", "CONSISTENCY [level]\n\n  Shows or sets the consistency level of the statements that follow\n  (ANY, ONE, TWO, THREE, QUORUM, ALL, LOCAL_QUORUM, EACH_QUORUM, SERIAL,\n  LOCAL_SERIAL, LOCAL_ONE)."),
    ("COPY", "COPY <table> [(columns)] TO|FROM '<file>' [WITH option = value ...]\n\n  Exports a table to a CSV file or imports one."),
    ("DESCRIBE", "DESCRIBE [KEYSPACES | KEYSPACE <ks> | TABLES | TABLE <t> | TYPES | ...]\n\n  Prints the schema as CQL."),
    ("EXIT", "EXIT | QUIT\n\n  Ends the session."),
    ("EXPAND", "EXPAND [ON | OFF]\n\n  Shows each row as a block of 'column | value' lines (ON) or rows as a table\n  (OFF); alone, shows the setting."),
    ("HELP", "HELP [topic]\n\n  Lists the topics, or shows one."),
    ("PAGING", "PAGING [ON | OFF | <rows>]\n\n  On a terminal, shows results a page at a time with a ---MORE--- prompt\n  (ON, 100 rows a page, or <rows>); OFF prints every row at once. Statements\n  from -e, -f or a pipe are never paged."),
    ("SERIAL", "SERIAL CONSISTENCY [SERIAL | LOCAL_SERIAL]\n\n  Shows or sets the serial consistency level of conditional updates."),
    ("SHOW", "SHOW VERSION | HOST | SESSION <tracing session id>\n\n  Shows the versions of this client and of the server, where the session is\n  connected, or a trace."),
    ("SOURCE", "SOURCE '<file>'\n\n  Runs the statements and commands of <file>; an error is reported and the\n  next statement runs."),
    ("TRACING", "TRACING [ON | OFF]\n\n  Traces each statement that follows and prints its trace (ON); alone, shows\n  the setting."),
    ("USE", "USE <keyspace>;\n\n  Makes <keyspace> the current one (the prompt shows it)."),
];

/// The text HELP prints for `args`.
pub(super) fn text(args: &[Arg]) -> Result<String, CliError> {
    match args {
        [] => {
            let names: Vec<&str> = TOPICS.iter().map(|(name, _)| *name).collect();
            Ok(format!(
                "\nDocumented shell commands:\n===========================\n{}\n",
                names.join("  ")
            ))
        }
        _ => {
            let mut out = Vec::new();
            for arg in args {
                let topic = match arg {
                    Arg::Word(w) | Arg::Quoted(w) => w,
                };
                match TOPICS
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(topic))
                {
                    Some((_, text)) => out.push(*text),
                    None => {
                        return Err(CliError::Failed(format!("*** No help on {topic}")));
                    }
                }
            }
            if out.is_empty() {
                return Err(improper("HELP"));
            }
            Ok(out.join("\n\n"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{arguments, WORDS};
    use super::*;

    #[test]
    fn every_command_has_help() {
        for word in WORDS
            .iter()
            .filter(|w| !["?", "CLS", "QUIT", "DESC"].contains(w))
        {
            let got = text(&arguments(&word.to_ascii_lowercase()).unwrap()).unwrap();
            assert!(got.starts_with(word), "{word}: {got}");
        }
        assert!(text(&[]).unwrap().contains("CONSISTENCY  COPY"));
        assert_eq!(
            text(&arguments("nope").unwrap()).unwrap_err().to_string(),
            "*** No help on nope"
        );
    }
}
