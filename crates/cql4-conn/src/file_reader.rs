//! [`cql4_auth::FileReader`] on tokio: the shared AWS `credentials`/`config` files (and the
//! container token file) are read on tokio's blocking pool (`tokio::fs`), never on a runtime
//! worker, so a slow disk or network home directory does not stall the connections polled by it.

use std::io;
use std::path::PathBuf;

use cql4_auth::{BoxFuture, FileReader, Secret};
use tokio::io::AsyncReadExt;

/// Reads files with `tokio::fs`, at most the caller's limit plus one byte.
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
    let file = tokio::fs::File::open(&path).await?;
    let keep = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    // Sized up front so the secret is not left behind in a smaller, reallocated buffer.
    let size = file.metadata().await.map_or(0, |m| m.len()).min(keep);
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(keep).read_to_end(&mut bytes).await?;
    Ok(Secret::new(bytes))
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
}
