//! Reading the text files the fuzzer is given (templates, findings), bounded: a path such as
//! `/dev/zero` or a huge file is an error, not an unbounded allocation.

use std::io::Read as _;
use std::path::Path;

/// The largest text file read: far above any template or finding file.
pub(crate) const MAX_TEXT_FILE: u64 = 16 * 1024 * 1024;

/// The file's text, or why it cannot be read (I/O, over [`MAX_TEXT_FILE`], not UTF-8).
pub(crate) fn read_text(path: &Path) -> Result<String, String> {
    let cannot = |why: String| format!("cannot read {}: {why}", path.display());
    let file = std::fs::File::open(path).map_err(|e| cannot(e.to_string()))?;
    let mut text = String::new();
    file.take(MAX_TEXT_FILE + 1)
        .read_to_string(&mut text)
        .map_err(|e| cannot(e.to_string()))?;
    if text.len() as u64 > MAX_TEXT_FILE {
        return Err(cannot(format!(
            "larger than {} MiB",
            MAX_TEXT_FILE / (1024 * 1024)
        )));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_or_missing_files_are_errors() {
        let zero = Path::new("/dev/zero");
        if zero.exists() {
            let e = read_text(zero).unwrap_err();
            assert!(e.contains("larger than 16 MiB"), "{e}");
        }
        let e = read_text(Path::new("/nonexistent/cql4-findings.txt")).unwrap_err();
        assert!(
            e.starts_with("cannot read /nonexistent/cql4-findings.txt"),
            "{e}"
        );
        let file = std::env::temp_dir().join(format!("cql4-text-file-{}", std::process::id()));
        std::fs::write(&file, "kind: hang\n").unwrap();
        assert_eq!(read_text(&file).unwrap(), "kind: hang\n");
        let _ = std::fs::remove_file(&file);
    }
}
