//! Small helpers: running commands with readable errors, randomness, file tails.
use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};

/// xtask errors are messages for a human at a terminal.
pub(crate) type Result<T, E = String> = std::result::Result<T, E>;

/// Adds what was being done to an error.
pub(crate) trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: std::fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| format!("{}: {e}", what()))
    }
}

/// Runs a command with inherited stdio; fails unless it exits 0.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: running {}", describe(cmd));
    let status = cmd
        .status()
        .context(|| format!("cannot run {}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed with {status}", describe(cmd)))
    }
}

/// Runs a command capturing its output; fails (with the output) unless it exits 0.
pub(crate) fn run_captured(cmd: &mut Command) -> Result<Output> {
    let output = cmd
        .output()
        .context(|| format!("cannot run {}", describe(cmd)))?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(format!(
            "{} failed with {}\n{}{}",
            describe(cmd),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Program and arguments, without the environment (which may hold secrets).
pub(crate) fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}

/// Whether `program` can be found on PATH.
pub(crate) fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// `len` characters drawn uniformly from `alphabet` (at most 256 symbols), from the OS RNG.
pub(crate) fn random_string(len: usize, alphabet: &[u8]) -> Result<String> {
    let limit = 256 - 256 % alphabet.len().clamp(1, 256);
    let mut file = fs::File::open("/dev/urandom").context(|| "open /dev/urandom".into())?;
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        file.read_exact(&mut buf)
            .context(|| "read /dev/urandom".into())?;
        // Rejection sampling keeps every symbol equally likely.
        for &b in buf.iter().filter(|&&b| usize::from(b) < limit) {
            if out.len() == len {
                break;
            }
            if let Some(&c) = alphabet.get(usize::from(b) % alphabet.len()) {
                out.push(char::from(c));
            }
        }
    }
    Ok(out)
}

pub(crate) const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub(crate) const BASE64ISH: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The last `lines` lines of a text file ("" if it does not exist).
pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let Ok(bytes) = fs::read(path) else {
        return String::new();
    };
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all.get(start..).unwrap_or_default().join("\n")
}

/// Writes a file readable only by its owner (credentials, keystore passwords).
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .context(|| format!("create {}", path.display()))?;
    file.write_all(contents)
        .context(|| format!("write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_string_uses_only_the_alphabet_and_differs() {
        let a = random_string(40, UPPER_DIGITS).unwrap();
        let b = random_string(40, UPPER_DIGITS).unwrap();
        assert_eq!(a.len(), 40);
        assert!(a.bytes().all(|c| UPPER_DIGITS.contains(&c)));
        assert_ne!(a, b);
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let dir = std::env::temp_dir().join(format!("xtask-tail-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("log");
        fs::write(&file, "a\nb\nc\nd\n").unwrap();
        assert_eq!(tail(&file, 2), "c\nd");
        assert_eq!(tail(&file, 10), "a\nb\nc\nd");
        assert_eq!(tail(&dir.join("missing"), 3), "");
        fs::remove_dir_all(&dir).unwrap();
    }
}
