//! Server events (native_protocol_v4.spec §4.2.6), after REGISTER.

use std::pin::Pin;
use std::task::{Context, Poll};

use cql4_frame::compression::Compression;
use cql4_frame::event::Event;
use cql4_frame::framing::RawFrame;
use cql4_frame::response::{Response, ResponseFrame};
use cql4_frame::DecodeLimits;
use tokio::sync::mpsc;

use crate::error::Error;

/// An event type to REGISTER for (§4.1.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventType {
    /// `TOPOLOGY_CHANGE`: nodes added, removed or moved.
    TopologyChange,
    /// `STATUS_CHANGE`: nodes up or down.
    StatusChange,
    /// `SCHEMA_CHANGE`: keyspaces, tables, types, functions created, updated or dropped.
    SchemaChange,
}

impl EventType {
    /// The REGISTER name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TopologyChange => "TOPOLOGY_CHANGE",
            Self::StatusChange => "STATUS_CHANGE",
            Self::SchemaChange => "SCHEMA_CHANGE",
        }
    }
}

/// The events of one connection, as a `Stream` or with [`Events::recv`]. Ends when the
/// connection closes. Events are decoded here, in the receiver's task.
#[derive(Debug)]
pub struct Events {
    source: Source,
}

#[derive(Debug)]
enum Source {
    /// EVENT frames of this connection, decoded by the receiver.
    Frames {
        rx: mpsc::Receiver<RawFrame>,
        compression: Compression,
        limits: DecodeLimits,
    },
    /// Events decoded by another layer (a session's control connection).
    Decoded(mpsc::Receiver<Event>),
}

impl Events {
    pub(crate) fn new(
        rx: mpsc::Receiver<RawFrame>,
        compression: Compression,
        limits: DecodeLimits,
    ) -> Self {
        Self {
            source: Source::Frames {
                rx,
                compression,
                limits,
            },
        }
    }

    /// Events forwarded from a channel, already decoded: how a session hands out the events
    /// of its control connection, which may change while the stream lives. The stream ends
    /// when every sender is dropped.
    pub fn from_channel(rx: mpsc::Receiver<Event>) -> Self {
        Self {
            source: Source::Decoded(rx),
        }
    }

    /// The next event; `None` once the connection has closed.
    pub async fn recv(&mut self) -> Option<Result<Event, Error>> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Event, Error>>> {
        match &mut self.source {
            Source::Frames {
                rx,
                compression,
                limits,
            } => match rx.poll_recv(cx) {
                Poll::Ready(Some(frame)) => Poll::Ready(Some(decode(frame, *compression, limits))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
            Source::Decoded(rx) => rx.poll_recv(cx).map(|e| e.map(Ok)),
        }
    }
}

fn decode(
    frame: RawFrame,
    compression: Compression,
    limits: &DecodeLimits,
) -> Result<Event, Error> {
    let response = ResponseFrame::decode(frame, compression, limits)?;
    match response.message {
        Response::Event(e) => Ok(e),
        other => Err(Error::Protocol(format!(
            "{} on the event stream (-1)",
            other.opcode().name().unwrap_or("unknown opcode")
        ))),
    }
}

impl futures_core::Stream for Events {
    type Item = Result<Event, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_event(cx)
    }
}
