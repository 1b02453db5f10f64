//! A request's result is moved through every layer of a request (the session's run, attempts
//! and attempt, the connection's execute, send and decode: about 20 copies per request), so
//! its size is a budget like the allocation count: 328 bytes cost 10 % of the client's CPU at
//! 4,096 in flight. The page of rows and the rare large results are boxed to keep it small.

use std::mem::size_of;

use cql4_conn::{QueryResult, Result};
use cql4_frame::response::ResultResponse;
use cql4_frame::rows::Rows;

#[test]
fn a_result_is_small_to_move() {
    assert_eq!(size_of::<Rows>(), size_of::<usize>(), "Rows is its box");
    for (name, size, budget) in [
        ("ResultResponse", size_of::<ResultResponse>(), 32),
        ("QueryResult", size_of::<QueryResult>(), 96),
        ("Result<QueryResult>", size_of::<Result<QueryResult>>(), 96),
    ] {
        assert!(size <= budget, "{name} is {size} bytes, over {budget}");
    }
}
