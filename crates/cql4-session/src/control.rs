//! The control connection: one connection (besides the pools) that reads the topology,
//! follows TOPOLOGY_CHANGE, STATUS_CHANGE and SCHEMA_CHANGE, refreshes periodically (Amazon
//! Keyspaces sends no events), and moves to another node when its own is lost.

use std::net::SocketAddr;
use std::sync::Weak;
use std::time::Duration;

use cql4_conn::{Client, Config, Error, EventType, Events, Result};
use cql4_frame::event::{Event, SchemaChangeTarget, StatusChange};
use tokio::time::Instant;

use crate::backoff::backoff;
use crate::discovery::read_topology;
use crate::endpoint::node_config;
use crate::session::Inner;
use crate::translator::AddressTranslator;

const EVENTS: [EventType; 3] = [
    EventType::TopologyChange,
    EventType::StatusChange,
    EventType::SchemaChange,
];

/// Several events in a row (a node joining sends a few) cause one refresh.
const DEBOUNCE: Duration = Duration::from_millis(500);

/// Connects to the first of `candidates` that answers and registers for events. The
/// returned address is the socket address used: the control node is known by it, never by
/// what its `system.local` says (Amazon Keyspaces over VPC endpoints says 127.0.0.1).
pub(crate) async fn connect_any(
    candidates: &[(String, SocketAddr)],
    template: &Config,
    contact_host: &str,
    translator: Option<&dyn AddressTranslator>,
) -> Result<(Client, Events, (String, SocketAddr))> {
    let mut last = None;
    for (host, address) in candidates {
        // A contact point named by the user is verified against its own name; a discovered
        // node (an IP) against the contact point's.
        let name = if host.parse::<std::net::IpAddr>().is_ok() {
            contact_host
        } else {
            host
        };
        let config = node_config(template, name, *address, translator);
        match Client::connect(&config).await {
            Ok(client) => match client.register(&EVENTS).await {
                Ok(events) => return Ok((client, events, (host.clone(), *address))),
                Err(e) => last = Some(e),
            },
            Err(e) => {
                tracing::debug!(node = %address, error = %e, "control connection attempt failed");
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or(Error::NoNodeAvailable {
        tried: 0,
        last_error: None,
    }))
}

/// The control task: serves events and refreshes until the connection is lost, then
/// reconnects (contact points first, then every known node, up ones first) with backoff.
/// Ends when the session is dropped or closed.
pub(crate) async fn run(
    session: Weak<Inner>,
    mut client: Client,
    mut events: Events,
    mut contact: (String, SocketAddr),
) {
    loop {
        serve(&session, &client, &mut events, contact.1).await;
        tracing::info!(node = %contact.1, "control connection lost: reconnecting");
        let mut attempt = 0;
        loop {
            let Some(inner) = session.upgrade() else {
                return;
            };
            if inner.is_closing() {
                return;
            }
            let candidates = candidates(&inner);
            let result = connect_any(
                &candidates,
                &inner.config.connection,
                &inner.contact_host,
                inner.shared.translator(),
            )
            .await;
            match result {
                Ok((c, e, addr)) => {
                    tracing::info!(node = %addr.1, "control connection open");
                    (client, events, contact) = (c, e, addr);
                    if let Err(e) = refresh(&inner, &client, contact.1).await {
                        tracing::warn!(error = %e, "topology refresh failed");
                    }
                    break;
                }
                Err(e) => {
                    let wait = backoff(&inner.config.reconnect, attempt, inner.shared.random());
                    tracing::debug!(error = %e, ?wait, "no node for the control connection");
                    attempt += 1;
                    drop(inner);
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

/// Known nodes that are up, then the contact points, then the other known nodes.
fn candidates(inner: &Inner) -> Vec<(String, SocketAddr)> {
    let view = inner.view();
    let mut out: Vec<(String, SocketAddr)> = Vec::new();
    let mut push = |host: String, a: SocketAddr| {
        if !out.iter().any(|(_, b)| *b == a) {
            out.push((host, a));
        }
    };
    for p in view.pools.iter().filter(|p| p.is_up()) {
        push(p.address.ip().to_string(), p.address);
    }
    for (h, a) in &inner.contacts {
        push(h.clone(), *a);
    }
    for p in &view.pools {
        push(p.address.ip().to_string(), p.address);
    }
    out
}

async fn refresh(inner: &Inner, client: &Client, contact: SocketAddr) -> Result<()> {
    let topology = read_topology(client, contact, &inner.peers).await?;
    inner.install(topology);
    Ok(())
}

/// Until the control connection closes (or the session goes away). The session is held only
/// while an event or a refresh is handled, so dropping every `Session` handle ends this task.
async fn serve(session: &Weak<Inner>, client: &Client, events: &mut Events, contact: SocketAddr) {
    let interval = match session.upgrade() {
        Some(inner) => inner
            .config
            .refresh_interval
            .max(Duration::from_millis(100)),
        None => return,
    };
    let mut next_refresh = Instant::now() + interval;
    let mut pending: Option<Instant> = None;
    loop {
        let at = pending.map_or(next_refresh, |p| p.min(next_refresh));
        tokio::select! {
            event = events.recv() => {
                let Some(inner) = session.upgrade() else {
                    return;
                };
                match event {
                    None => return,
                    Some(Err(e)) => tracing::warn!(error = %e, "undecodable event"),
                    Some(Ok(event)) => {
                        tracing::debug!(?event, "event");
                        inner.forward(&event);
                        if let Event::SchemaChange(change) = &event {
                            crate::schema::on_event(session, change);
                        }
                        if needs_refresh(&event) {
                            pending.get_or_insert(Instant::now() + DEBOUNCE);
                        }
                        if let Event::StatusChange { change: StatusChange::Up, address } = &event {
                            if let Some(pool) = inner.view().pool_at(*address) {
                                pool.reconnect_now();
                            }
                        }
                    }
                }
            },
            () = tokio::time::sleep_until(at) => {
                let Some(inner) = session.upgrade() else {
                    return;
                };
                if let Err(e) = refresh(&inner, client, contact).await {
                    tracing::warn!(error = %e, "topology refresh failed");
                    if client.is_closed() {
                        return;
                    }
                }
                pending = None;
                next_refresh = Instant::now() + interval;
            }
        }
        if client.is_closed() {
            return;
        }
    }
}

/// Events after which the topology (nodes, tokens, keyspaces' replication) is read again. An
/// UP node may be new to the session, so it counts too.
fn needs_refresh(event: &Event) -> bool {
    match event {
        Event::TopologyChange { .. } => true,
        Event::StatusChange { change, .. } => matches!(change, StatusChange::Up),
        Event::SchemaChange(sc) => matches!(sc.target, SchemaChangeTarget::Keyspace { .. }),
        _ => false,
    }
}
