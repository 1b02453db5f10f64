//! Where everything lives. All harness state is under `target/` so a fresh clone starts clean and
//! `cargo clean` resets it (Maven's `~/.m2` is the only cache outside).
use std::path::{Path, PathBuf};

/// Paths of the workspace and of the node's files.
pub(crate) struct Layout {
    /// Workspace root (the directory holding the root Cargo.toml).
    pub(crate) root: PathBuf,
    /// `target/cassandra`: jars, config, data, logs, certificates, PID and state files.
    pub(crate) node: PathBuf,
}

impl Layout {
    pub(crate) fn discover() -> Self {
        // xtask is always built from its own directory in this workspace, so the manifest dir is
        // a reliable anchor (unlike the current directory).
        let xtask_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = xtask_dir
            .parent()
            .map_or_else(|| xtask_dir.to_path_buf(), Path::to_path_buf);
        let node = root.join("target").join("cassandra");
        Self { root, node }
    }

    pub(crate) fn xtask_dir(&self) -> PathBuf {
        self.root.join("xtask")
    }
    pub(crate) fn pom(&self) -> PathBuf {
        self.xtask_dir().join("cassandra").join("pom.xml")
    }
    pub(crate) fn java_sources(&self) -> PathBuf {
        self.xtask_dir().join("java")
    }
    pub(crate) fn python_check(&self) -> PathBuf {
        self.xtask_dir().join("python").join("crosscheck.py")
    }
    pub(crate) fn python_requirements(&self) -> PathBuf {
        self.xtask_dir().join("python").join("requirements.txt")
    }
    pub(crate) fn lib(&self) -> PathBuf {
        self.node.join("lib")
    }
    pub(crate) fn lib_partial(&self) -> PathBuf {
        self.node.join("lib.partial")
    }
    pub(crate) fn auth_classes(&self) -> PathBuf {
        self.node.join("auth").join("classes")
    }
    /// The single node's own directories: conf/, data/, logs/ and tmp/ right under `node`.
    pub(crate) fn single_node(&self) -> NodeDirs {
        NodeDirs {
            root: self.node.clone(),
        }
    }
    /// Cluster node `n` (1-based): `target/cassandra/cluster/node<n>/`.
    pub(crate) fn cluster_node(&self, n: usize) -> NodeDirs {
        NodeDirs {
            root: self.node.join("cluster").join(format!("node{n}")),
        }
    }
    pub(crate) fn certs(&self) -> PathBuf {
        self.node.join("certs")
    }
    /// JSON with PID, mode, port and the generated credentials (mode 0600).
    pub(crate) fn state_file(&self) -> PathBuf {
        self.node.join("node.json")
    }
    /// Plain PID file for scripts; `stop` still verifies the process in `/proc` before signalling.
    pub(crate) fn pid_file(&self) -> PathBuf {
        self.node.join("cassandra.pid")
    }
    pub(crate) fn venv(&self) -> PathBuf {
        self.root.join("target").join("venv")
    }
}

/// The directories of one Cassandra node (the single node, or one node of the cluster).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NodeDirs {
    /// The JVM's working directory; everything below is under it.
    pub(crate) root: PathBuf,
}

impl NodeDirs {
    pub(crate) fn conf(&self) -> PathBuf {
        self.root.join("conf")
    }
    pub(crate) fn data(&self) -> PathBuf {
        self.root.join("data")
    }
    pub(crate) fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }
    /// Where JNA and netty unpack their native libraries (`/tmp` may be noexec).
    pub(crate) fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }
    /// The node's main log (logback file appender).
    pub(crate) fn system_log(&self) -> PathBuf {
        self.logs().join("system.log")
    }
    /// The JVM's stdout/stderr (startup failures before logback is up land here).
    pub(crate) fn stdout_log(&self) -> PathBuf {
        self.logs().join("stdout.log")
    }
}
