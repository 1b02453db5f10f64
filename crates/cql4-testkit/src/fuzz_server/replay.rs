//! `--replay FILE`: sends a finding again and says whether it reproduces, at the file's
//! `stage` (logged in, before STARTUP or before authentication; `--stage` is ignored).
//!
//! - hang, undecodable, leak, server-error, oversized-length-waits: the frame on a fresh
//!   login; it reproduces when the same kind with the same signature is observed (one
//!   attempt);
//! - crash: the frame (the prime suspect) on a fresh login, then the liveness check (a login
//!   and OPTIONS, `--crash-logins` attempts 500 ms apart). While the server stays up, each
//!   candidate is sent the same way, newest first. The first frame after which the server
//!   stops accepting logins is the culprit: it is reported and written next to the file as
//!   `<name>-isolated.txt`, a crash finding with that single frame. A crash that needs several
//!   frames in sequence is not reproduced this way: rerun the range with `--start I
//!   --max-requests N` instead.

use std::path::{Path, PathBuf};

use cql4_conn::Config;

use super::args::Args;
use super::findings::{Finding, Kind};
use super::oracle::Detection;
use super::probe::Probe;
use super::Error;

/// What a replay found.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReplayReport {
    /// The finding was seen again.
    pub reproduced: bool,
    /// What the server did, in words.
    pub observed: String,
    /// Crash replays: the single frame that stopped the server, written to this file.
    pub isolated: Option<PathBuf>,
}

pub(crate) async fn replay(
    args: &Args,
    config: &Config,
    path: &Path,
) -> Result<ReplayReport, Error> {
    let finding = Finding::read(path)?;
    let probe = Probe {
        config,
        deadline: args.deadline(),
        unknown_wait: args.unknown_wait(),
        crash_logins: args.crash_logins,
        stage: finding.stage,
    };
    if finding.kind != Kind::Crash {
        let (observation, detection) = probe
            .send(&finding.frame)
            .await
            .map_err(|down| format!("cannot log in: {}", down.0))?;
        let reproduced = reproduces(&finding, detection.as_ref());
        let observed = match detection {
            Some(d) => format!("{} [{}]: {}", d.kind, d.signature, d.observed),
            None => format!("no finding: {}", observation.key()),
        };
        return Ok(ReplayReport {
            reproduced,
            observed,
            isolated: None,
        });
    }

    probe
        .alive()
        .await
        .map_err(|down| format!("the server is down before the replay: {}", down.0))?;
    let mut order: Vec<(u64, &[u8])> = vec![(finding.iteration, &finding.frame)];
    for (i, frame) in finding.candidates.iter().rev() {
        if *frame != finding.frame {
            order.push((*i, frame));
        }
    }
    for (n, (iteration, frame)) in order.iter().enumerate() {
        let sent = match probe.login().await {
            Ok(mut raw) => {
                let o =
                    super::oracle::exchange(&mut raw, frame, args.deadline(), args.unknown_wait())
                        .await;
                raw.close().await;
                o.key()
            }
            Err(down) => return Err(format!("cannot log in: {}", down.0).into()),
        };
        if let Err(down) = probe.alive().await {
            let mut isolated = Finding::new(Kind::Crash, finding.seed, *iteration, frame.to_vec());
            isolated.stage = finding.stage;
            isolated.signature = finding.signature.clone();
            isolated.template = if n == 0 {
                finding.template.clone()
            } else {
                String::new()
            };
            isolated.mutations = if n == 0 {
                finding.mutations.clone()
            } else {
                String::new()
            };
            isolated.observed = format!(
                "alone on a fresh server: {sent}; then logins failed: {}",
                down.0
            );
            isolated.minimized = format!(
                "isolated by --replay of {} ({} of {} frames sent)",
                path.display(),
                n + 1,
                order.len()
            );
            let out = isolated_path(path);
            std::fs::write(&out, isolated.to_text())?;
            return Ok(ReplayReport {
                reproduced: true,
                observed: format!(
                    "the server stopped accepting logins after frame {} of {} (iteration {iteration}): {sent}; {}",
                    n + 1,
                    order.len(),
                    down.0
                ),
                isolated: Some(out),
            });
        }
    }
    Ok(ReplayReport {
        reproduced: false,
        observed: format!(
            "the server survived all {} frames, each alone on a fresh login",
            order.len()
        ),
        isolated: None,
    })
}

/// Whether `detection` is `finding` seen again: the same kind and signature (as read back
/// from the file).
fn reproduces(finding: &Finding, detection: Option<&Detection>) -> bool {
    detection.is_some_and(|d| d.kind == finding.kind && d.signature == finding.signature)
}

fn isolated_path(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(|| "crash".into(), |s| s.to_string_lossy().into_owned());
    let stem = stem.trim_end_matches("-isolated");
    path.with_file_name(format!("{stem}-isolated.txt"))
}

#[cfg(test)]
mod tests {
    use super::super::oracle::{judge, Observation};
    use super::*;

    #[test]
    fn a_server_error_with_line_breaks_reproduces_from_its_file() {
        let query = [4, 0, 0, 1, 7, 0, 0, 0, 0];
        let answer = |message: &str| Observation::Answer {
            key: "ERROR 0x0000 SERVER_ERROR".to_owned(),
            undecodable: None,
            error: Some((0, message.to_owned())),
        };
        let first = answer("Unexpected failure\nwhile reading 12 bytes\r\n\r\nretry later");
        let d = judge(&query, &first).unwrap();
        assert_eq!(d.kind, Kind::ServerError);
        assert_eq!(
            d.signature,
            "Unexpected failure | while reading # bytes | retry later"
        );
        let mut f = Finding::new(d.kind, 1, 2, query.to_vec());
        f.signature = d.signature.clone();
        f.observed = d.observed.clone();
        let back = Finding::parse(&f.to_text()).unwrap();
        assert_eq!(back.signature, f.signature);
        // The replay's fresh observation: other numbers, the same shape.
        let again = judge(
            &query,
            &answer("Unexpected failure\nwhile reading 7 bytes\r\n\r\nretry later"),
        );
        assert!(reproduces(&back, again.as_ref()));
        let other = judge(&query, &answer("Unexpected failure\nelsewhere"));
        assert!(!reproduces(&back, other.as_ref()));
        assert!(!reproduces(&back, None));
    }
}
