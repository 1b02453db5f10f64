//! The interactive prompt on a terminal: line editing and history (`~/.cassandra/cql4_history`,
//! as cqlsh keeps `~/.cassandra/cqlsh_history`). Input that is not a terminal is read by
//! [`crate::input::Stdin`] instead.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{
    Cmd, ConditionalEventHandler, Config, Editor, Event, EventContext, EventHandler, KeyEvent,
    RepeatCount,
};

use crate::input::{Lines, Read};

/// History lines kept.
const HISTORY_LINES: usize = 1000;

/// A rustyline editor with a history file.
pub(crate) struct Terminal {
    editor: Editor<(), DefaultHistory>,
    history: Option<PathBuf>,
    /// Set by Ctrl-C: whether the line held text then.
    interrupted_with_text: Arc<AtomicBool>,
}

/// Ctrl-C: interrupts the line as rustyline does, noting first whether anything was typed (the
/// interrupted read does not tell).
struct CtrlC(Arc<AtomicBool>);

impl ConditionalEventHandler for CtrlC {
    fn handle(&self, _: &Event, _: RepeatCount, _: bool, ctx: &EventContext) -> Option<Cmd> {
        self.0.store(!ctx.line().is_empty(), Ordering::SeqCst);
        Some(Cmd::Interrupt)
    }
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
        let interrupted_with_text = Arc::new(AtomicBool::new(false));
        editor.bind_sequence(
            KeyEvent::ctrl('C'),
            EventHandler::Conditional(Box::new(CtrlC(interrupted_with_text.clone()))),
        );
        let history = history_path();
        if let Some(path) = &history {
            // A first run has no history yet.
            let _ = editor.load_history(path);
        }
        Ok(Self {
            editor,
            history,
            interrupted_with_text,
        })
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
            Err(ReadlineError::Interrupted) => Ok(Read::Interrupted {
                line_was_empty: !self.interrupted_with_text.swap(false, Ordering::SeqCst),
            }),
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
