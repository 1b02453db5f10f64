//! `stream_table`: the multiplexer's stream table against a model.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};

#[derive(Debug, Arbitrary)]
enum StreamOp {
    Submit { timeout_ms: u8 },
    Transmit,
    Respond { stream: i16 },
    RespondInFlight { pick: u16 },
    Advance { ms: u8 },
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Model {
    InFlight(u64),
    Orphaned,
}

/// A fuzzer-chosen sequence of operations on the stream table, checked against a model: an id
/// is never handed out while in flight or orphaned, every answer reaches its own request, late
/// answers are recognised, and counts agree.
pub fn stream_table(data: &[u8]) {
    use cql4_conn::testkit::{Delivery, Health, Multiplexer, MuxConfig, StreamViolation};
    let mut u = Unstructured::new(data);
    let mut config = MuxConfig::default();
    config.max_streams = usize::from(u.int_in_range(1..=64u8).unwrap_or(4));
    config.max_orphans = usize::from(u.int_in_range(0..=8u8).unwrap_or(2));
    config.max_queued = usize::from(u.int_in_range(1..=64u8).unwrap_or(8));
    let mut mux: Multiplexer<u64> = Multiplexer::new(config.clone());
    let start = Instant::now();
    let mut now = start;
    let mut next_tag = 0u64;
    let mut model: HashMap<i16, Model> = HashMap::new();
    let mut queued = 0usize;
    let mut closed = false;
    let Ok(ops) = Vec::<StreamOp>::arbitrary_take_rest(u) else {
        return;
    };
    for op in ops.into_iter().take(2_000) {
        match op {
            StreamOp::Submit { timeout_ms } => {
                let deadline = now + Duration::from_millis(u64::from(timeout_ms));
                let healthy = mux.health() == Health::Healthy;
                match mux.submit(next_tag, deadline) {
                    Ok(()) => {
                        assert!(healthy && !closed);
                        queued += 1;
                    }
                    Err((_, tag)) => assert_eq!(tag, next_tag),
                }
                next_tag += 1;
            }
            StreamOp::Transmit => {
                if let Some((id, tag)) = mux.poll_transmit() {
                    let tag = *tag;
                    assert!(!closed, "transmitted after close");
                    assert!(
                        id >= 0 && (id as usize) < config.max_streams,
                        "id {id} out of range"
                    );
                    let prev = model.insert(id, Model::InFlight(tag));
                    assert!(prev.is_none(), "stream {id} handed out while {prev:?}");
                    queued -= 1;
                }
            }
            StreamOp::Respond { stream } => respond(&mut mux, &mut model, stream),
            StreamOp::RespondInFlight { pick } => {
                let mut ids: Vec<i16> = model.keys().copied().collect();
                ids.sort_unstable();
                if !ids.is_empty() {
                    let id = ids[usize::from(pick) % ids.len()];
                    respond(&mut mux, &mut model, id);
                }
            }
            StreamOp::Advance { ms } => {
                now += Duration::from_millis(u64::from(ms));
                while let Some(expired) = mux.poll_expired(now) {
                    if expired.was_sent {
                        let id = model
                            .iter()
                            .find(|(_, m)| **m == Model::InFlight(expired.request))
                            .map(|(id, _)| *id)
                            .expect("an expired sent request was in flight");
                        model.insert(id, Model::Orphaned);
                    } else {
                        queued -= 1;
                    }
                }
                if let Some(t) = mux.poll_timeout() {
                    assert!(t > now, "a timer at or before now was not expired");
                }
            }
            StreamOp::Close => {
                let failed = mux.close();
                let in_flight = model
                    .values()
                    .filter(|m| matches!(m, Model::InFlight(_)))
                    .count();
                assert_eq!(
                    failed.len(),
                    in_flight + queued,
                    "close must fail every live request"
                );
                model.clear();
                queued = 0;
                closed = true;
            }
        }
        if !closed {
            let in_flight = model
                .values()
                .filter(|m| matches!(m, Model::InFlight(_)))
                .count();
            let orphans = model.values().filter(|m| **m == Model::Orphaned).count();
            assert_eq!(mux.in_flight(), in_flight);
            assert_eq!(mux.orphans(), orphans);
            assert_eq!(mux.queued(), queued);
        }
    }

    fn respond(mux: &mut Multiplexer<u64>, model: &mut HashMap<i16, Model>, stream: i16) {
        match (mux.handle_response(stream), model.remove(&stream)) {
            (Ok(Delivery::Answer(tag)), Some(Model::InFlight(want))) => assert_eq!(tag, want),
            (Ok(Delivery::Late), Some(Model::Orphaned)) => {}
            (Err(StreamViolation::NotInFlight(_) | StreamViolation::OutOfRange(_)), None) => {}
            (got, want) => panic!("stream {stream}: got {got:?}, model says {want:?}"),
        }
    }
}
