//! The password prompt of `-u` without `-p`, and what Ctrl-C does there.
//!
//! rpassword turns the terminal's ECHO, ICANON and ISIG off, so Ctrl-C reaches it as a
//! character; it then raises SIGINT *before* it restores the terminal. With SIGINT's default
//! action the process would die right there and leave the user's terminal raw, without echo.
//! So while the prompt runs, SIGINT only sets a flag: raise() returns, rpassword restores the
//! terminal and returns an `Interrupted` error, which the command reports as one line with exit
//! status 130. Outside the prompt SIGINT keeps its default action (the process is killed by it),
//! through signal-hook's emulation of that action.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use signal_hook::consts::SIGINT;

use crate::args::Password;

/// Asks for the password on the terminal (`/dev/tty`, not echoed, whatever stdin is: statements
/// may be piped in). Ctrl-C (or any SIGINT) during the prompt is an
/// [`io::ErrorKind::Interrupted`] error, returned once the terminal is restored.
pub(crate) fn ask_password() -> io::Result<Password> {
    interruptible(|| rpassword::prompt_password("Password: ").map(Password::new))
}

/// True outside [`interruptible`]: SIGINT then runs its default action (the process dies).
static DEFAULT_ACTION: AtomicBool = AtomicBool::new(true);
/// Set by SIGINT while [`interruptible`] runs.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Runs `f` with SIGINT turned into a flag; a SIGINT during `f` makes the result an
/// [`io::ErrorKind::Interrupted`] error (so does `f`'s own such error). Not reentrant: one
/// prompt at a time.
fn interruptible<T>(f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    static HANDLERS: OnceLock<Result<(), io::ErrorKind>> = OnceLock::new();
    HANDLERS
        .get_or_init(|| {
            // The default action first: should the flag fail to register, SIGINT still kills.
            signal_hook::flag::register_conditional_default(SIGINT, &DEFAULT_ACTION)
                .and_then(|_| signal_hook::flag::register(SIGINT, &INTERRUPTED))
                .map(drop)
                .map_err(|e| e.kind())
        })
        .map_err(|kind| io::Error::new(kind, "cannot catch Ctrl-C (SIGINT) for the prompt"))?;
    INTERRUPTED.store(false, Ordering::SeqCst);
    DEFAULT_ACTION.store(false, Ordering::SeqCst);
    let result = f();
    DEFAULT_ACTION.store(true, Ordering::SeqCst);
    // A SIGINT that came while the terminal still delivered it as a signal (just before the
    // prompt turned ISIG off, or from `kill -INT`) interrupts too, whatever was typed after it.
    let interrupted = INTERRUPTED.swap(false, Ordering::SeqCst);
    match result {
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
        _ if interrupted => Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted")),
        result => result,
    }
}

/// Ends the process as SIGINT's default action does (the shell sees death by SIGINT): for
/// Ctrl-C typed at the line editor, which reads it as a key.
pub(crate) fn die_of_sigint() -> ! {
    // Outside `interruptible` the handler (if any was installed) runs the default action.
    let _ = signal_hook::low_level::raise(SIGINT);
    std::process::exit(130)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test for everything that raises SIGINT: a SIGINT raised in the test process while
    /// no `interruptible` runs would kill the test runner.
    #[test]
    fn sigint_during_the_prompt_is_an_interrupted_error() {
        // As rpassword does on Ctrl-C: raise, then report Interrupted.
        let e = interruptible(|| -> io::Result<()> {
            signal_hook::low_level::raise(SIGINT)?;
            Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"))
        })
        .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::Interrupted);
        assert!(
            DEFAULT_ACTION.load(Ordering::SeqCst),
            "default action restored"
        );

        // A SIGINT during the prompt interrupts even if a password was read after it.
        let e = interruptible(|| {
            signal_hook::low_level::raise(SIGINT)?;
            Ok(Password::new("typed-after-the-signal"))
        })
        .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::Interrupted);
        assert!(DEFAULT_ACTION.load(Ordering::SeqCst));

        // Without a SIGINT the result is f's, and the flag of a former run is forgotten.
        let password = interruptible(|| Ok(Password::new("pw"))).unwrap();
        assert_eq!(password.expose(), "pw");
        let e = interruptible(|| -> io::Result<()> {
            Err(io::Error::new(io::ErrorKind::NotFound, "no terminal"))
        })
        .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(DEFAULT_ACTION.load(Ordering::SeqCst));
    }
}
