//! The fuzzing loop: draw, send, judge, minimize, and watch for the server dying.
//!
//! Requests go one at a time on the current raw connection while its framing is known, else
//! on a fresh login. A crash is declared when `--crash-logins` logins in a row fail (500 ms
//! apart); liveness is checked every `--health-every` requests, at once after a connection
//! that was lost without an answer (what a dying server looks like), and at the end.

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use cql4_conn::Config;

use super::args::{Args, Stage};
use super::findings::{Finding, Kind};
use super::minimize::minimize;
use super::mutations::generate;
use super::oracle::{exchange, judge, Observation};
use super::probe::{Probe, ServerDown};
use super::report::{CampaignReport, CrashInfo};
use super::templates::{
    capture, format_templates, parse_templates, unauthenticated_requests, Template,
};
use super::text_file::read_text;
use super::Error;
use crate::raw::{RawConnection, RawState, Reaction};

/// One request sent, kept as a crash candidate.
struct Sent {
    iteration: u64,
    frame: Vec<u8>,
    template: String,
    mutations: String,
    outcome: String,
    lost_connection: bool,
}

pub(crate) async fn campaign(args: &Args, config: &Config) -> Result<CampaignReport, Error> {
    let templates: Vec<Template> = match &args.templates {
        Some(path) => {
            let text = read_text(path)?;
            parse_templates(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None if args.stage == Stage::LoggedIn => capture(config, args.deadline()).await?,
        None => unauthenticated_requests()?,
    };
    if let Some(path) = &args.save_templates {
        std::fs::write(path, format_templates(&templates))?;
    }
    let dir = args.out.clone().unwrap_or_else(|| {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        PathBuf::from(format!("target/fuzz-server/{}-{now}", args.seed))
    });
    std::fs::create_dir_all(&dir)?;

    let probe = Probe {
        config,
        deadline: args.deadline(),
        unknown_wait: args.unknown_wait(),
        crash_logins: args.crash_logins,
        stage: args.stage,
    };
    let range = match args.only_iteration {
        Some(i) => i..i.saturating_add(1),
        None => {
            args.start
                ..args
                    .start
                    .saturating_add(args.max_requests.unwrap_or(u64::MAX))
        }
    };
    let mut report = CampaignReport {
        seed: args.seed,
        dir: dir.clone(),
        stopped: "request budget".to_owned(),
        ..CampaignReport::default()
    };
    let mut written: HashSet<(Kind, String)> = HashSet::new();
    let mut recent: VecDeque<Sent> = VecDeque::new();
    let mut raw: Option<RawConnection> = None;
    let started = Instant::now();
    let mut down: Option<(u64, ServerDown)> = None;

    for iteration in range {
        if started.elapsed() >= args.duration {
            report.stopped = "time budget".to_owned();
            break;
        }
        let plan = generate(args.seed, iteration, &templates);
        let frame = plan.frame(&templates);
        // A close or a stray frame already waiting belongs to the previous request: start
        // clean rather than blame this one (a zero timeout still polls the socket once).
        if let Some(conn) = raw.as_mut() {
            if !matches!(
                conn.recv_within(Duration::ZERO).await,
                Reaction::Silent { .. }
            ) {
                raw = None;
            }
        }
        if !matches!(
            raw.as_ref().map(RawConnection::state),
            Some(RawState::Framed)
        ) {
            report.logins += 1;
            match probe.login().await {
                Ok(r) => raw = Some(r),
                Err(e) => {
                    down = Some((iteration.saturating_sub(1), e));
                    break;
                }
            }
        }
        let Some(conn) = raw.as_mut() else { break };
        let observation = exchange(conn, &frame, probe.deadline, probe.unknown_wait).await;
        report.requests += 1;
        let key = observation.key();
        *report.outcomes.entry(key.clone()).or_default() += 1;
        match &observation {
            // Cassandra closes the connection after a PROTOCOL_ERROR; a fresh login keeps the
            // next outcome attributed to the next frame.
            Observation::Answer { key, .. }
                if key.contains("PROTOCOL_ERROR") || key.contains("another stream") =>
            {
                if let Some(mut r) = raw.take() {
                    r.close().await;
                }
            }
            // Unauthenticated stages: a fresh connection per request.
            Observation::Answer { .. } if args.stage == Stage::LoggedIn => {}
            Observation::Answer { .. } => {
                if let Some(mut r) = raw.take() {
                    r.close().await;
                }
            }
            _ => raw = None,
        }
        let template = templates[plan.template].name.clone();
        if recent.len() >= args.crash_window.max(1) {
            recent.pop_front();
        }
        recent.push_back(Sent {
            iteration,
            frame: frame.clone(),
            template: template.clone(),
            mutations: plan.describe(),
            outcome: key,
            lost_connection: observation.lost_connection(),
        });

        if let Some(d) = judge(&frame, &observation) {
            *report.seen.entry(d.kind).or_default() += 1;
            if written.insert((d.kind, d.signature.clone())) {
                if let Some(mut r) = raw.take() {
                    r.close().await;
                }
                let m = minimize(&probe, &templates, &plan, &d, args.minimize_attempts).await;
                let mut f = Finding::new(d.kind, args.seed, iteration, m.frame.clone());
                f.signature = d.signature;
                f.stage = args.stage;
                f.template = template;
                f.mutations = super::mutations::Plan {
                    template: plan.template,
                    mutations: m.mutations,
                }
                .describe();
                f.observed = d.observed;
                f.minimized = m.summary;
                f.original = (m.frame != frame).then(|| frame.clone());
                report.files.push(f.write_to(&dir)?);
                if let Some(e) = m.server_down {
                    down = Some((iteration, e));
                    break;
                }
            }
        }
        let check = (iteration + 1) % args.health_every == 0 || observation.lost_connection();
        if check {
            report.health_checks += 1;
            if let Err(e) = probe.alive().await {
                down = Some((iteration, e));
                break;
            }
        }
    }
    if let Some(mut r) = raw.take() {
        r.close().await;
    }
    if down.is_none() && report.requests > 0 {
        report.health_checks += 1;
        if let Err(e) = probe.alive().await {
            down = Some((recent.back().map_or(0, |s| s.iteration), e));
        }
    }
    report.elapsed = started.elapsed();
    if let Some((iteration, e)) = down {
        report.stopped = "the server stopped accepting logins".to_owned();
        report.crash = Some(CrashInfo {
            iteration,
            requests: report.requests,
            elapsed: report.elapsed,
        });
        *report.seen.entry(Kind::Crash).or_default() += 1;
        let f = crash_finding(args, &recent, report.requests, report.elapsed, &e);
        report.files.push(f.write_to(&dir)?);
    }
    std::fs::write(dir.join("summary.txt"), report.summary())?;
    Ok(report)
}

/// The crash finding: the prime suspect is the newest request whose connection was lost
/// without an answer (else the newest request); every recent request is a candidate.
fn crash_finding(
    args: &Args,
    recent: &VecDeque<Sent>,
    requests: u64,
    elapsed: Duration,
    down: &ServerDown,
) -> Finding {
    let suspect = recent
        .iter()
        .rev()
        .find(|s| s.lost_connection)
        .or_else(|| recent.back());
    let mut f = match suspect {
        Some(s) => {
            let mut f = Finding::new(Kind::Crash, args.seed, s.iteration, s.frame.clone());
            f.template = s.template.clone();
            f.mutations = s.mutations.clone();
            f.observed = format!(
                "the prime suspect's connection: {}; then {} logins in a row failed: {} \
                 ({requests} requests, {:.1} s into the run)",
                s.outcome,
                args.crash_logins,
                down.0,
                elapsed.as_secs_f64()
            );
            f
        }
        None => {
            let mut f = Finding::new(Kind::Crash, args.seed, 0, Vec::new());
            f.observed = format!("logins failed before any request: {}", down.0);
            f
        }
    };
    f.signature = "the server stopped accepting logins".to_owned();
    f.stage = args.stage;
    f.minimized = format!(
        "not minimized: that needs a server restart per attempt; the last {} requests are the \
         candidates, and --replay on a fresh server isolates the one that stops it",
        recent.len()
    );
    f.candidates = recent
        .iter()
        .map(|s| (s.iteration, s.frame.clone()))
        .collect();
    f
}
