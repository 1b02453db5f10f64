//! The execution loop of one request: the first attempt on the first node of its plan, then
//! retries as the [`RetryPolicy`](crate::retry::RetryPolicy) decides, speculative attempts as
//! the [`SpeculativePolicy`] says, all within the request's overall deadline, in one tracing
//! span.
//!
//! Each attempt is a new request on a connection (its own stream id and its own timeout,
//! [`QueryOptions::timeout`]). Attempts that lose the race (a speculative winner elsewhere,
//! the deadline) are dropped: the connection keeps their stream ids reserved as orphans until
//! their late answers come (or their own timeout fires), and the pool's in-flight count drops
//! at once.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cql4_conn::{
    Client, DeadlineScope, Error, PreparedStatement, QueryOptions, QueryResult, Result,
};
use cql4_frame::bind::SerializeRow;
use cql4_frame::rows::PreparedMetadata;
use cql4_topology::Token;
use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::time::Instant;
use tracing::field::Empty;
use tracing::Instrument;

use crate::load::InFlight;
use crate::plan::Plan;
use crate::pool::Pooled;
use crate::retry::{may_have_been_applied, RetryContext, RetryDecision, StatementKind};
use crate::schema::is_schema_change;
use crate::session::{table_keyspace, Session};
use crate::speculative::SpeculativePolicy;
use crate::view::View;

/// What the loop needs to know of a request besides how to send it (no `Debug`: the values
/// may be secret).
pub(crate) struct Request<'a> {
    pub(crate) kind: StatementKind,
    pub(crate) idempotent: bool,
    pub(crate) options: &'a QueryOptions,
    /// A prepared statement and its values, for token-aware routing and for naming the
    /// table in the span.
    pub(crate) routing: Option<(&'a PreparedStatement, &'a (dyn SerializeRow + Sync))>,
}

/// One attempt's end.
struct Outcome<T> {
    node: usize,
    /// Its number in its chain (1: the chain's first attempt).
    chain_attempt: u32,
    speculative: bool,
    result: Result<T>,
}

/// One attempt to make: where, after what wait, its place in its chain.
struct Attempt {
    node: usize,
    /// The connection, when already picked (else the node's least-loaded one at the start).
    conn: Option<Arc<Pooled>>,
    delay: Duration,
    chain_attempt: u32,
    speculative: bool,
    /// The clock read of the request's start, reused by an attempt made at once.
    started: Option<std::time::Instant>,
}

impl Attempt {
    fn next(
        node: usize,
        conn: Option<Arc<Pooled>>,
        delay: Duration,
        chain_attempt: u32,
        speculative: bool,
    ) -> Self {
        Self {
            node,
            conn,
            delay,
            chain_attempt,
            speculative,
            started: None,
        }
    }
}

/// What [`Session::speculate`] takes over from [`Session::attempts`].
struct Speculation<'r, 'v> {
    request: &'r Request<'r>,
    cursor: Cursor<'v>,
    first_attempt: Attempt,
    first_delay: Duration,
    speculative: SpeculativePolicy,
}

/// Where the request's plan stands: the nodes tried so far are skipped by "next node".
struct Cursor<'a> {
    view: &'a View,
    key: Option<(&'a str, Token)>,
    counter: u64,
    random: u64,
    first: usize,
    /// The nodes tried after the first (allocated on the first retry elsewhere only).
    used: Vec<usize>,
}

impl Cursor<'_> {
    /// The next node of the plan not tried yet that has an open connection.
    fn next_node(&mut self) -> Option<(usize, Arc<Pooled>)> {
        let replicas = replicas(self.view, self.key);
        let plan = Plan::new(&self.view.placement, replicas, self.counter, self.random);
        for i in plan {
            if i == self.first || self.used.contains(&i) {
                continue;
            }
            if let Some(conn) = self.view.pools.get(i).and_then(|p| p.pick()) {
                self.used.push(i);
                return Some((i, conn));
            }
        }
        None
    }
}

pub(crate) fn replicas<'v>(
    view: &'v View,
    key: Option<(&str, Token)>,
) -> &'v [cql4_topology::NodeIndex] {
    match (key, &view.topology) {
        (Some((ks, token)), Some(t)) => {
            t.replicas_for_token(ks, token).map_or(&[], |r| r.indexes())
        }
        _ => &[],
    }
}

impl Session {
    /// Runs a request: `send` makes one attempt on the connection it is given (and may be
    /// called again for each retry or speculative attempt, so it must be able to send the
    /// same request again). After DDL (a Schema_change result), waits for schema agreement
    /// ([`Session::after_result`]).
    pub(crate) async fn run<F, Fut>(&self, request: Request<'_>, send: F) -> Result<QueryResult>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<QueryResult>>,
    {
        // The table's name costs a clone of the statement's metadata: only for a subscriber.
        let metadata = request
            .routing
            .filter(|_| tracing::enabled!(tracing::Level::DEBUG))
            .map(|(s, _)| s.bind_metadata());
        let table = metadata
            .as_deref()
            .and_then(|m| table_spec(m))
            .map(|t| (t.keyspace.as_str(), t.table.as_str()));
        let consistency = request
            .options
            .consistency
            .unwrap_or(self.inner.config.connection.default_consistency);
        let span = tracing::debug_span!(
            "cql4.request",
            kind = request.kind.as_str(),
            keyspace = table.map(|t| t.0),
            table = table.map(|t| t.1),
            consistency = consistency.name().unwrap_or("unknown"),
            idempotent = request.idempotent,
            node = Empty,
            attempts = Empty,
            speculative = Empty,
            latency_us = Empty,
            outcome = Empty,
        );
        // After DDL the wait for schema agreement: boxed, with the result moved into it and out
        // of scope before the wait, so that every other request's future carries neither.
        let after_ddl = {
            // Without a subscriber the span is disabled: no clock read for its latency and no
            // `Instrumented` wrapper (the request's future is not moved into one).
            let traced = !span.is_disabled();
            let started = traced.then(Instant::now);
            let attempts = AtomicU32::new(0);
            let work = self.attempts(&request, &send, &attempts, &span);
            let deadline = |timeout| {
                Err(Error::Deadline {
                    scope: DeadlineScope::Request,
                    timeout,
                    attempts: attempts.load(Ordering::Relaxed),
                })
            };
            let result = match (request.options.overall_timeout, traced) {
                (None, false) => work.await,
                (None, true) => work.instrument(span.clone()).await,
                (Some(timeout), false) => tokio::time::timeout(timeout, work)
                    .await
                    .unwrap_or_else(|_| deadline(timeout)),
                (Some(timeout), true) => {
                    tokio::time::timeout(timeout, work.instrument(span.clone()))
                        .await
                        .unwrap_or_else(|_| deadline(timeout))
                }
            };
            if let Err(e) = &result {
                cql4_conn::metrics::error(e.kind().as_str());
            }
            if let Some(started) = started {
                span.record("attempts", attempts.load(Ordering::Relaxed));
                span.record(
                    "latency_us",
                    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                );
                let outcome = result.as_ref().map_or_else(|e| e.kind().as_str(), |_| "ok");
                span.record("outcome", outcome);
            }
            if !is_schema_change(&result) {
                return result;
            }
            Box::pin(self.after_result(result))
        };
        after_ddl.await
    }

    async fn attempts<T, F, Fut>(
        &self,
        request: &Request<'_>,
        send: &F,
        attempts: &AtomicU32,
        span: &tracing::Span,
    ) -> Result<T>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        if self.inner.is_closing() {
            return Err(Error::SessionClosed);
        }
        // One view per request: the routing key, the plan and every retry read the same
        // topology.
        let mut view = self.inner.view();
        let routed = request.routing.and_then(|(s, v)| self.routing(&view, s, v));
        let key = routed
            .as_ref()
            .and_then(|(metadata, token)| Some((table_keyspace(metadata)?, *token)));
        let counter = self.inner.counter.fetch_add(1, Ordering::Relaxed);
        let random = self.inner.shared.random();
        // The one clock read of a request that goes through at once: the pick's load window,
        // the first attempt's in-flight mark and its latency all start from it.
        let mut now = std::time::Instant::now();
        let now_ms = self.inner.shared.ms_at(now);
        let (first, conn) = match self.pick(&view, key, counter, random, now_ms) {
            Ok(c) => c,
            Err(tried) => {
                view = self.wait_for_a_node(view).await;
                now = std::time::Instant::now();
                let now_ms = self.inner.shared.ms_at(now);
                self.pick(&view, key, counter, random, now_ms)
                    .map_err(|_| self.no_node(tried))?
            }
        };
        let cursor = Cursor {
            view: &view,
            key,
            counter,
            random,
            first,
            used: Vec::new(),
        };
        let speculative = if request.idempotent {
            self.inner.shared.speculative
        } else {
            SpeculativePolicy::None
        };
        let first_delay = speculative
            .delay(&view.pools[first].latency)
            .filter(|_| speculative.max_extra() > 0);
        let first_attempt = Attempt {
            node: first,
            conn: Some(conn),
            delay: Duration::ZERO,
            chain_attempt: 1,
            speculative: false,
            started: Some(now),
        };
        let Some(first_delay) = first_delay else {
            // One attempt at a time: no set of futures to allocate. The retries are boxed, and
            // the failed outcome is out of scope before they are awaited: the future of a
            // request that succeeds at once carries neither (less to move, fewer cache lines).
            let retries = {
                let outcome = self.attempt(&view, first_attempt, send, attempts).await;
                if let Ok(r) = outcome.result {
                    record_node(span, &view, outcome.node, false);
                    return Ok(r);
                }
                Box::pin(self.retries(request, cursor, outcome, send, attempts, span))
            };
            return retries.await;
        };
        // Speculative attempts: a set of futures and a timer, boxed so that the common path's
        // future does not carry (and move) their room.
        let spec = Speculation {
            request,
            cursor,
            first_attempt,
            first_delay,
            speculative,
        };
        Box::pin(self.speculate(spec, send, attempts, span)).await
    }

    /// [`Self::attempts`] after a failed first attempt (no speculation): the retry policy's
    /// chain, one attempt at a time.
    async fn retries<T, F, Fut>(
        &self,
        request: &Request<'_>,
        mut cursor: Cursor<'_>,
        mut outcome: Outcome<T>,
        send: &F,
        attempts: &AtomicU32,
        span: &tracing::Span,
    ) -> Result<T>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let view = cursor.view;
        loop {
            let Outcome {
                node,
                chain_attempt,
                result,
                ..
            } = outcome;
            let error = match result {
                Ok(r) => {
                    record_node(span, view, node, false);
                    return Ok(r);
                }
                Err(e) => self.closing(e),
            };
            match self.next_attempt(request, &mut cursor, node, chain_attempt, false, &error) {
                Some((node, conn, delay)) => {
                    let next = Attempt::next(node, conn, delay, chain_attempt + 1, false);
                    outcome = self.attempt(view, next, send, attempts).await;
                }
                None => {
                    record_node(span, view, node, false);
                    return Err(error);
                }
            }
        }
    }

    /// [`Self::attempts`] when speculative attempts may start: the first attempt and, each
    /// time the policy's delay passes without an answer, another on the next node of the
    /// plan, until one answers or every chain ends.
    async fn speculate<T, F, Fut>(
        &self,
        spec: Speculation<'_, '_>,
        send: &F,
        attempts: &AtomicU32,
        span: &tracing::Span,
    ) -> Result<T>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let Speculation {
            request,
            mut cursor,
            first_attempt,
            first_delay,
            speculative,
        } = spec;
        let view = cursor.view;
        let first = first_attempt.node;
        let timer = tokio::time::sleep(first_delay);
        tokio::pin!(timer);
        let mut armed = true;
        let mut extra = 0;
        let mut running = FuturesUnordered::new();
        running.push(self.attempt(view, first_attempt, send, attempts));
        loop {
            tokio::select! {
                Some(done) = running.next() => {
                    let Outcome { node, chain_attempt, speculative: spec, result } = done;
                    let error = match result {
                        Ok(r) => {
                            record_node(span, view, node, spec);
                            return Ok(r);
                        }
                        Err(e) => self.closing(e),
                    };
                    let next = self.next_attempt(request, &mut cursor, node, chain_attempt, spec, &error);
                    if let Some((i, conn, delay)) = next {
                        let next = Attempt::next(i, conn, delay, chain_attempt + 1, spec);
                        running.push(self.attempt(view, next, send, attempts));
                    }
                    if running.is_empty() {
                        record_node(span, view, node, spec);
                        return Err(error);
                    }
                }
                () = &mut timer, if armed => {
                    let Some((i, conn)) = cursor.next_node() else {
                        armed = false;
                        continue;
                    };
                    extra += 1;
                    cql4_conn::metrics::speculative(&view.pools[i].address);
                    tracing::debug!(
                        event = "speculative_execution",
                        node = %view.pools[i].address,
                        extra,
                        "answer late: trying another node too",
                    );
                    let next = Attempt::next(i, Some(conn), Duration::ZERO, 1, true);
                    running.push(self.attempt(view, next, send, attempts));
                    match speculative.delay(&view.pools[first].latency) {
                        Some(d) if extra < speculative.max_extra() => {
                            timer.as_mut().reset(Instant::now() + d);
                        }
                        _ => armed = false,
                    }
                }
                else => return Err(self.no_node(cursor.used.len() + 1)),
            }
        }
    }

    /// A failed attempt's error as the caller sees it: a connection cut by `close` is the
    /// session's closing.
    fn closing(&self, error: Error) -> Error {
        match error {
            Error::Closed(_) if self.inner.is_closing() => Error::SessionClosed,
            e => e,
        }
    }

    /// Where (node, connection if already picked, wait) the chain of a failed attempt goes on,
    /// if it does.
    fn next_attempt(
        &self,
        request: &Request<'_>,
        cursor: &mut Cursor<'_>,
        node: usize,
        chain_attempt: u32,
        speculative: bool,
        error: &Error,
    ) -> Option<(usize, Option<Arc<Pooled>>, Duration)> {
        let view = cursor.view;
        let decision = self.decide(request, error, chain_attempt);
        let next = match decision {
            RetryDecision::SameNode { delay } if view.pools[node].is_up() => {
                Some((node, None, delay))
            }
            // A node that lost its last connection has nothing to retry on: the next one.
            RetryDecision::SameNode { delay } | RetryDecision::NextNode { delay } => {
                cursor.next_node().map(|(i, c)| (i, Some(c), delay))
            }
            RetryDecision::Fail => None,
        };
        if let Some((i, _, _)) = &next {
            cql4_conn::metrics::retry(&view.pools[*i].address, error.kind().as_str());
        }
        tracing::debug!(
            event = "retry_decision",
            node = %view.pools[node].address,
            attempt = chain_attempt,
            speculative,
            error = error.kind().as_str(),
            decision = ?decision,
            next_node = next.as_ref().map(|n| tracing::field::display(view.pools[n.0].address)),
            "attempt failed",
        );
        next
    }

    /// The policy's decision, overridden when retrying is unsafe or pointless.
    fn decide(&self, request: &Request<'_>, error: &Error, chain_attempt: u32) -> RetryDecision {
        if self.inner.is_closing() || matches!(error, Error::SessionClosed | Error::Deadline { .. })
        {
            return RetryDecision::Fail;
        }
        if !request.idempotent && may_have_been_applied(error) {
            return RetryDecision::Fail;
        }
        self.inner.shared.retry.decide(&RetryContext::new(
            error,
            request.idempotent,
            chain_attempt,
            request.kind,
        ))
    }

    /// One attempt on `node`, after `delay`, on `conn` or on the least-loaded connection of
    /// the node's pool then.
    async fn attempt<T, F, Fut>(
        &self,
        view: &View,
        attempt: Attempt,
        send: &F,
        attempts: &AtomicU32,
    ) -> Outcome<T>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let Attempt {
            node,
            conn,
            delay,
            chain_attempt,
            speculative,
            started,
        } = attempt;
        let outcome = |result| Outcome {
            node,
            chain_attempt,
            speculative,
            result,
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let start = match started {
            Some(at) if delay.is_zero() => at,
            _ => std::time::Instant::now(),
        };
        let now_ms = self.inner.shared.ms_at(start);
        let pool = &view.pools[node];
        let Some(conn) = conn.or_else(|| pool.pick_at(now_ms)) else {
            return outcome(Err(Error::NoNodeAvailable {
                tried: 1,
                last_error: pool.last_error(),
            }));
        };
        attempts.fetch_add(1, Ordering::Relaxed);
        let _in_flight = InFlight::new(&conn.load, now_ms);
        let result = send(conn.client.clone()).await;
        // An answer, even an error one, is the node's latency; a timeout or a lost
        // connection is not. Only the percentile policy reads it: no clock read otherwise.
        if self.inner.shared.speculative.uses_latency()
            && (result.is_ok() || matches!(result, Err(Error::Server(_))))
        {
            pool.latency.record(start.elapsed());
        }
        tracing::debug!(
            event = "attempt",
            node = %pool.address,
            attempt = chain_attempt,
            speculative,
            latency_us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX),
            outcome = result.as_ref().map_or_else(|e| e.kind().as_str(), |_| "ok"),
            "attempt ended",
        );
        outcome(result)
    }

    /// Asks every pool to reconnect now and waits (up to the connect timeout) for one; the
    /// view to route on then.
    async fn wait_for_a_node(&self, view: Arc<View>) -> Arc<View> {
        for pool in &view.pools {
            pool.reconnect_now();
        }
        drop(view);
        let timeout = self.inner.config.connection.connect_timeout;
        self.wait_any_up(timeout).await;
        self.inner.view()
    }
}

/// The node whose answer (or last error) the request returns.
fn record_node(span: &tracing::Span, view: &View, node: usize, speculative: bool) {
    if span.is_disabled() {
        return;
    }
    span.record("node", tracing::field::display(view.pools[node].address));
    span.record("speculative", speculative);
}

fn table_spec(metadata: &PreparedMetadata) -> Option<&cql4_frame::rows::TableSpec> {
    metadata
        .global_table_spec
        .as_ref()
        .or_else(|| metadata.columns.first()?.table_spec.as_ref())
}
