//! EVENT messages (native_protocol_v4.spec §4.2.6) and the schema change body they share with
//! the Schema_change result (§4.2.5.5).

use std::net::SocketAddr;

use crate::error::{DecodeErrorKind, DecodeResult, EncodeError};
use crate::reader::Reader;
use crate::writer::Writer;

/// The `TOPOLOGY_CHANGE` kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TopologyChange {
    /// `NEW_NODE`.
    NewNode,
    /// `REMOVED_NODE`.
    RemovedNode,
    /// `MOVED_NODE`: not in the v4 text, but Cassandra still sends it (its token moved).
    MovedNode,
}

/// The `STATUS_CHANGE` kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusChange {
    /// `UP`.
    Up,
    /// `DOWN`.
    Down,
}

/// `<change_type>` of a schema change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemaChangeType {
    /// `CREATED`.
    Created,
    /// `UPDATED`.
    Updated,
    /// `DROPPED`.
    Dropped,
}

/// `<target>` and `<options>` of a schema change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SchemaChangeTarget {
    /// `KEYSPACE`: the keyspace.
    Keyspace {
        /// The keyspace changed.
        keyspace: String,
    },
    /// `TABLE` (index changes are reported on their table).
    Table {
        /// The table's keyspace.
        keyspace: String,
        /// The table.
        table: String,
    },
    /// `TYPE`: a user-defined type.
    Type {
        /// The type's keyspace.
        keyspace: String,
        /// The type.
        name: String,
    },
    /// `FUNCTION`: a user-defined function.
    Function {
        /// The function's keyspace.
        keyspace: String,
        /// The function.
        name: String,
        /// One CQL type per argument.
        arg_types: Vec<String>,
    },
    /// `AGGREGATE`: a user-defined aggregate.
    Aggregate {
        /// The aggregate's keyspace.
        keyspace: String,
        /// The aggregate.
        name: String,
        /// One CQL type per argument.
        arg_types: Vec<String>,
    },
}

/// A schema change: `<change_type><target><options>`, the body of a `SCHEMA_CHANGE` event
/// after its type and of a Schema_change result after its kind (§4.2.5.5 refers to §4.2.6).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SchemaChange {
    /// Created, updated or dropped.
    pub change: SchemaChangeType,
    /// What changed.
    pub target: SchemaChangeTarget,
}

impl SchemaChange {
    /// Reads `<change_type><target><options>`; `what` prefixes error contexts.
    pub fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let at = r.position();
        let change = match r.string("schema change.change_type")? {
            "CREATED" => SchemaChangeType::Created,
            "UPDATED" => SchemaChangeType::Updated,
            "DROPPED" => SchemaChangeType::Dropped,
            _ => {
                return Err(crate::DecodeError::new(
                    DecodeErrorKind::Invalid(
                        "schema change type is not CREATED, UPDATED or DROPPED",
                    ),
                    "schema change.change_type",
                    at,
                ))
            }
        };
        let at = r.position();
        let target = r.string("schema change.target")?;
        let keyspace = r.string("schema change.keyspace")?.to_owned();
        let target =
            match target {
                "KEYSPACE" => SchemaChangeTarget::Keyspace { keyspace },
                "TABLE" => SchemaChangeTarget::Table {
                    keyspace,
                    table: r.string("schema change.table")?.to_owned(),
                },
                "TYPE" => SchemaChangeTarget::Type {
                    keyspace,
                    name: r.string("schema change.type")?.to_owned(),
                },
                "FUNCTION" | "AGGREGATE" => {
                    let name = r.string("schema change.function")?.to_owned();
                    let arg_types = r
                        .string_list("schema change.arg_types")?
                        .into_iter()
                        .map(str::to_owned)
                        .collect();
                    if target == "FUNCTION" {
                        SchemaChangeTarget::Function {
                            keyspace,
                            name,
                            arg_types,
                        }
                    } else {
                        SchemaChangeTarget::Aggregate {
                            keyspace,
                            name,
                            arg_types,
                        }
                    }
                }
                _ => return Err(crate::DecodeError::new(
                    DecodeErrorKind::Invalid(
                        "schema change target is not KEYSPACE, TABLE, TYPE, FUNCTION or AGGREGATE",
                    ),
                    "schema change.target",
                    at,
                )),
            };
        Ok(Self { change, target })
    }

    /// Appends `<change_type><target><options>`.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        let change = match self.change {
            SchemaChangeType::Created => "CREATED",
            SchemaChangeType::Updated => "UPDATED",
            SchemaChangeType::Dropped => "DROPPED",
        };
        w.string(change, "schema change.change_type")?;
        const W: &str = "schema change";
        match &self.target {
            SchemaChangeTarget::Keyspace { keyspace } => {
                w.string("KEYSPACE", W)?;
                w.string(keyspace, W)?;
            }
            SchemaChangeTarget::Table { keyspace, table } => {
                w.string("TABLE", W)?;
                w.string(keyspace, W)?;
                w.string(table, W)?;
            }
            SchemaChangeTarget::Type { keyspace, name } => {
                w.string("TYPE", W)?;
                w.string(keyspace, W)?;
                w.string(name, W)?;
            }
            SchemaChangeTarget::Function {
                keyspace,
                name,
                arg_types,
            }
            | SchemaChangeTarget::Aggregate {
                keyspace,
                name,
                arg_types,
            } => {
                let target = if matches!(self.target, SchemaChangeTarget::Function { .. }) {
                    "FUNCTION"
                } else {
                    "AGGREGATE"
                };
                w.string(target, W)?;
                w.string(keyspace, W)?;
                w.string(name, W)?;
                w.string_list(arg_types, W)?;
            }
        }
        Ok(())
    }
}

/// EVENT (native_protocol_v4.spec §4.2.6): pushed on stream -1 for REGISTERed types.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Event {
    /// `TOPOLOGY_CHANGE`: `<change><inet>`.
    TopologyChange {
        /// The change.
        change: TopologyChange,
        /// The node's native-protocol address.
        address: SocketAddr,
    },
    /// `STATUS_CHANGE`: `<change><inet>`.
    StatusChange {
        /// The change.
        change: StatusChange,
        /// The node's native-protocol address.
        address: SocketAddr,
    },
    /// `SCHEMA_CHANGE`.
    SchemaChange(SchemaChange),
}

impl Event {
    /// Reads an EVENT body.
    pub fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let at = r.position();
        match r.string("EVENT.type")? {
            "TOPOLOGY_CHANGE" => {
                let at = r.position();
                let change = match r.string("EVENT topology_change.change")? {
                    "NEW_NODE" => TopologyChange::NewNode,
                    "REMOVED_NODE" => TopologyChange::RemovedNode,
                    "MOVED_NODE" => TopologyChange::MovedNode,
                    _ => {
                        return Err(crate::DecodeError::new(
                            DecodeErrorKind::Invalid("unknown TOPOLOGY_CHANGE kind"),
                            "EVENT topology_change.change",
                            at,
                        ))
                    }
                };
                Ok(Self::TopologyChange {
                    change,
                    address: r.inet("EVENT topology_change.address")?,
                })
            }
            "STATUS_CHANGE" => {
                let at = r.position();
                let change = match r.string("EVENT status_change.change")? {
                    "UP" => StatusChange::Up,
                    "DOWN" => StatusChange::Down,
                    _ => {
                        return Err(crate::DecodeError::new(
                            DecodeErrorKind::Invalid("STATUS_CHANGE kind is neither UP nor DOWN"),
                            "EVENT status_change.change",
                            at,
                        ))
                    }
                };
                Ok(Self::StatusChange {
                    change,
                    address: r.inet("EVENT status_change.address")?,
                })
            }
            "SCHEMA_CHANGE" => Ok(Self::SchemaChange(SchemaChange::decode(r)?)),
            _ => Err(crate::DecodeError::new(
                DecodeErrorKind::Invalid("unknown EVENT type"),
                "EVENT.type",
                at,
            )),
        }
    }

    /// Appends an EVENT body.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        match self {
            Self::TopologyChange { change, address } => {
                w.string("TOPOLOGY_CHANGE", "EVENT.type")?;
                let change = match change {
                    TopologyChange::NewNode => "NEW_NODE",
                    TopologyChange::RemovedNode => "REMOVED_NODE",
                    TopologyChange::MovedNode => "MOVED_NODE",
                };
                w.string(change, "EVENT topology_change.change")?;
                w.inet(*address);
            }
            Self::StatusChange { change, address } => {
                w.string("STATUS_CHANGE", "EVENT.type")?;
                let change = match change {
                    StatusChange::Up => "UP",
                    StatusChange::Down => "DOWN",
                };
                w.string(change, "EVENT status_change.change")?;
                w.inet(*address);
            }
            Self::SchemaChange(c) => {
                w.string("SCHEMA_CHANGE", "EVENT.type")?;
                c.encode(w)?;
            }
        }
        Ok(())
    }
}
