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
    rx: mpsc::Receiver<RawFrame>,
    compression: Compression,
    limits: DecodeLimits,
}

impl Events {
    pub(crate) fn new(
        rx: mpsc::Receiver<RawFrame>,
        compression: Compression,
        limits: DecodeLimits,
    ) -> Self {
        Self {
            rx,
            compression,
            limits,
        }
    }

    /// The next event; `None` once the connection has closed.
    pub async fn recv(&mut self) -> Option<Result<Event, Error>> {
        let frame = self.rx.recv().await?;
        Some(self.decode(frame))
    }

    fn decode(&self, frame: RawFrame) -> Result<Event, Error> {
        let response = ResponseFrame::decode(frame, self.compression, &self.limits)?;
        match response.message {
            Response::Event(e) => Ok(e),
            other => Err(Error::Protocol(format!(
                "{} on the event stream (-1)",
                other.opcode().name().unwrap_or("unknown opcode")
            ))),
        }
    }
}

impl futures_core::Stream for Events {
    type Item = Result<Event, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(frame)) => Poll::Ready(Some(self.decode(frame))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}
