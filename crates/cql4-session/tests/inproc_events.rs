//! Events: `Session::register` delivers what the node pushes on the control connection (on
//! its one connection for a single-host session), only of the types asked for; an UP event
//! makes the pool of a down node try at once instead of at the end of its backoff.

mod inproc_support;

use std::time::{Duration, Instant};

use cql4_conn::EventType;
use cql4_frame::event::{Event, StatusChange, TopologyChange};
use cql4_frame::Opcode;
use cql4_session::{ReconnectPolicy, Session, SessionConfig};
use inproc_support::{wait_for, FakeNode, Mode};

async fn next_event(events: &mut cql4_conn::Events) -> Event {
    tokio::time::timeout(Duration::from_secs(2), events.recv())
        .await
        .expect("an event within 2 s")
        .expect("the event stream is open")
        .expect("a decodable event")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_changes_pushed_on_the_control_connection_reach_the_subscriber() {
    let a = FakeNode::start(1).await;
    let b = FakeNode::start(2).await;
    a.add_peer(&b);
    let session = Session::connect(SessionConfig::new(a.config()))
        .await
        .expect("connect");
    let mut events = session
        .register(&[EventType::StatusChange])
        .await
        .expect("register");
    // The control connection registered on A; the pools did not.
    assert_eq!(a.registered(), 1);
    assert_eq!(b.registered(), 0);

    // Not asked for: not delivered.
    a.push(Event::TopologyChange {
        change: TopologyChange::MovedNode,
        address: b.addr(),
    });
    let down = Event::StatusChange {
        change: StatusChange::Down,
        address: b.addr(),
    };
    assert_eq!(a.push(down.clone()), 1);
    assert_eq!(next_event(&mut events).await, down);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_host_session_registers_on_its_connection() {
    let node = FakeNode::start(1).await;
    let mut config = SessionConfig::new(node.config());
    config.single_host = true;
    let session = Session::connect(config).await.expect("connect");
    let mut events = session
        .register(&[EventType::StatusChange])
        .await
        .expect("register");
    assert_eq!(node.registered(), 1);
    let up = Event::StatusChange {
        change: StatusChange::Up,
        address: node.addr(),
    };
    node.push(up.clone());
    assert_eq!(next_event(&mut events).await, up);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_up_event_makes_a_down_node_try_at_once() {
    let a = FakeNode::start(1).await;
    let b = FakeNode::start(2).await;
    a.add_peer(&b);
    b.set_mode(Mode::CloseAtOnce);
    let mut config = SessionConfig::new(a.config());
    // After its first failed attempt, B's pool would wait 5 to 10 s.
    config.reconnect = ReconnectPolicy::new(Duration::from_secs(10), Duration::from_secs(20));
    let session = Session::connect(config).await.expect("connect");
    wait_for("a failed attempt on B", Duration::from_secs(2), || {
        b.arrivals().len() == 1
    })
    .await;
    // B's pool is now in its backoff wait.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(b.arrivals().len(), 1);

    b.set_mode(Mode::Serve);
    let sent = Instant::now();
    assert_eq!(
        a.push(Event::StatusChange {
            change: StatusChange::Up,
            address: b.addr(),
        }),
        1
    );
    wait_for("B up after the event", Duration::from_secs(2), || {
        session
            .nodes()
            .iter()
            .any(|n| n.address == b.addr() && n.up)
    })
    .await;
    let took = sent.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "B came up {took:?} after the UP event"
    );
    println!("B reconnected {took:?} after the UP event (backoff wait: 5 to 10 s)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscription_outlives_the_control_connection() {
    let a = FakeNode::start(1).await;
    let b = FakeNode::start(2).await;
    a.add_peer(&b);
    b.add_peer(&a);
    let session = Session::connect(SessionConfig::new(a.config()))
        .await
        .expect("connect");
    let mut events = session
        .register(&[EventType::StatusChange])
        .await
        .expect("register");
    wait_for("both nodes up", Duration::from_secs(2), || {
        session.nodes().iter().all(|n| n.up)
    })
    .await;
    // The control connection is lost; the session opens another (on either node) and
    // registers it.
    assert_eq!(a.close_registered(), 1);
    let registers = |n: &FakeNode| n.server.requests_of(Opcode::REGISTER).len();
    wait_for("a new control connection", Duration::from_secs(2), || {
        registers(&a) + registers(&b) == 2 && a.registered() + b.registered() == 1
    })
    .await;
    let control = if a.registered() == 1 { &a } else { &b };
    let down = Event::StatusChange {
        change: StatusChange::Down,
        address: a.addr(),
    };
    assert_eq!(control.push(down.clone()), 1);
    assert_eq!(next_event(&mut events).await, down);
}
