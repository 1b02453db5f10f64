//! One frame on a fresh login, and the liveness check: what minimization, replay and the
//! crash detector are built on.

use std::time::Duration;

use cql4_conn::Config;

use super::args::Stage;
use super::connect::open;
use super::oracle::{exchange, judge, Detection, Observation};
use crate::raw::RawConnection;

/// Pause between the logins of a liveness check.
pub(crate) const LOGIN_PAUSE: Duration = Duration::from_millis(500);

/// Sends frames, each on its own fresh login, and judges what comes back.
pub(crate) struct Probe<'a> {
    pub(crate) config: &'a Config,
    pub(crate) deadline: Duration,
    pub(crate) unknown_wait: Duration,
    /// Logins failing in a row that mean the server is down.
    pub(crate) crash_logins: u32,
    /// Where frames are sent.
    pub(crate) stage: Stage,
}

/// The server stopped accepting logins; the last login error.
#[derive(Debug)]
pub(crate) struct ServerDown(pub(crate) String);

impl Probe<'_> {
    /// Sends `frame` on a fresh login; the observation and its finding, if any.
    pub(crate) async fn send(
        &self,
        frame: &[u8],
    ) -> Result<(Observation, Option<Detection>), ServerDown> {
        let mut raw = self.login().await?;
        let observation = exchange(&mut raw, frame, self.deadline, self.unknown_wait).await;
        raw.close().await;
        let detection = judge(frame, &observation);
        Ok((observation, detection))
    }

    /// A connection at the stage (a login when logged in), retried up to `crash_logins` times.
    pub(crate) async fn login(&self) -> Result<RawConnection, ServerDown> {
        let mut last = String::new();
        for attempt in 0..self.crash_logins.max(1) {
            if attempt > 0 {
                tokio::time::sleep(LOGIN_PAUSE).await;
            }
            match open(self.config, self.stage).await {
                Ok(raw) => return Ok(raw),
                Err(e) => last = e,
            }
        }
        Err(ServerDown(last))
    }

    /// Whether the server still logs a client in (unauthenticated stages: still accepts a
    /// connection) and answers OPTIONS with SUPPORTED.
    pub(crate) async fn alive(&self) -> Result<(), ServerDown> {
        let mut last = String::new();
        for attempt in 0..self.crash_logins.max(1) {
            if attempt > 0 {
                tokio::time::sleep(LOGIN_PAUSE).await;
            }
            let stage = match self.stage {
                Stage::LoggedIn => Stage::LoggedIn,
                _ => Stage::BeforeStartup,
            };
            let mut raw = match open(self.config, stage).await {
                Ok(raw) => raw,
                Err(e) => {
                    last = e;
                    continue;
                }
            };
            let options = crate::raw::frame(0, 1, 0x05, b"");
            let observation = exchange(&mut raw, &options, self.deadline, self.deadline).await;
            raw.close().await;
            match observation {
                Observation::Answer { key, .. } if key == "SUPPORTED" => return Ok(()),
                other => last = format!("OPTIONS after login: {}", other.key()),
            }
        }
        Err(ServerDown(last))
    }
}
