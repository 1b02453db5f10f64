//! The `java` command line of the node.
use std::path::Path;

use super::MAIN_CLASS;
use crate::layout::{Layout, NodeDirs};
use crate::maven;

/// Heap and start-up flags of the single node: cassandra-env.sh would take 6G here; 1-2G leaves
/// the machine to the tests. No wait before creating the default superuser on a lone seed.
pub(super) fn single_node_flags() -> Vec<String> {
    ["-Xms1G", "-Xmx2G", "-Dcassandra.superuser_setup_delay_ms=0"]
        .map(str::to_owned)
        .to_vec()
}

/// Flags of each node of an `nodes`-node cluster. Three JVMs share 2 cores and 24 GiB with the
/// tests (and maybe another checkout's node): 1 GiB heaps, fixed so memory use is predictable,
/// and only the C1 JIT: start-up is CPU-bound, and C1 alone cut each JVM's CPU time to ready
/// from ~12.5 s to ~9 s (cluster ready 68 s → 43 s at load average ~17); test traffic does not
/// need C2's peak speed.
/// `system_auth` gets a replica on every node so logins survive any node being down, and the
/// default superuser is created only once a quorum of those replicas is up (a lone node would
/// retry in a tight loop, hence the 1 s pause between attempts).
pub(super) fn cluster_node_flags(nodes: usize) -> Vec<String> {
    vec![
        "-Xms1G".into(),
        "-Xmx1G".into(),
        "-XX:TieredStopAtLevel=1".into(),
        "-Dcassandra.superuser_setup_delay_ms=1000".into(),
        format!("-Dcassandra.system_auth.default_rf={nodes}"),
    ]
}

/// JVM options: Cassandra 5.0's conf/jvm17-server.options and jvm-server.options, plus what
/// bin/cassandra and cassandra-env.sh add, sized for a 2-core machine that also runs the tests.
pub(super) fn jvm_args(
    layout: &Layout,
    dirs: &NodeDirs,
    node_flags: &[String],
    auth_classes: Option<&Path>,
) -> Vec<String> {
    let mut args: Vec<String> = [
        // jvm-server.options
        "-ea",
        "-da:net.openhft...",
        "-Xss256k",
        "-XX:+UseThreadPriorities",
        "-XX:+PerfDisableSharedMem",
        "-XX:+UseTLAB",
        "-XX:+ResizeTLAB",
        "-Djava.net.preferIPv4Stack=true",
        "-Dchronicle.analytics.disable=true",
        "-XX:+ExitOnOutOfMemoryError",
        "-XX:+UseCondCardMark",
        // jvm17-server.options
        "-XX:+UseG1GC",
        "-XX:+ParallelRefProcEnabled",
        "-XX:MaxTenuringThreshold=1",
        "-XX:G1HeapRegionSize=16m",
        "-XX:G1RSetUpdatingPauseTimePercent=5",
        "-XX:MaxGCPauseMillis=300",
        "-XX:InitiatingHeapOccupancyPercent=70",
        "-Djdk.attach.allowAttachSelf=true",
        "--add-exports",
        "java.base/jdk.internal.misc=ALL-UNNAMED",
        "--add-exports",
        "java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
        "--add-exports",
        "java.management/com.sun.jmx.remote.security=ALL-UNNAMED",
        "--add-exports",
        "java.rmi/sun.rmi.registry=ALL-UNNAMED",
        "--add-exports",
        "java.rmi/sun.rmi.server=ALL-UNNAMED",
        "--add-exports",
        "java.sql/java.sql=ALL-UNNAMED",
        "--add-exports",
        "java.base/java.lang.ref=ALL-UNNAMED",
        "--add-exports",
        "jdk.unsupported/sun.misc=ALL-UNNAMED",
        "--add-opens",
        "java.base/java.lang.module=ALL-UNNAMED",
        "--add-opens",
        "java.base/jdk.internal.loader=ALL-UNNAMED",
        "--add-opens",
        "java.base/jdk.internal.ref=ALL-UNNAMED",
        "--add-opens",
        "java.base/jdk.internal.reflect=ALL-UNNAMED",
        "--add-opens",
        "java.base/jdk.internal.math=ALL-UNNAMED",
        "--add-opens",
        "java.base/jdk.internal.module=ALL-UNNAMED",
        "--add-opens",
        "java.base/jdk.internal.util.jar=ALL-UNNAMED",
        "--add-opens",
        "jdk.management/com.sun.management.internal=ALL-UNNAMED",
        "--add-opens",
        "java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-opens",
        "java.base/java.io=ALL-UNNAMED",
        "--add-opens",
        "java.base/java.lang.reflect=ALL-UNNAMED",
        "--add-opens",
        "java.base/java.lang=ALL-UNNAMED",
        "--add-opens",
        "java.base/java.util=ALL-UNNAMED",
        "--add-opens",
        "java.base/java.nio=ALL-UNNAMED",
        "-Dio.netty.tryReflectionSetAccessible=true",
        "-Dio.netty.allocator.useCacheForAllThreads=true",
        "-Dio.netty.allocator.maxOrder=11",
        // CassandraDaemon installs a SecurityManager: JDK 17 warns, JDK 18+ needs this (harmless on 17).
        "-Djava.security.manager=allow",
        // bin/cassandra / startup speed on one seed node
        "-Dcassandra-foreground=yes",
        "-Dcassandra.skip_wait_for_gossip_to_settle=0",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if let Some(jamm) = maven::jamm_jar(layout) {
        args.push(format!("-javaagent:{}", jamm.display()));
    }
    args.extend_from_slice(node_flags);
    let tmp = dirs.tmp();
    let conf = dirs.conf();
    args.extend([
        // JNA and netty unpack native libraries; /tmp may be noexec on CI machines.
        format!("-Djna.tmpdir={}", tmp.display()),
        format!("-Dio.netty.native.workdir={}", tmp.display()),
        format!("-Djava.io.tmpdir={}", tmp.display()),
        format!(
            "-Dcassandra.config=file://{}",
            conf.join("cassandra.yaml").display()
        ),
        format!("-Dcassandra.storagedir={}", dirs.data().display()),
        format!("-Dcassandra.logdir={}", dirs.logs().display()),
        format!(
            "-Dlogback.configurationFile={}",
            conf.join("logback.xml").display()
        ),
    ]);
    let mut classpath = format!("{}:{}/*", conf.display(), layout.lib().display());
    if let Some(classes) = auth_classes {
        classpath.push(':');
        classpath.push_str(&classes.display().to_string());
    }
    args.extend(["-cp".into(), classpath, MAIN_CLASS.into()]);
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jvm_args_end_with_classpath_and_main_class() {
        let layout = Layout::discover();
        let dirs = layout.cluster_node(2);
        let args = jvm_args(
            &layout,
            &dirs,
            &cluster_node_flags(3),
            Some(Path::new("/x/classes")),
        );
        let n = args.len();
        assert_eq!(args[n - 1], MAIN_CLASS);
        assert_eq!(args[n - 3], "-cp");
        assert!(args[n - 2].ends_with(":/x/classes"));
        assert!(args.contains(&"--add-opens".to_owned()));
        assert!(args.contains(&"java.base/java.io=ALL-UNNAMED".to_owned()));
        let storage = format!("-Dcassandra.storagedir={}", dirs.data().display());
        assert!(args.contains(&storage), "is_node relies on this argument");
        assert!(args.contains(&"-Dcassandra.system_auth.default_rf=3".to_owned()));
        assert!(args.contains(&"-Xmx1G".to_owned()));
    }
}
