//! A statement's trace as cqlsh prints it after a traced statement and for SHOW SESSION: the
//! `Tracing session: <id>` line, then a table of the session's request, its events and the
//! `Request complete` row, read from `system_traces.sessions` and `system_traces.events`.
//!
//! Times are shown in UTC (cqlsh shows local time).

use std::io::Write;
use std::time::{Duration, Instant};

use cql4_frame::value::CqlTimestamp;
use cql4_frame::CqlValue;

use crate::error::CliError;
use crate::format::table::write_rows;
use crate::session::Session;

/// How long to wait for the server to finish writing a trace (cqlsh's `max_trace_wait`).
const MAX_WAIT: Duration = Duration::from_secs(10);

/// A uuid's usual text form.
pub(crate) fn uuid_text(b: &[u8; 16]) -> String {
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// True for `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex digits): safe to put in a statement.
pub(crate) fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Microseconds since the epoch of a version-1 uuid's time (100 ns units since 1582-10-15).
fn timeuuid_micros(b: &[u8; 16]) -> i64 {
    let ticks = (u64::from(b[6] & 0x0f) << 56)
        | (u64::from(b[7]) << 48)
        | (u64::from(b[4]) << 40)
        | (u64::from(b[5]) << 32)
        | u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    const GREGORIAN_TO_UNIX: i64 = 0x01B2_1DD2_1381_4000;
    (ticks as i64 - GREGORIAN_TO_UNIX) / 10
}

/// `2024-02-29 13:45:30.123456` (Python's `str(datetime)`: no fraction when it is zero).
fn datetime(micros: i64) -> String {
    let iso = CqlTimestamp(micros.div_euclid(1000)).to_string();
    let seconds = iso.split('.').next().unwrap_or(&iso).replace('T', " ");
    let seconds = seconds.trim_end_matches('Z');
    match micros.rem_euclid(1_000_000) {
        0 => seconds.to_owned(),
        f => format!("{seconds}.{f:06}"),
    }
}

fn text(v: Option<&CqlValue>) -> String {
    crate::format::cell::cell(v)
}

/// Prints the trace of `id` (a checked uuid text) to `out`, waiting for it to be complete.
pub(crate) fn print(session: &Session, id: &str, out: &mut impl Write) -> Result<(), CliError> {
    let started = Instant::now();
    let session_row = loop {
        let rows = session.query_rows(&format!(
            "SELECT request, coordinator, duration, started_at, client \
             FROM system_traces.sessions WHERE session_id = {id}"
        ))?;
        let complete = rows
            .first()
            .is_some_and(|r| r.get(2).is_some_and(Option::is_some));
        if complete || started.elapsed() >= MAX_WAIT {
            match rows.into_iter().next() {
                Some(row) => break row,
                None => return Err(CliError::Failed(format!("Session {id} wasn't found."))),
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let events = session.query_rows(&format!(
        "SELECT event_id, activity, source, source_elapsed, thread \
         FROM system_traces.events WHERE session_id = {id}"
    ))?;
    let [request, coordinator, duration, started_at, client] = &session_row[..] else {
        return Err(CliError::Failed(format!("Session {id} wasn't found.")));
    };
    let started_micros = match started_at {
        Some(CqlValue::Timestamp(t)) => t.millis() * 1000,
        _ => 0,
    };
    let client = text(client.as_ref());
    let coordinator = text(coordinator.as_ref());
    let mut rows = vec![vec![
        text(request.as_ref()),
        datetime(started_micros),
        coordinator.clone(),
        "0".to_owned(),
        client.clone(),
    ]];
    for event in &events {
        let [event_id, activity, source, elapsed, thread] = &event[..] else {
            continue;
        };
        let at = match event_id {
            Some(CqlValue::Timeuuid(b)) => datetime(timeuuid_micros(b)),
            _ => String::new(),
        };
        rows.push(vec![
            format!("{} [{}]", text(activity.as_ref()), text(thread.as_ref())),
            at,
            text(source.as_ref()),
            match elapsed {
                Some(v) => text(Some(v)),
                None => "--".to_owned(),
            },
            client.clone(),
        ]);
    }
    if let Some(CqlValue::Int(d)) = duration {
        rows.push(vec![
            "Request complete".to_owned(),
            datetime(started_micros + i64::from(*d)),
            coordinator,
            d.to_string(),
            client,
        ]);
    }
    let header: Vec<String> = [
        "activity",
        "timestamp",
        "source",
        "source_elapsed",
        "client",
    ]
    .map(str::to_owned)
    .into();
    let write_err = |e: std::io::Error| CliError::Failed(format!("cannot write the output: {e}"));
    writeln!(out, "\nTracing session: {id}\n").map_err(write_err)?;
    write_rows(out, &header, &rows).map_err(write_err)?;
    writeln!(out).map_err(write_err)?;
    out.flush().map_err(write_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_checked_and_written() {
        let b = [
            0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17,
            0x40, 0x00,
        ];
        let s = uuid_text(&b);
        assert_eq!(s, "123e4567-e89b-12d3-a456-426614174000");
        assert!(is_uuid(&s));
        for bad in [
            "",
            "123e4567e89b12d3a456426614174000",
            "123e4567-e89b-12d3-a456-42661417400g",
        ] {
            assert!(!is_uuid(bad), "{bad}");
        }
        assert!(!is_uuid("1; DROP TABLE t"));
    }

    #[test]
    fn timeuuid_times_as_python_prints_them() {
        // 2024-02-29 13:45:30.123456 UTC as a version-1 uuid.
        let micros: i64 = 1_709_214_330_123_456;
        let ticks = (micros * 10 + 0x01B2_1DD2_1381_4000) as u64;
        let mut b = [0u8; 16];
        b[..4].copy_from_slice(&(ticks as u32).to_be_bytes());
        b[4..6].copy_from_slice(&((ticks >> 32) as u16).to_be_bytes());
        b[6..8].copy_from_slice(&(((ticks >> 48) as u16 & 0x0fff) | 0x1000).to_be_bytes());
        assert_eq!(timeuuid_micros(&b), micros);
        assert_eq!(datetime(micros), "2024-02-29 13:45:30.123456");
        assert_eq!(datetime(1_709_214_330_000_000), "2024-02-29 13:45:30");
    }
}
