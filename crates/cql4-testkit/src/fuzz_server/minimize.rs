//! Shrinking a finding's frame while it still reproduces, within a bounded number of attempts
//! (each one a fresh login and one frame):
//!
//! 1. the frame is sent again as it was; a finding that does not reproduce on a fresh
//!    connection is kept as sent and marked so;
//! 2. each mutation, last first, is dropped (the field goes back to the template's bytes)
//!    when the finding reproduces without it;
//! 3. body bytes are dropped in chunks (half the body, then quarters, … down to single bytes),
//!    keeping the header's length equal to the body when the frame was whole.
//!
//! Crashes are not minimized here: a reproduction attempt would need a server restart. The
//! crash file lists the last frames sent instead, and `--replay` isolates the culprit on a
//! fresh server (see [`super::replay`]).

use super::mutations::{apply_all, Mutation, Plan, HEADER_LEN};
use super::oracle::Detection;
use super::probe::{Probe, ServerDown};
use super::templates::Template;
use crate::raw::{framing, Framing};

/// What minimization produced.
pub(crate) struct Minimized {
    pub(crate) frame: Vec<u8>,
    /// The mutations still applied (the frame may be shorter still: step 3).
    pub(crate) mutations: Vec<Mutation>,
    pub(crate) summary: String,
    /// The server stopped accepting logins during an attempt.
    pub(crate) server_down: Option<ServerDown>,
}

struct Budget<'a> {
    probe: &'a Probe<'a>,
    target: &'a Detection,
    left: u32,
    used: u32,
    server_down: Option<ServerDown>,
}

impl Budget<'_> {
    /// Whether `frame` reproduces the target; `None` when out of attempts or the server is
    /// down.
    async fn reproduces(&mut self, frame: &[u8]) -> Option<bool> {
        if self.left == 0 || self.server_down.is_some() {
            return None;
        }
        self.left -= 1;
        self.used += 1;
        match self.probe.send(frame).await {
            Ok((_, Some(d))) => {
                Some(d.kind == self.target.kind && d.signature == self.target.signature)
            }
            Ok((_, None)) => Some(false),
            Err(down) => {
                self.server_down = Some(down);
                None
            }
        }
    }
}

pub(crate) async fn minimize(
    probe: &Probe<'_>,
    templates: &[Template],
    plan: &Plan,
    target: &Detection,
    attempts: u32,
) -> Minimized {
    let original = plan.frame(templates);
    let mut b = Budget {
        probe,
        target,
        left: attempts,
        used: 0,
        server_down: None,
    };
    let done =
        |frame: Vec<u8>, mutations: Vec<Mutation>, summary: String, b: Budget<'_>| Minimized {
            frame,
            mutations,
            summary,
            server_down: b.server_down,
        };
    if attempts == 0 {
        return done(
            original,
            plan.mutations.clone(),
            "not minimized (--minimize-attempts 0)".to_owned(),
            b,
        );
    }
    match b.reproduces(&original).await {
        Some(true) => {}
        Some(false) => {
            return done(
                original,
                plan.mutations.clone(),
                "did not reproduce on a fresh connection (1 attempt): kept as sent".to_owned(),
                b,
            )
        }
        None => {
            return done(
                original,
                plan.mutations.clone(),
                "not minimized: the server stopped accepting logins".to_owned(),
                b,
            )
        }
    }

    // 2. Fields back to the template.
    let mut kept = plan.mutations.clone();
    let mut frame = original.clone();
    for i in (0..kept.len()).rev() {
        let mut fewer = kept.clone();
        fewer.remove(i);
        let candidate = apply_all(templates, plan.template, &fewer);
        if candidate == frame {
            kept = fewer;
            continue;
        }
        match b.reproduces(&candidate).await {
            Some(true) => {
                kept = fewer;
                frame = candidate;
            }
            Some(false) => {}
            None => break,
        }
    }
    let reset = plan.mutations.len() - kept.len();

    // 3. Body bytes.
    let whole = framing(&frame) == Framing::Frames(1);
    let before_bytes = frame.len();
    let mut chunk = frame.len().saturating_sub(HEADER_LEN) / 2;
    'shrink: while chunk >= 1 && frame.len() > HEADER_LEN {
        let mut at = frame.len().saturating_sub(chunk);
        while at >= HEADER_LEN {
            let mut candidate = frame.clone();
            candidate.drain(at..(at + chunk).min(candidate.len()));
            if whole {
                Mutation::FixLength.apply(&mut candidate, templates);
            }
            match b.reproduces(&candidate).await {
                Some(true) => {
                    frame = candidate;
                    at = at.min(frame.len().saturating_sub(chunk));
                    if frame.len() <= HEADER_LEN {
                        break;
                    }
                }
                Some(false) => match at.checked_sub(chunk) {
                    Some(next) => at = next,
                    None => break,
                },
                None => break 'shrink,
            }
        }
        chunk /= 2;
    }
    let summary = format!(
        "{} attempts: {reset} of {} mutations reset to the template, {} body bytes dropped; \
         {} -> {} bytes{}",
        b.used,
        plan.mutations.len(),
        before_bytes - frame.len(),
        original.len(),
        frame.len(),
        if b.left == 0 {
            " (attempts exhausted)"
        } else {
            ""
        },
    );
    done(frame, kept, summary, b)
}
