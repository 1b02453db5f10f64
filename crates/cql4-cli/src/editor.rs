//! The interactive prompt on a terminal: line editing and history (`~/.cassandra/cql4_history`,
//! as cqlsh keeps `~/.cassandra/cqlsh_history`). Input that is not a terminal is read by
//! [`crate::input::Stdin`] instead.

use std::io;
use std::path::PathBuf;

use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{Config, Editor};

use crate::input::{Lines, Read};

/// History lines kept.
const HISTORY_LINES: usize = 1000;

/// A rustyline editor with a history file.
pub(crate) struct Terminal {
    editor: Editor<(), DefaultHistory>,
    history: Option<PathBuf>,
}

/// `~/.cassandra/cql4_history`, its folder created; `None` without HOME.
fn history_path() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("HOME")?).join(".cassandra");
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir.join("cql4_history"))
}

impl Terminal {
    pub(crate) fn new() -> io::Result<Self> {
        let config = Config::builder()
            .max_history_size(HISTORY_LINES)
            .map_err(io::Error::other)?
            .auto_add_history(false)
            .build();
        let mut editor = Editor::with_config(config).map_err(io::Error::other)?;
        let history = history_path();
        if let Some(path) = &history {
            // A first run has no history yet.
            let _ = editor.load_history(path);
        }
        Ok(Self { editor, history })
    }
}

impl Lines for Terminal {
    fn read(&mut self, prompt: &str) -> io::Result<Read> {
        match self.editor.readline(prompt) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = self.editor.add_history_entry(line.as_str());
                    if let Some(path) = &self.history {
                        // Saved at once: the session may end by Ctrl-D, EXIT or a kill.
                        if let Err(e) = self.editor.save_history(path) {
                            tracing::debug!(error = %e, "cannot save the history");
                        }
                    }
                }
                Ok(Read::Line(line + "\n"))
            }
            Err(ReadlineError::Interrupted) => Ok(Read::Interrupted),
            Err(ReadlineError::Eof) => {
                println!();
                Ok(Read::Eof)
            }
            Err(ReadlineError::Io(e)) => Err(e),
            Err(e) => Err(io::Error::other(e)),
        }
    }

    fn interactive(&self) -> bool {
        true
    }
}
