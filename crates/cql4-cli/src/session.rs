//! A session limited to the one host given, as cqlsh stays on one host: connect (TLS,
//! authentication, `-k` keyspace), then run statements one at a time, fetching every page.
//! When the server drops the connection, the next statement runs on a new one (in the same
//! keyspace); a statement in flight at the drop fails.

use std::io::{self, BufWriter, Write};
use std::sync::Arc;
use std::time::Duration;

use cql4_auth::{AuthProvider, PasswordAuthenticator, ProcessEnv, SecretString, SigV4AuthProvider};
use cql4_conn::file_reader::TokioFileReader;
use cql4_conn::{Config, QueryOptions, TlsConfig};
use cql4_frame::event::{SchemaChange, SchemaChangeTarget, SchemaChangeType};
use cql4_frame::response::ResultResponse;
use cql4_frame::CqlValue;
use tokio::runtime::Runtime;

use crate::args::{AuthSettings, OutputFormat, Settings};
use crate::commands::{self, Capture, Display, Flow};
use crate::cqlshrc::CopyDefaults;
use crate::error::CliError;
use crate::format::cell::Precision;
use crate::format::Printer;
use crate::input::Executor;

/// A connected session.
///
/// The shell's settings live here in two places only: `options` holds what goes with each
/// request (CONSISTENCY, SERIAL CONSISTENCY, TRACING), `display` how rows are shown (EXPAND,
/// PAGING).
pub(crate) struct Session {
    session: cql4_session::Session,
    runtime: Runtime,
    options: QueryOptions,
    output: OutputFormat,
    errors: ErrorContext,
    display: Display,
    /// CAPTURE's file: query results go there instead of stdout.
    capture: Option<Capture>,
    /// The current keyspace (for the prompt).
    keyspace: Option<String>,
    /// True when a person types at a terminal: PAGING pauses between pages.
    interactive: bool,
    /// How many SOURCE files are being run, one inside the other.
    source_depth: usize,
    /// The cqlshrc's `[ui]` float and double precision (tables only).
    precision: Precision,
    /// The cqlshrc's COPY defaults.
    copy_defaults: CopyDefaults,
}

/// The auth provider for the settings: none, SASL PLAIN, or SigV4 with the AWS default
/// credentials chain and region chain. Async because the region may come from the shared
/// config file, read without blocking the runtime.
async fn auth_provider(auth: &AuthSettings) -> Result<Option<Arc<dyn AuthProvider>>, CliError> {
    Ok(match auth {
        AuthSettings::None => None,
        AuthSettings::Password { username, password } => {
            let provider =
                PasswordAuthenticator::new(username.clone(), SecretString::from(password.expose()))
                    .map_err(|e| CliError::Usage(format!("invalid credentials: {e}")))?;
            Some(Arc::new(provider))
        }
        AuthSettings::SigV4 { region } => {
            let region = cql4_auth::resolve_region(
                region.as_deref(),
                &ProcessEnv,
                &TokioFileReader::new(),
                None,
            )
            .await
            .map_err(|e| CliError::Failed(format!("SigV4: {e} (use --region)")))?;
            tracing::debug!(%region, "SigV4 region");
            // The connection layer's chain: files and `credential_process` without blocking the
            // runtime, then the container endpoint and the instance metadata service (unless
            // AWS_EC2_METADATA_DISABLED=true), each request bounded by 2 s.
            let credentials = cql4_conn::http::default_chain().build();
            Some(Arc::new(SigV4AuthProvider::new(
                Arc::new(credentials),
                region,
            )))
        }
    })
}

/// The connection config for the settings; `runtime` resolves the SigV4 region.
fn config(settings: &Settings, runtime: &Runtime) -> Result<Config, CliError> {
    let mut config = Config::new(settings.host.clone(), settings.port);
    if let Some(tls) = &settings.tls {
        let mut t = TlsConfig::new();
        if let Some(ca) = &tls.ca_file {
            // Read here so a missing file is a file error naming the flag's path.
            let pem = std::fs::read(ca).map_err(|source| CliError::File {
                path: ca.clone(),
                source,
            })?;
            t = t.with_ca_pem(pem);
        }
        if let Some(name) = &tls.server_name {
            t = t.with_server_name(name.clone());
        }
        config.tls = Some(t);
    }
    config.auth = runtime.block_on(auth_provider(&settings.auth))?;
    config.connect_timeout = settings.connect_timeout;
    config.request_timeout = settings.request_timeout;
    config.default_consistency = settings.consistency;
    config.default_page_size = settings.page_size;
    Ok(config)
}

/// Seconds as the flags take them, for messages.
fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s} s")
    }
}

/// What the one-line rendering of a driver error needs: the host and the flags' values.
#[derive(Debug, Clone)]
struct ErrorContext {
    /// `host:port` as given.
    address: String,
    connect_timeout: Duration,
    request_timeout: Duration,
}

impl ErrorContext {
    /// A driver error as one line; timeouts name the flag that sets them.
    fn conn_error(&self, e: &cql4_conn::Error) -> CliError {
        let msg = match e {
            cql4_conn::Error::ConnectTimeout { addr, .. } => format!(
                "connecting to {addr} timed out after {} (--connect-timeout)",
                secs(self.connect_timeout)
            ),
            cql4_conn::Error::Timeout { .. } => format!(
                "request timed out after {} (--request-timeout)",
                secs(self.request_timeout)
            ),
            // The session's own words ("no node available (1 in the plan …)") are about a
            // cluster; here there is one host, whose connection was lost and not replaced.
            cql4_conn::Error::NoNodeAvailable { last_error, .. } => {
                let mut msg = format!(
                    "lost the connection to {} and could not open a new one within {} \
                     (--connect-timeout)",
                    self.address,
                    secs(self.connect_timeout)
                );
                if let Some(last) = last_error {
                    msg.push_str("; last attempt: ");
                    msg.push_str(last);
                }
                msg
            }
            other => other.to_string(),
        };
        CliError::Failed(msg)
    }
}

/// Adds what to try to a connect error whose cause is likely a missing flag.
fn with_hint(cli: CliError, e: &cql4_conn::Error, tls: bool) -> CliError {
    let hint = match e {
        cql4_conn::Error::Closed(_) | cql4_conn::Error::Protocol(_) if !tls => {
            "; if the server requires TLS (Amazon Keyspaces does), add --ssl"
        }
        cql4_conn::Error::AuthRequired { .. } => "; give -u/-p or --sigv4",
        _ => return cli,
    };
    CliError::Failed(format!("{cli}{hint}"))
}

fn schema_change_note(sc: &SchemaChange) -> String {
    let change = match sc.change {
        SchemaChangeType::Created => "created",
        SchemaChangeType::Updated => "updated",
        SchemaChangeType::Dropped => "dropped",
    };
    let target = match &sc.target {
        SchemaChangeTarget::Keyspace { keyspace } => format!("keyspace {keyspace}"),
        SchemaChangeTarget::Table { keyspace, table } => format!("table {keyspace}.{table}"),
        SchemaChangeTarget::Type { keyspace, name } => format!("type {keyspace}.{name}"),
        other => format!("{other:?}"),
    };
    format!("{target} {change}")
}

/// A session on the host of `config` only, over one connection as cqlsh has: no discovery,
/// no other node, no pool growth (statements run one at a time), whatever the host.
fn single_host(config: Config) -> cql4_session::SessionConfig {
    let mut session = cql4_session::SessionConfig::new(config);
    session.single_host = true;
    session.connections_per_node = Some(1);
    session.max_connections_per_node = 1;
    session
}

impl Session {
    /// Connects, authenticates and applies `-k`.
    pub(crate) fn connect(settings: &Settings) -> Result<Self, CliError> {
        // One worker runs the connection (and replaces it once dropped) while the main thread
        // waits for the next statement: on a current-thread runtime nothing would read the
        // server's close until the next statement, which would then fail on the dead
        // connection.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| CliError::Failed(format!("cannot start the runtime: {e}")))?;
        let config = config(settings, &runtime)?;
        tracing::debug!(?config, "connecting");
        let errors = ErrorContext {
            address: config.address(),
            connect_timeout: settings.connect_timeout,
            request_timeout: settings.request_timeout,
        };
        let tls = settings.tls.is_some();
        let session = runtime
            .block_on(cql4_session::Session::connect(single_host(config)))
            .map_err(|e| with_hint(errors.conn_error(&e), &e, tls))?;
        if let Some(keyspace) = &settings.keyspace {
            // Through the session: a connection opened later starts in this keyspace too.
            runtime
                .block_on(session.use_keyspace(keyspace))
                .map_err(|e| errors.conn_error(&e))?;
        }
        let options = QueryOptions::new()
            .with_consistency(settings.consistency)
            .with_page_size(settings.page_size)
            .with_timeout(settings.request_timeout);
        Ok(Self {
            session,
            runtime,
            options,
            output: settings.output,
            errors,
            display: Display::default(),
            capture: None,
            keyspace: settings.keyspace.clone(),
            interactive: false,
            source_depth: 0,
            precision: settings.precision,
            copy_defaults: settings.copy_defaults.clone(),
        })
    }

    /// Marks the session as typed into at a terminal (PAGING pauses then).
    pub(crate) fn set_interactive(&mut self, interactive: bool) {
        self.interactive = interactive;
    }

    /// CONSISTENCY, SERIAL CONSISTENCY and TRACING, sent with every statement.
    pub(crate) fn options_mut(&mut self) -> &mut QueryOptions {
        &mut self.options
    }

    /// EXPAND and PAGING.
    pub(crate) fn display_mut(&mut self) -> &mut Display {
        &mut self.display
    }

    /// CAPTURE's file.
    pub(crate) fn capture_mut(&mut self) -> &mut Option<Capture> {
        &mut self.capture
    }

    /// True with `--output json` (stdout then holds rows only; messages go to stderr).
    pub(crate) fn is_json(&self) -> bool {
        self.output == OutputFormat::Json
    }

    /// `host:port` as given.
    pub(crate) fn address(&self) -> &str {
        &self.errors.address
    }

    /// The current keyspace, as the server named it.
    pub(crate) fn keyspace(&self) -> Option<&str> {
        self.keyspace.as_deref()
    }

    pub(crate) fn source_depth(&self) -> usize {
        self.source_depth
    }

    /// Counts a SOURCE file in (`1`) or out (`-1`).
    pub(crate) fn enter_source(&mut self, step: isize) {
        self.source_depth = self.source_depth.saturating_add_signed(step);
    }

    /// A shell command's message on stdout (never captured, as in cqlsh); nothing if empty.
    /// With `--output json` it goes to stderr: stdout holds rows only.
    pub(crate) fn say(&self, msg: &str) -> Result<(), CliError> {
        if msg.is_empty() {
            return Ok(());
        }
        if self.is_json() {
            eprintln!("{msg}");
            return Ok(());
        }
        self.say_raw(&format!("{msg}\n"))
    }

    /// Text on stdout as it is.
    pub(crate) fn say_raw(&self, text: &str) -> Result<(), CliError> {
        let mut out = io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| CliError::Failed(format!("cannot write the output: {e}")))
    }

    /// Every row of `cql` (the shell's own look-ups: versions, traces), untraced, at ONE as
    /// the drivers read traces (`system_traces` has two replicas: a single node could not give
    /// QUORUM).
    pub(crate) fn query_rows(&self, cql: &str) -> Result<Vec<Vec<Option<CqlValue>>>, CliError> {
        let options = self
            .options
            .clone()
            .with_consistency(cql4_frame::Consistency::ONE)
            .with_tracing(false)
            .with_idempotent(true);
        let mut pager = self.session.query_pages(cql, (), &options);
        let mut out = Vec::new();
        while let Some(page) = self.runtime.block_on(pager.next_page()) {
            let page = page.map_err(|e| self.errors.conn_error(&e))?;
            if let ResultResponse::Rows(rows) = &page.result {
                for row in rows.iter() {
                    out.push(
                        row.to_owned_values()
                            .map_err(|e| CliError::Failed(format!("cannot decode a row: {e}")))?,
                    );
                }
            }
        }
        Ok(out)
    }

    /// The cqlshrc's `[copy]`, `[copy-to]` and `[copy-from]` options.
    pub(crate) fn copy_defaults(&self) -> &CopyDefaults {
        &self.copy_defaults
    }

    /// The per-session query options (consistency, page size, request timeout).
    pub(crate) fn options(&self) -> &QueryOptions {
        &self.options
    }

    /// A driver error as the one line the shell prints for it.
    pub(crate) fn conn_error(&self, e: &cql4_conn::Error) -> CliError {
        self.errors.conn_error(e)
    }

    /// A short note about a non-row result: on stderr in table mode (as cqlsh reports), nothing
    /// in JSON mode (stdout holds rows only, stderr errors and warnings only).
    fn note(&self, text: &str) {
        if self.output == OutputFormat::Table {
            eprintln!("({text})");
        }
    }

    /// The library session (DESCRIBE reads its schema metadata, COPY runs its requests on it).
    pub(crate) fn inner(&self) -> &cql4_session::Session {
        &self.session
    }

    /// The runtime the session runs on.
    pub(crate) fn runtime(&self) -> &Runtime {
        &self.runtime
    }
}

impl Session {
    /// Where results go: the CAPTURE file while one is open (instead of the screen, as in
    /// cqlsh), else stdout.
    fn result_out(&self) -> Box<dyn Write + '_> {
        match &self.capture {
            Some(capture) => Box::new(BufWriter::new(&capture.file)),
            None => Box::new(BufWriter::new(io::stdout().lock())),
        }
    }
}

impl Executor for Session {
    fn execute(&mut self, cql: &str) -> Result<(), CliError> {
        if is_describe(cql) {
            let text = crate::describe::run(self, cql)?;
            let mut out = self.result_out();
            return out
                .write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| CliError::Failed(format!("cannot write the output: {e}")));
        }
        if crate::copy::is_copy(cql) {
            return crate::copy::run(self, cql);
        }
        let errors = self.errors.clone();
        let err = |e: cql4_conn::Error| errors.conn_error(&e);
        let write_err = |e: io::Error| CliError::Failed(format!("cannot write the output: {e}"));
        // As cqlsh: pages on a terminal only, and not into a CAPTURE file.
        let paged = self.interactive
            && self.display.paging
            && self.capture.is_none()
            && self.output == OutputFormat::Table;
        // A SELECT reads only: the session may retry it on another node or speculate.
        let mut options = self.options.clone().with_idempotent(is_select(cql));
        if paged {
            options = options.with_page_size(self.display.page_rows);
        }
        let mut pager = self.session.query_pages(cql, (), &options);
        let mut printer: Option<Printer> = None;
        let mut out = self.result_out();
        let mut notes = Vec::new();
        let mut switched_to = None;
        let mut trace_id = None;
        while let Some(page) = self.runtime.block_on(pager.next_page()) {
            let page = page.map_err(err)?;
            trace_id = trace_id.or(page.tracing_id);
            for warning in &page.warnings {
                eprintln!("cql4: warning: {}", crate::error::one_line(warning));
            }
            match &page.result {
                ResultResponse::Rows(rows) => {
                    let printer = printer.get_or_insert_with(|| {
                        let names = rows.columns().iter().map(|c| c.name.clone()).collect();
                        Printer::new(self.output, names, self.display.expand, self.precision)
                    });
                    for row in rows.iter() {
                        let values = row
                            .to_owned_values()
                            .map_err(|e| CliError::Failed(format!("cannot decode a row: {e}")))?;
                        printer.row(&mut out, &values).map_err(write_err)?;
                    }
                    if paged && rows.has_more_pages() {
                        printer.end_page(&mut out).map_err(write_err)?;
                        if !more_prompt().map_err(write_err)? {
                            break;
                        }
                    }
                    // Rows reach a reader (a pipe, `head`) page by page.
                    out.flush().map_err(write_err)?;
                }
                ResultResponse::Void => {}
                ResultResponse::SetKeyspace(ks) => {
                    notes.push(format!("using keyspace {ks}"));
                    switched_to = Some(ks.clone());
                }
                ResultResponse::SchemaChange(sc) => notes.push(schema_change_note(sc)),
                other => notes.push(format!("{other:?}")),
            }
        }
        if let Some(printer) = printer {
            printer.finish(&mut out).map_err(write_err)?;
        }
        if let Some(id) = trace_id {
            let id = commands::trace::uuid_text(&id);
            if self.is_json() {
                // stdout holds rows only.
                commands::trace::print(self, &id, &mut io::stderr().lock())?;
            } else {
                commands::trace::print(self, &id, &mut out)?;
            }
        }
        drop(out);
        if let Some(keyspace) = switched_to {
            // A USE typed by the user switched one connection; through the session it also
            // holds for the connection that replaces it after a drop. The server's answer
            // names the keyspace exactly (case kept), which `use_keyspace` quotes.
            self.runtime
                .block_on(self.session.use_keyspace(&keyspace))
                .map_err(err)?;
            self.keyspace = Some(keyspace);
        }
        for n in notes {
            self.note(&n);
        }
        Ok(())
    }

    fn command(&mut self, text: &str) -> Result<Flow, CliError> {
        commands::run(self, text)
    }

    fn prompt(&self) -> String {
        crate::input::prompt_for(self.keyspace())
    }
}

/// cqlsh's `---MORE---` prompt between pages: false when stdin ended (stop paging).
fn more_prompt() -> io::Result<bool> {
    let mut out = io::stdout().lock();
    out.write_all(b"---MORE---")?;
    out.flush()?;
    let mut line = String::new();
    Ok(io::stdin().read_line(&mut line)? > 0)
}

/// True for a DESCRIBE or DESC statement (case aside): run client-side by `describe`.
fn is_describe(cql: &str) -> bool {
    let word = cql
        .trim_start()
        .split(|c: char| c.is_whitespace() || c == ';')
        .next()
        .unwrap_or("");
    word.eq_ignore_ascii_case("describe") || word.eq_ignore_ascii_case("desc")
}

/// True for a SELECT statement (leading blanks and comments aside).
fn is_select(cql: &str) -> bool {
    let mut rest = cql.trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("--").or_else(|| rest.strip_prefix("//")) {
            rest = r.split_once('\n').map_or("", |(_, t)| t).trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, t)| t).trim_start();
        } else {
            break;
        }
    }
    rest.get(..6)
        .is_some_and(|w| w.eq_ignore_ascii_case("select"))
        && !rest[6..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_selects_are_idempotent() {
        for cql in [
            "SELECT * FROM t",
            "  select now() from system.local",
            "-- why\n/* a */ SeLeCt 1 FROM t",
        ] {
            assert!(is_select(cql), "{cql}");
        }
        for cql in [
            "INSERT INTO t (a) VALUES (1)",
            "UPDATE c SET n = n + 1 WHERE k = 1",
            "selector",
            "select_x",
            "/* SELECT */ DELETE FROM t",
            "",
        ] {
            assert!(!is_select(cql), "{cql}");
        }
    }

    fn runtime() -> Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn sigv4_uses_the_connection_layers_chain_with_its_io() {
        let args = <crate::args::Args as clap::Parser>::try_parse_from([
            "cql4",
            "--sigv4",
            "--region",
            "eu-north-1",
        ])
        .unwrap();
        let settings = args
            .validate(|_| None, |_| panic!("no prompt expected"))
            .unwrap();
        let debug = format!("{:?}", config(&settings, &runtime()).unwrap().auth);
        for io in ["TokioFileReader", "TokioProcessRunner", "TokioHttpFetcher"] {
            assert!(debug.contains(io), "{io} missing: {debug}");
        }
        assert!(debug.contains("eu-north-1"), "{debug}");
    }

    fn context(connect_timeout: Duration, request_timeout: Duration) -> ErrorContext {
        ErrorContext {
            address: "h:1".into(),
            connect_timeout,
            request_timeout,
        }
    }

    #[test]
    fn timeouts_name_their_flag() {
        let errors = context(Duration::from_millis(500), Duration::from_secs(10));
        let e = errors.conn_error(&cql4_conn::Error::ConnectTimeout {
            addr: "h:1".into(),
            timeout: Duration::from_millis(500),
        });
        assert_eq!(
            e.to_string(),
            "connecting to h:1 timed out after 0.5 s (--connect-timeout)"
        );
        let e = errors.conn_error(&cql4_conn::Error::Timeout {
            timeout: Duration::from_secs(10),
        });
        assert_eq!(
            e.to_string(),
            "request timed out after 10 s (--request-timeout)"
        );
    }

    #[test]
    fn a_lost_connection_not_replaced_names_the_host_and_the_flag() {
        let errors = context(Duration::from_secs(2), Duration::from_secs(10));
        let e = errors.conn_error(&cql4_conn::Error::NoNodeAvailable {
            tried: 1,
            last_error: Some("connecting to h:1: Connection refused".into()),
        });
        assert_eq!(
            e.to_string(),
            "lost the connection to h:1 and could not open a new one within 2 s \
             (--connect-timeout); last attempt: connecting to h:1: Connection refused"
        );
        let e = errors.conn_error(&cql4_conn::Error::NoNodeAvailable {
            tried: 1,
            last_error: None,
        });
        assert!(e.to_string().ends_with("(--connect-timeout)"), "{e}");
    }

    #[test]
    fn connect_errors_hint_at_the_missing_flag() {
        let t = Duration::from_secs(1);
        let errors = context(t, t);
        let closed = cql4_conn::Error::Protocol("garbage".into());
        let e = with_hint(errors.conn_error(&closed), &closed, false);
        assert!(e.to_string().ends_with("add --ssl"), "{e}");
        let e = with_hint(errors.conn_error(&closed), &closed, true);
        assert!(!e.to_string().contains("--ssl"), "{e}");
        let auth = cql4_conn::Error::AuthRequired {
            authenticator: "PasswordAuthenticator".into(),
        };
        let e = with_hint(errors.conn_error(&auth), &auth, true);
        assert!(e.to_string().ends_with("give -u/-p or --sigv4"), "{e}");
    }

    #[test]
    fn the_session_is_limited_to_the_given_host() {
        let config = single_host(Config::new("cassandra.us-east-1.amazonaws.com", 9142));
        assert!(config.single_host);
        // Not the three connections a session gives an Amazon Keyspaces endpoint.
        assert_eq!(config.connections_per_node(), 1);
        assert_eq!(config.max_connections_per_node, 1);
        assert_eq!(
            config.connection.address(),
            "cassandra.us-east-1.amazonaws.com:9142"
        );
    }

    #[test]
    fn schema_change_notes() {
        let sc = SchemaChange {
            change: SchemaChangeType::Created,
            target: SchemaChangeTarget::Table {
                keyspace: "ks".into(),
                table: "t".into(),
            },
        };
        assert_eq!(schema_change_note(&sc), "table ks.t created");
    }

    #[test]
    fn missing_ca_file_is_a_file_error() {
        let args = <crate::args::Args as clap::Parser>::try_parse_from([
            "cql4",
            "--ssl-ca",
            "/no/such/ca.pem",
        ])
        .unwrap();
        let settings = args
            .validate(|_| None, |_| panic!("no prompt expected"))
            .unwrap();
        let e = config(&settings, &runtime()).unwrap_err();
        assert!(
            e.to_string().starts_with("cannot read /no/such/ca.pem: "),
            "{e}"
        );
    }

    #[test]
    fn password_is_not_in_the_config_debug() {
        let args = <crate::args::Args as clap::Parser>::try_parse_from([
            "cql4",
            "-u",
            "alice",
            "-p",
            "pw-5e6f7a",
        ])
        .unwrap();
        let settings = args
            .validate(|_| None, |_| panic!("no prompt expected"))
            .unwrap();
        let config = config(&settings, &runtime()).unwrap();
        let debug = format!("{config:?}");
        assert!(debug.contains("alice"), "{debug}");
        assert!(!debug.contains("pw-5e6f7a"), "{debug}");
    }
}
