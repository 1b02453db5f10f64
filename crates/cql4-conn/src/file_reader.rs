//! [`cql4_auth::FileReader`] on tokio: the shared AWS `credentials`/`config` files (and the
//! container token file) are read on tokio's blocking pool (`spawn_blocking`), never on a runtime
//! worker, so a slow disk or network home directory does not stall the connections polled by it.
//!
//! `std::fs` rather than `tokio::fs`: tokio's file reads go through a buffer of its own (and
//! small reads reserve in steps), so parts of a secret would be left in memory nobody zeroes.
//! Here the file is read straight into one `Zeroizing` buffer sized from its length.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use cql4_auth::{BoxFuture, FileReader, Secret};
use zeroize::Zeroizing;

/// Reads files on tokio's blocking pool, at most the caller's limit plus one byte.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct TokioFileReader;

impl TokioFileReader {
    /// The reader.
    pub fn new() -> Self {
        Self
    }
}

impl FileReader for TokioFileReader {
    fn read_file(&self, path: PathBuf, limit: usize) -> BoxFuture<'_, io::Result<Secret>> {
        Box::pin(read(path, limit))
    }
}

async fn read(path: PathBuf, limit: usize) -> io::Result<Secret> {
    tokio::task::spawn_blocking(move || read_blocking(&path, limit))
        .await
        .map_err(|e| io::Error::other(format!("the file-reading task failed: {e}")))?
}

/// Reads at most `limit + 1` bytes into a buffer sized from the file's length plus one (so the
/// end of the file is seen without growing). Should the file grow while it is read, the bytes
/// move to a larger buffer and the smaller one is zeroed when dropped.
fn read_blocking(path: &Path, limit: usize) -> io::Result<Secret> {
    let mut file = std::fs::File::open(path)?;
    let cap = limit.saturating_add(1);
    let size = file
        .metadata()
        .map_or(0, |m| usize::try_from(m.len()).unwrap_or(usize::MAX));
    let mut buf = Zeroizing::new(vec![0u8; size.saturating_add(1).min(cap)]);
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            if filled == cap {
                break;
            }
            let mut larger = Zeroizing::new(vec![0u8; filled.saturating_mul(2).clamp(64, cap)]);
            larger[..filled].copy_from_slice(&buf[..filled]);
            buf = larger;
        }
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(filled);
    // Moved, not copied: `Secret` zeroes it on drop.
    Ok(Secret::new(std::mem::take(&mut *buf)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn reads_whole_files_bounded_and_reports_missing_ones() {
        let dir = std::env::temp_dir().join(format!("cql4-file-reader-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("config");
        std::fs::write(&path, "[default]\nregion = eu-west-1\n").expect("write");
        let rt = runtime();
        let whole = rt
            .block_on(TokioFileReader.read_file(path.clone(), 1024))
            .expect("read");
        assert_eq!(whole.expose(), b"[default]\nregion = eu-west-1\n");
        // One byte over the limit, so the caller can tell the file is too large.
        let cut = rt
            .block_on(TokioFileReader.read_file(path.clone(), 4))
            .expect("read");
        assert_eq!(cut.expose(), b"[defa");
        let missing = rt
            .block_on(TokioFileReader.read_file(dir.join("nope"), 1024))
            .expect_err("missing");
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn files_that_report_no_size_are_read_whole() {
        // /proc files report a length of 0: the buffer must grow past its first guess.
        let path = PathBuf::from("/proc/self/status");
        let rt = runtime();
        let status = rt
            .block_on(TokioFileReader.read_file(path.clone(), 1 << 20))
            .expect("read");
        assert!(status.expose().starts_with(b"Name:"));
        assert!(status.expose().len() > 100, "{}", status.expose().len());
        assert!(status.expose().ends_with(b"\n"));
        let cut = rt
            .block_on(TokioFileReader.read_file(path, 70))
            .expect("read");
        assert_eq!(cut.expose().len(), 71);
    }
}
