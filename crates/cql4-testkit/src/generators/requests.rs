//! Request messages (§4.1) and request frames.

use arbitrary::{Arbitrary, Result, Unstructured};
use cql4_frame::request::{
    AuthResponse, Batch, BatchQuery, BatchStatement, BatchType, BoundValue, Execute, Prepare,
    Query, QueryParameters, QueryValues, Register, Request, RequestFrame, Startup,
};

use super::notations::{bytes, consistency, custom_payload, opt_bytes, opt_consistency};
use super::Messages;

/// A request frame: a [`request`], a client stream id (0 to 32767), the tracing flag and a
/// custom payload.
///
/// With [`Messages::FuzzCorpus`] this is how the `roundtrip_message` fuzz target reads a request
/// (see [`Messages`]).
pub fn request_frame(u: &mut Unstructured<'_>, messages: Messages) -> Result<RequestFrame> {
    let message = request(u, messages)?;
    let payload_allowed =
        messages != Messages::FuzzCorpus || !matches!(message, Request::Startup(_));
    Ok(RequestFrame {
        stream: u.int_in_range(0..=i16::MAX)?,
        tracing: u.arbitrary()?,
        custom_payload: if payload_allowed {
            custom_payload(u)?
        } else {
            None
        },
        message,
    })
}

/// Any request message: STARTUP, AUTH_RESPONSE, OPTIONS, QUERY, PREPARE, EXECUTE, BATCH or
/// REGISTER. Query parameters take positional or named values; BATCH statements take
/// positional ones, or with [`Messages::FuzzCorpus`] named ones one time in eight (the
/// encoder must refuse those).
pub fn request(u: &mut Unstructured<'_>, messages: Messages) -> Result<Request> {
    Ok(match u.int_in_range(0..=7u8)? {
        0 => Request::Startup(Startup {
            options: Vec::<(String, String)>::arbitrary(u)?,
        }),
        1 => Request::AuthResponse(AuthResponse {
            token: opt_bytes(u)?,
        }),
        2 => Request::Options,
        3 => Request::Query(Query {
            query: String::arbitrary(u)?,
            params: query_parameters(u)?,
        }),
        4 => Request::Prepare(Prepare {
            query: String::arbitrary(u)?,
        }),
        5 => Request::Execute(Execute {
            id: bytes(u)?,
            params: query_parameters(u)?,
        }),
        6 => {
            // Drawn whatever the mix, so both mixes read the rest of the BATCH alike.
            let named = u.ratio(1, 8)? && messages == Messages::FuzzCorpus;
            Request::Batch(batch(u, named)?)
        }
        _ => Request::Register(Register {
            event_types: Vec::<String>::arbitrary(u)?,
        }),
    })
}

/// A BATCH of 0 to 4 statements (query strings or prepared ids), any batch type byte and any
/// consistencies. With `named`, every statement's values are named: one body with two
/// meanings (CASSANDRA-10246), which the encoder refuses
/// (`cql4_frame::request::NAMED_BATCH_VALUES`).
pub fn batch(u: &mut Unstructured<'_>, named: bool) -> Result<Batch> {
    let n = u.int_in_range(0..=4)?;
    let mut statements = Vec::new();
    for _ in 0..n {
        statements.push(BatchStatement {
            query: if u.arbitrary()? {
                BatchQuery::Query(String::arbitrary(u)?)
            } else {
                BatchQuery::Prepared(bytes(u)?)
            },
            values: values(u, named)?,
        });
    }
    Ok(Batch {
        batch_type: BatchType(u.arbitrary()?),
        statements,
        consistency: consistency(u)?,
        serial_consistency: opt_consistency(u)?,
        default_timestamp: u.arbitrary()?,
    })
}

/// QUERY and EXECUTE parameters: every optional field present or not, values positional or
/// named.
pub fn query_parameters(u: &mut Unstructured<'_>) -> Result<QueryParameters> {
    let mut p = QueryParameters::new(consistency(u)?);
    if u.arbitrary()? {
        let named = u.arbitrary()?;
        p.values = Some(values(u, named)?);
    }
    p.skip_metadata = u.arbitrary()?;
    p.page_size = u.arbitrary()?;
    p.paging_state = opt_bytes(u)?;
    p.serial_consistency = opt_consistency(u)?;
    p.default_timestamp = u.arbitrary()?;
    Ok(p)
}

/// 0 to 6 bound values, positional or named.
pub fn values(u: &mut Unstructured<'_>, named: bool) -> Result<QueryValues> {
    let n = u.int_in_range(0..=6)?;
    Ok(if named {
        let mut v = Vec::new();
        for _ in 0..n {
            v.push((String::arbitrary(u)?, bound_value(u)?));
        }
        QueryValues::Named(v)
    } else {
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(bound_value(u)?);
        }
        QueryValues::Positional(v)
    })
}

/// Null, not set, or bytes.
pub fn bound_value(u: &mut Unstructured<'_>) -> Result<BoundValue> {
    Ok(match u.int_in_range(0..=2u8)? {
        0 => BoundValue::Null,
        1 => BoundValue::NotSet,
        _ => BoundValue::Bytes(bytes(u)?),
    })
}
