//! The local Apache Cassandra node: configuration, launch, readiness, stop.
//!
//! One node at a time lives under `target/cassandra/`. It is started as
//! `java … org.apache.cassandra.service.CassandraDaemon` with the JDK 17 flags of Cassandra's
//! `conf/jvm17-server.options`, in its own process group (so a terminal's Ctrl-C does not reach
//! it), and recorded in `node.json` (PID, mode, port, generated credentials). Every start wipes
//! `data/` and `logs/`: the node is a disposable test fixture and a fresh data directory avoids
//! token, cluster-name and stale-role mismatches.
//!
//! Readiness is a successful CQL login, not an open port: see [`crate::probe`].
use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::layout::Layout;
use crate::probe::{Connection, ProbeError, Tls};
use crate::util::{
    on_path, random_string, tail, write_private, Context, Result, ALNUM, BASE64ISH, UPPER_DIGITS,
};
use crate::{certs, javac, maven};

const MAIN_CLASS: &str = "org.apache.cassandra.service.CassandraDaemon";
const HOST: &str = "127.0.0.1";
const STORAGE_PORT: u16 = 7000;
/// Cold JVM + fresh data dir on 2 cores takes ~10 s; leave room for a loaded CI machine.
const READY_TIMEOUT: Duration = Duration::from_secs(240);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// The superuser Cassandra creates on first start (CassandraRoleManager); used only to create
/// the test role.
const DEFAULT_SUPERUSER: (&str, &str) = ("cassandra", "cassandra");
/// Service-specific-credential style user name (`<iam user>-at-<account id>`).
const TEST_USER: &str = "cql4-at-123456789012";
const TEST_REGION: &str = "us-east-1";
/// The class name Amazon Keyspaces announces in AUTHENTICATE (gocql PR #1379).
const ANNOUNCED_AUTHENTICATOR: &str = "com.amazon.helenus.auth.HelenusAuthenticator";

/// The child we spawned in this process, so `stop` can reap it instead of leaving a zombie.
static SPAWNED: Mutex<Option<Child>> = Mutex::new(None);

/// How the node looks to clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    /// Like Amazon Keyspaces: TLS only, SASL PLAIN and SigV4 logins, port 9142.
    Keyspaces,
    /// No TLS, no authentication, port 9042.
    Plain,
}

impl Mode {
    fn default_port(self) -> u16 {
        match self {
            Self::Keyspaces => 9142,
            Self::Plain => 9042,
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Keyspaces => "keyspaces",
            Self::Plain => "plain",
        })
    }
}

/// TLS coordinates of a keyspaces-mode node.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct TlsInfo {
    pub(crate) ca: PathBuf,
    pub(crate) server_name: String,
}

/// Generated credentials of a keyspaces-mode node. No Debug: these must not reach logs.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Credentials {
    pub(crate) user: String,
    pub(crate) password: String,
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: String,
    pub(crate) session_token: String,
    pub(crate) region: String,
}

/// What `node.json` records about the running node.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct NodeState {
    pub(crate) pid: u32,
    pub(crate) mode: Mode,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) version: String,
    pub(crate) system_log: PathBuf,
    pub(crate) started_unix: u64,
    pub(crate) tls: Option<TlsInfo>,
    pub(crate) credentials: Option<Credentials>,
}

impl NodeState {
    pub(crate) fn print_summary(&self) {
        println!(
            "Cassandra {} ({} mode) on {}:{} — pid {}",
            self.version, self.mode, self.host, self.port, self.pid
        );
        if let Some(tls) = &self.tls {
            println!(
                "  TLS required; CA {} (server name {})",
                tls.ca.display(),
                tls.server_name
            );
        }
        if let Some(c) = &self.credentials {
            println!(
                "  logins: SASL PLAIN user {} / SigV4 access key {} region {} (secrets in target/cassandra/node.json)",
                c.user, c.access_key_id, c.region
            );
        }
        println!("  log: {}", self.system_log.display());
    }

    /// The environment the integration tests read (docs/testing.md).
    pub(crate) fn test_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("CQL4_TEST_HOST", self.host.clone()),
            ("CQL4_TEST_PORT", self.port.to_string()),
            ("CQL4_TEST_NODE_LOG", self.system_log.display().to_string()),
        ];
        if let Some(tls) = &self.tls {
            env.push(("CQL4_TEST_CA", tls.ca.display().to_string()));
            env.push(("CQL4_TEST_SERVER_NAME", tls.server_name.clone()));
        }
        if let Some(c) = &self.credentials {
            env.extend([
                ("CQL4_TEST_USER", c.user.clone()),
                ("CQL4_TEST_PASSWORD", c.password.clone()),
                ("CQL4_TEST_AWS_ACCESS_KEY_ID", c.access_key_id.clone()),
                (
                    "CQL4_TEST_AWS_SECRET_ACCESS_KEY",
                    c.secret_access_key.clone(),
                ),
                ("CQL4_TEST_AWS_SESSION_TOKEN", c.session_token.clone()),
                ("CQL4_TEST_AWS_REGION", c.region.clone()),
            ]);
        }
        env
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }
}

/// Result of `start`: the node, and whether this call launched it (or reused a running one).
pub(crate) struct Started {
    pub(crate) state: NodeState,
    pub(crate) launched: bool,
}

/// Starts the node, or reuses it if it already runs healthy with the same mode and port.
pub(crate) fn start(layout: &Layout, mode: Mode, port: Option<u16>) -> Result<Started> {
    let port = port.unwrap_or_else(|| mode.default_port());
    // Several people (or helpers) share one checkout: serialise starts, then re-use.
    let _lock = StartLock::acquire(layout)?;
    if let Some(state) = read_state(layout) {
        if is_our_node(layout, state.pid) {
            if state.mode != mode || state.port != port {
                return Err(format!(
                    "a {} node already runs on port {} (pid {}); run `cargo xtask cassandra stop` first",
                    state.mode, state.port, state.pid
                ));
            }
            // Normally healthy at once; a start interrupted midway may still be coming up.
            return match wait_login(&state, Duration::from_secs(60)) {
                Ok(()) => {
                    eprintln!(
                        "xtask: Cassandra already running and healthy (pid {}, {} mode, port {}); reusing it",
                        state.pid, state.mode, state.port
                    );
                    Ok(Started {
                        state,
                        launched: false,
                    })
                }
                Err(e) => Err(format!(
                    "Cassandra pid {} runs but a login fails ({e}); run `cargo xtask cassandra stop` first",
                    state.pid
                )),
            };
        }
    }
    let strays = our_pids(layout);
    if !strays.is_empty() {
        return Err(format!(
            "Cassandra process(es) {strays:?} use {} but node.json does not describe them; \
             run `cargo xtask cassandra stop`",
            layout.data().display()
        ));
    }
    remove_state(layout);
    TcpListener::bind((HOST, port)).context(|| {
        format!("port {port} on {HOST} is taken by another process (not this harness's node)")
    })?;
    let storage_port = pick_storage_port()?;
    if !on_path("java") {
        return Err("`java` (JDK 17) is not on PATH".into());
    }

    let begun = Instant::now();
    maven::ensure_jars(layout)?;
    let version = maven::cassandra_version(layout).unwrap_or_else(|| "?".into());
    let (tls, credentials, auth_classes) = match mode {
        Mode::Plain => (None, None, None),
        Mode::Keyspaces => {
            let certs = certs::ensure(layout)?;
            let classes = javac::ensure_authenticator(layout)?;
            let tls = TlsInfo {
                ca: certs.ca,
                server_name: certs::SERVER_NAMES[0].into(),
            };
            (
                Some((tls, certs.keystore)),
                Some(new_credentials()?),
                Some(classes),
            )
        }
    };

    for dir in [layout.data(), layout.logs()] {
        if dir.exists() {
            fs::remove_dir_all(&dir).context(|| format!("remove {}", dir.display()))?;
        }
    }
    for dir in [layout.conf(), layout.logs(), layout.data(), tmp_dir(layout)] {
        fs::create_dir_all(&dir).context(|| format!("create {}", dir.display()))?;
    }
    write_config(
        layout,
        port,
        storage_port,
        tls.as_ref().map(|(_, keystore)| keystore.as_path()),
        credentials.as_ref(),
    )?;

    let jvm_started = Instant::now();
    let pid = spawn(layout, auth_classes.as_deref())?;
    let state = NodeState {
        pid,
        mode,
        host: HOST.into(),
        port,
        version: version.clone(),
        system_log: layout.system_log(),
        started_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        tls: tls.map(|(t, _)| t),
        credentials,
    };
    write_state(layout, &state)?;
    fs::write(layout.pid_file(), format!("{pid}\n")).context(|| "write cassandra.pid".into())?;
    eprintln!(
        "xtask: started Cassandra {version} (pid {pid}, {mode} mode, port {port}); waiting for a CQL login…"
    );
    if let Err(e) = wait_ready(&state) {
        print_log_tail(layout);
        // Leave nothing behind: a half-started node would block the next start.
        if let Err(stop_err) = stop(layout) {
            eprintln!("xtask: stopping the failed node: {stop_err}");
        }
        return Err(format!("Cassandra did not become ready: {e}"));
    }
    eprintln!(
        "xtask: Cassandra ready in {:.1}s (JVM launch → login {:.1}s)",
        begun.elapsed().as_secs_f64(),
        jvm_started.elapsed().as_secs_f64()
    );
    Ok(Started {
        state,
        launched: true,
    })
}

/// Stops the node: SIGTERM (Cassandra's shutdown hook flushes and exits), SIGKILL after
/// [`STOP_TIMEOUT`]. Only processes whose command line is our CassandraDaemon with our data
/// directory are signalled. Returns whether anything was running.
pub(crate) fn stop(layout: &Layout) -> Result<bool> {
    let mut pids = our_pids(layout);
    if let Some(state) = read_state(layout) {
        if is_our_node(layout, state.pid) && !pids.contains(&state.pid) {
            pids.push(state.pid);
        }
    }
    if pids.is_empty() {
        remove_state(layout);
        eprintln!("xtask: Cassandra is not running");
        return Ok(false);
    }
    let begun = Instant::now();
    for &pid in &pids {
        signal(pid, "TERM")?;
    }
    if !wait_exit(&pids, STOP_TIMEOUT) {
        for &pid in pids.iter().filter(|&&p| is_alive(p)) {
            eprintln!("xtask: pid {pid} ignored SIGTERM for {STOP_TIMEOUT:?}; sending SIGKILL");
            signal(pid, "KILL")?;
        }
        if !wait_exit(&pids, Duration::from_secs(10)) {
            return Err(format!("Cassandra pid(s) {pids:?} survived SIGKILL"));
        }
    }
    remove_state(layout);
    eprintln!(
        "xtask: stopped Cassandra (pid {pids:?}) in {:.1}s",
        begun.elapsed().as_secs_f64()
    );
    Ok(true)
}

/// Prints whether the node runs and whether a login works; fails if it is not healthy.
pub(crate) fn status(layout: &Layout) -> Result<()> {
    let Some(state) = read_state(layout).filter(|s| is_our_node(layout, s.pid)) else {
        let strays = our_pids(layout);
        if strays.is_empty() {
            println!("Cassandra is not running");
            return Ok(());
        }
        return Err(format!(
            "Cassandra process(es) {strays:?} run without node.json; `cargo xtask cassandra stop`"
        ));
    };
    state.print_summary();
    let uptime = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .saturating_sub(state.started_unix);
    println!("  up {uptime}s");
    match login_check(&state) {
        Ok(()) => {
            println!("  CQL login: ok");
            Ok(())
        }
        Err(e) => Err(format!("CQL login fails: {e}")),
    }
}

/// Prints the last `lines` lines of the node's log.
pub(crate) fn logs(layout: &Layout, lines: usize) -> Result<()> {
    let log = layout.system_log();
    if !log.exists() {
        return Err(format!("no log at {}", log.display()));
    }
    println!("{}", tail(&log, lines));
    Ok(())
}

/// Prints the end of the node's logs to stderr (used when something failed): the last
/// warnings and errors (INFO lines bury them), then the last lines as they are.
pub(crate) fn print_log_tail(layout: &Layout) {
    let system_log = layout.system_log();
    let problems: Vec<String> = fs::read(&system_log)
        .map(|bytes| {
            String::from_utf8_lossy(&bytes)
                .lines()
                .filter(|l| l.starts_with("WARN") || l.starts_with("ERROR"))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if !problems.is_empty() {
        let start = problems.len().saturating_sub(30);
        eprintln!(
            "xtask: ---- last WARN/ERROR lines of {} ----\n{}\n---- end ----",
            system_log.display(),
            problems.get(start..).unwrap_or_default().join("\n")
        );
    }
    for (log, lines) in [(system_log, 40), (layout.stdout_log(), 20)] {
        let text = tail(&log, lines);
        if !text.is_empty() {
            eprintln!(
                "xtask: ---- last {lines} lines of {} ----\n{text}\n---- end ----",
                log.display()
            );
        }
    }
}

/// Reads `node.json`, if present and parseable.
pub(crate) fn read_state(layout: &Layout) -> Option<NodeState> {
    let text = fs::read_to_string(layout.state_file()).ok()?;
    serde_json::from_str(&text).ok()
}

fn write_state(layout: &Layout, state: &NodeState) -> Result<()> {
    let json = serde_json::to_string_pretty(state).context(|| "serialize node.json".into())?;
    write_private(&layout.state_file(), json.as_bytes())
}

fn remove_state(layout: &Layout) {
    // Absent is fine; anything else will surface on the next write.
    let _ = fs::remove_file(layout.state_file());
    let _ = fs::remove_file(layout.pid_file());
}

fn new_credentials() -> Result<Credentials> {
    Ok(Credentials {
        user: TEST_USER.into(),
        password: random_string(44, ALNUM)?,
        // ASIA…: the prefix AWS uses for temporary (session-token) access keys.
        access_key_id: format!("ASIA{}", random_string(16, UPPER_DIGITS)?),
        secret_access_key: random_string(40, BASE64ISH)?,
        session_token: format!("IQoJb3JpZ2luX2Vj{}", random_string(300, BASE64ISH)?),
        region: TEST_REGION.into(),
    })
}

/// Cassandra's default inter-node port if free, else any free port: clients never see it, and
/// another node on this machine (another checkout, another harness) must not stop this one.
fn pick_storage_port() -> Result<u16> {
    if TcpListener::bind((HOST, STORAGE_PORT)).is_ok() {
        return Ok(STORAGE_PORT);
    }
    let listener = TcpListener::bind((HOST, 0)).context(|| format!("bind a port on {HOST}"))?;
    let port = listener
        .local_addr()
        .context(|| "local address of a bound port".into())?
        .port();
    eprintln!("xtask: port {STORAGE_PORT} is taken; the node's storage_port is {port}");
    Ok(port)
}

fn tmp_dir(layout: &Layout) -> PathBuf {
    layout.node.join("tmp")
}

fn write_config(
    layout: &Layout,
    port: u16,
    storage_port: u16,
    keystore: Option<&Path>,
    credentials: Option<&Credentials>,
) -> Result<()> {
    let conf = layout.conf();
    let auth = match (keystore, credentials) {
        (Some(keystore), Some(c)) => {
            let properties = conf.join("sigv4.properties");
            let text = format!(
                "# Generated by cargo xtask cassandra start; read by cql4.testnode.KeyspacesAuthenticator.\n\
                 region={}\nannounce={ANNOUNCED_AUTHENTICATOR}\nkey.{}.secret={}\nkey.{}.role={}\n",
                c.region, c.access_key_id, c.secret_access_key, c.access_key_id, c.user
            );
            write_private(&properties, text.as_bytes())?;
            format!(
                "authenticator:\n  class_name: cql4.testnode.KeyspacesAuthenticator\n  parameters:\n    config: {}\n\
                 authorizer: CassandraAuthorizer\n\
                 role_manager: CassandraRoleManager\n\
                 client_encryption_options:\n  enabled: true\n  optional: false\n  keystore: {}\n  keystore_password: {}\n  store_type: PKCS12\n  require_client_auth: false\n",
                properties.display(),
                keystore.display(),
                certs::KEYSTORE_PASSWORD
            )
        }
        _ => "authenticator: AllowAllAuthenticator\nauthorizer: AllowAllAuthorizer\n".into(),
    };
    let yaml = format!(
        "# Generated by cargo xtask cassandra start (xtask/src/cassandra.rs). Single node, test only.\n\
         cluster_name: 'cql4-test'\n\
         num_tokens: 1\n\
         partitioner: org.apache.cassandra.dht.Murmur3Partitioner\n\
         commitlog_sync: periodic\n\
         commitlog_sync_period: 10000ms\n\
         seed_provider:\n  - class_name: org.apache.cassandra.locator.SimpleSeedProvider\n    parameters:\n      - seeds: \"{HOST}:{storage_port}\"\n\
         listen_address: {HOST}\n\
         rpc_address: {HOST}\n\
         storage_port: {storage_port}\n\
         native_transport_port: {port}\n\
         endpoint_snitch: SimpleSnitch\n\
         # 2-core machines running tests beside the node: small pools, no snapshots on DROP/TRUNCATE.\n\
         concurrent_reads: 4\n\
         concurrent_writes: 4\n\
         concurrent_counter_writes: 4\n\
         concurrent_compactors: 1\n\
         auto_snapshot: false\n\
         {auth}"
    );
    fs::write(conf.join("cassandra.yaml"), yaml).context(|| "write cassandra.yaml".into())?;
    let logback = format!(
        r#"<configuration scan="false">
  <!-- Generated by cargo xtask cassandra start. One file, INFO: what tests and humans read. -->
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>{}</file>
    <encoder><pattern>%-5level [%thread] %date{{ISO8601}} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
"#,
        layout.system_log().display()
    );
    fs::write(conf.join("logback.xml"), logback).context(|| "write logback.xml".into())
}

/// JVM options: Cassandra 5.0's conf/jvm17-server.options and jvm-server.options, plus what
/// bin/cassandra and cassandra-env.sh add, sized for a 2-core machine that also runs the tests.
fn jvm_args(layout: &Layout, auth_classes: Option<&Path>) -> Vec<String> {
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
        // heap: cassandra-env.sh would take 6G here; 1-2G leaves the machine to the tests.
        "-Xms1G",
        "-Xmx2G",
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
        "-Dcassandra.superuser_setup_delay_ms=0",
        "-Dcassandra.skip_wait_for_gossip_to_settle=0",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if let Some(jamm) = maven::jamm_jar(layout) {
        args.push(format!("-javaagent:{}", jamm.display()));
    }
    let tmp = tmp_dir(layout);
    let conf = layout.conf();
    args.extend([
        // JNA and netty unpack native libraries; /tmp may be noexec on CI machines.
        format!("-Djna.tmpdir={}", tmp.display()),
        format!("-Dio.netty.native.workdir={}", tmp.display()),
        format!("-Djava.io.tmpdir={}", tmp.display()),
        format!(
            "-Dcassandra.config=file://{}",
            conf.join("cassandra.yaml").display()
        ),
        format!("-Dcassandra.storagedir={}", layout.data().display()),
        format!("-Dcassandra.logdir={}", layout.logs().display()),
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

fn spawn(layout: &Layout, auth_classes: Option<&Path>) -> Result<u32> {
    use std::os::unix::process::CommandExt;
    let out_path = layout.stdout_log();
    let out = fs::File::create(&out_path).context(|| format!("create {}", out_path.display()))?;
    let err = out
        .try_clone()
        .context(|| format!("dup {}", out_path.display()))?;
    let mut cmd = Command::new("java");
    cmd.args(jvm_args(layout, auth_classes))
        .current_dir(&layout.node)
        .env("MALLOC_ARENA_MAX", "4")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        // Own process group: Ctrl-C in the terminal goes to xtask, which stops the node itself.
        .process_group(0);
    let child = cmd.spawn().context(|| "spawn java".into())?;
    let pid = child.id();
    if let Ok(mut slot) = SPAWNED.lock() {
        *slot = Some(child);
    }
    Ok(pid)
}

fn wait_ready(state: &NodeState) -> Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut role_created = false;
    let mut last = String::from("no attempt yet");
    loop {
        if !is_alive(state.pid) {
            return Err(format!(
                "the JVM (pid {}) exited during startup; last login attempt: {last}",
                state.pid
            ));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "no successful login within {READY_TIMEOUT:?}; last attempt: {last}"
            ));
        }
        let attempt = if role_created {
            Ok(())
        } else {
            create_test_role(state)
        }
        .and_then(|()| {
            role_created = true;
            login_check_inner(state)
        });
        match attempt {
            Ok(()) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Creates the SASL PLAIN / SigV4 role as the default superuser (keyspaces mode only).
fn create_test_role(state: &NodeState) -> Result<(), ProbeError> {
    let (Some(tls), Some(c)) = (&state.tls, &state.credentials) else {
        return Ok(());
    };
    let tls = Tls {
        ca_pem: &tls.ca,
        server_name: &tls.server_name,
    };
    let mut admin = Connection::open(
        state.addr(),
        Some(&tls),
        Some(DEFAULT_SUPERUSER),
        Duration::from_secs(5),
    )?;
    // Superuser so tests may create keyspaces; the password alphabet has no quote to escape.
    admin.query(&format!(
        "CREATE ROLE IF NOT EXISTS \"{}\" WITH PASSWORD = '{}' AND LOGIN = true AND SUPERUSER = true",
        c.user, c.password
    ))
}

/// Polls [`login_check`] while the node is alive, up to `timeout`.
fn wait_login(state: &NodeState, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        match login_check(state) {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() > deadline || !is_alive(state.pid) => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}

/// `target/cassandra/start.lock`, holding the PID of the xtask that is starting the node.
/// Created with `create_new`; a lock whose holder is dead is stale and removed.
struct StartLock {
    path: PathBuf,
}

impl StartLock {
    fn acquire(layout: &Layout) -> Result<Self> {
        fs::create_dir_all(&layout.node).context(|| format!("create {}", layout.node.display()))?;
        let path = layout.node.join("start.lock");
        let deadline = Instant::now() + READY_TIMEOUT + Duration::from_secs(120);
        let mut announced = false;
        loop {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    use std::io::Write;
                    file.write_all(std::process::id().to_string().as_bytes())
                        .context(|| format!("write {}", path.display()))?;
                    return Ok(Self { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = fs::read_to_string(&path)
                        .ok()
                        .and_then(|s| s.trim().parse::<u32>().ok());
                    match holder {
                        Some(pid) if pid != std::process::id() && is_alive(pid) => {
                            if Instant::now() > deadline {
                                return Err(format!(
                                    "another `cargo xtask cassandra start` (pid {pid}) holds {}",
                                    path.display()
                                ));
                            }
                            if !announced {
                                eprintln!("xtask: waiting for another xtask (pid {pid}) that is starting Cassandra…");
                                announced = true;
                            }
                            std::thread::sleep(Duration::from_millis(500));
                        }
                        // Just created, PID not written yet: give the holder a moment.
                        None if fs::metadata(&path)
                            .and_then(|m| m.modified())
                            .is_ok_and(|t| {
                                t.elapsed().is_ok_and(|age| age < Duration::from_secs(5))
                            }) =>
                        {
                            std::thread::sleep(Duration::from_millis(200));
                        }
                        // Stale: the holder is gone.
                        _ => {
                            let _ = fs::remove_file(&path);
                        }
                    }
                }
                Err(e) => return Err(format!("create {}: {e}", path.display())),
            }
        }
    }
}

impl Drop for StartLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// One login with the node's own credentials plus a query.
fn login_check(state: &NodeState) -> Result<()> {
    login_check_inner(state).map_err(|e| e.to_string())
}

fn login_check_inner(state: &NodeState) -> Result<(), ProbeError> {
    let tls = state.tls.as_ref().map(|t| Tls {
        ca_pem: &t.ca,
        server_name: &t.server_name,
    });
    let login = state
        .credentials
        .as_ref()
        .map(|c| (c.user.as_str(), c.password.as_str()));
    let mut conn = Connection::open(state.addr(), tls.as_ref(), login, Duration::from_secs(5))?;
    conn.query("SELECT release_version FROM system.local")
}

/// PIDs of processes whose command line is CassandraDaemon with our data directory.
fn our_pids(layout: &Layout) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| is_our_node(layout, pid))
        .collect()
}

/// Whether `pid` is alive and really our Cassandra JVM (not a recycled PID).
fn is_our_node(layout: &Layout, pid: u32) -> bool {
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let storage = format!("-Dcassandra.storagedir={}", layout.data().display());
    let mut is_daemon = false;
    let mut is_ours = false;
    for arg in cmdline.split(|&b| b == 0) {
        is_daemon |= arg == MAIN_CLASS.as_bytes();
        is_ours |= arg == storage.as_bytes();
    }
    is_daemon && is_ours && is_alive(pid)
}

/// Alive = exists and is not a zombie; reaps our own child when it has exited.
fn is_alive(pid: u32) -> bool {
    if let Ok(mut slot) = SPAWNED.lock() {
        if let Some(child) = slot.as_mut().filter(|c| c.id() == pid) {
            if !matches!(child.try_wait(), Ok(None)) {
                *slot = None;
                return false;
            }
        }
    }
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // Field 3, after the parenthesised command name: R, S, D, Z, …
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, Some("Z" | "X") | None)
}

fn signal(pid: u32, sig: &str) -> Result<()> {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .context(|| "run kill".into())?;
    if status.success() || !is_alive(pid) {
        Ok(())
    } else {
        Err(format!("kill -{sig} {pid} failed with {status}"))
    }
}

fn wait_exit(pids: &[u32], timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if pids.iter().all(|&p| !is_alive(p)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    pids.iter().all(|&p| !is_alive(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jvm_args_end_with_classpath_and_main_class() {
        let layout = Layout::discover();
        let args = jvm_args(&layout, Some(Path::new("/x/classes")));
        let n = args.len();
        assert_eq!(args[n - 1], MAIN_CLASS);
        assert_eq!(args[n - 3], "-cp");
        assert!(args[n - 2].ends_with(":/x/classes"));
        assert!(args.contains(&"--add-opens".to_owned()));
        assert!(args.contains(&"java.base/java.io=ALL-UNNAMED".to_owned()));
        let storage = format!("-Dcassandra.storagedir={}", layout.data().display());
        assert!(
            args.contains(&storage),
            "is_our_node relies on this argument"
        );
    }

    #[test]
    fn our_own_process_is_not_mistaken_for_the_node() {
        assert!(!is_our_node(&Layout::discover(), std::process::id()));
        assert!(is_alive(std::process::id()));
    }

    #[test]
    fn test_env_has_every_variable_in_keyspaces_mode() {
        let state = NodeState {
            pid: 1,
            mode: Mode::Keyspaces,
            host: HOST.into(),
            port: 9142,
            version: "5.0.8".into(),
            system_log: "/l".into(),
            started_unix: 0,
            tls: Some(TlsInfo {
                ca: "/ca.pem".into(),
                server_name: "localhost".into(),
            }),
            credentials: Some(new_credentials().unwrap()),
        };
        let names: Vec<&str> = state.test_env().iter().map(|(k, _)| *k).collect();
        for name in [
            "CQL4_TEST_HOST",
            "CQL4_TEST_PORT",
            "CQL4_TEST_CA",
            "CQL4_TEST_SERVER_NAME",
            "CQL4_TEST_USER",
            "CQL4_TEST_PASSWORD",
            "CQL4_TEST_AWS_ACCESS_KEY_ID",
            "CQL4_TEST_AWS_SECRET_ACCESS_KEY",
            "CQL4_TEST_AWS_SESSION_TOKEN",
            "CQL4_TEST_AWS_REGION",
            "CQL4_TEST_NODE_LOG",
        ] {
            assert!(names.contains(&name), "{name} missing");
        }
    }
}
