#!/usr/bin/env python3
"""Request vectors from the DataStax Python driver, and its view of our responses.

Run with the project venv (cassandra-driver 3.30.x):

    target/venv/bin/python tests/vectors/python/gen_messages.py

1. Writes messages/requests.json: request frames encoded by
   `cassandra.protocol.ProtocolHandler.encode_message(msg, stream, 4, None, False)`, each with
   the parameters used, in a form `tests/vectors_messages.rs` rebuilds with our encoder
   (byte-identical output expected) and decodes.
2. Reads messages/responses.json (response frames encoded by our encoder; the Rust test keeps
   it up to date, see CQL4_BLESS there), decodes each with the driver's
   `ProtocolHandler.decode_message`, and writes the driver's view of each message to
   messages/responses_python.json, which the Rust test checks field by field.

Values in the JSON: byte strings are hex; `null` is a null [value]; "unset" is not set.
"""

import json
import os
import struct
import sys
import uuid

import cassandra
from cassandra import ConsistencyLevel as CL
from cassandra.protocol import (
    AuthResponseMessage,
    BatchMessage,
    ExecuteMessage,
    OptionsMessage,
    PrepareMessage,
    ProtocolHandler,
    QueryMessage,
    RegisterMessage,
    StartupMessage,
    _UNSET_VALUE,
)
from cassandra.query import BatchType

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "messages")


def value_py(v):
    """JSON value -> the driver's [value]."""
    if v is None:
        return None
    if v == "unset":
        return _UNSET_VALUE
    return bytes.fromhex(v)


def int_hex(i):
    return struct.pack(">i", i).hex()


def query_params_json(consistency, values=None, skip_metadata=False, page_size=None,
                      paging_state=None, serial_consistency=None, timestamp=None):
    return {
        "consistency": consistency,
        "values": values,
        "skip_metadata": skip_metadata,
        "page_size": page_size,
        "paging_state": paging_state,
        "serial_consistency": serial_consistency,
        "timestamp": timestamp,
    }


def request_cases():
    """(name, description, stream, tracing, custom_payload, message json, driver message)."""
    cases = []

    def add(name, description, msg_json, msg, stream=0, tracing=False, custom_payload=None):
        msg.tracing = tracing
        msg.custom_payload = (
            {k: (None if v is None else bytes.fromhex(v)) for k, v in custom_payload}
            if custom_payload is not None else None
        )
        cases.append((name, description, stream, tracing, custom_payload, msg_json, msg))

    # STARTUP: the driver adds CQL_VERSION after the given options (dict order).
    for name, options in [
        ("startup_plain", {}),
        ("startup_lz4", {"COMPRESSION": "lz4"}),
        ("startup_no_compact_throw_on_overload", {"NO_COMPACT": "true", "THROW_ON_OVERLOAD": "true"}),
    ]:
        optmap = dict(options)
        optmap["CQL_VERSION"] = "3.0.0"
        add(name, "STARTUP %r" % (options,),
            {"type": "STARTUP", "options": [[k, v] for k, v in optmap.items()]},
            StartupMessage(cqlversion="3.0.0", options=dict(options)), stream=1)

    add("options", "OPTIONS", {"type": "OPTIONS"}, OptionsMessage())

    token = b"\x00cassandra\x00cassandra"
    add("auth_response_plain", "AUTH_RESPONSE SASL PLAIN token",
        {"type": "AUTH_RESPONSE", "token": token.hex()}, AuthResponseMessage(token), stream=2)
    add("auth_response_sigv4_initial", "AUTH_RESPONSE SigV4 initial response",
        {"type": "AUTH_RESPONSE", "token": b"SigV4\x00\x00".hex()},
        AuthResponseMessage(b"SigV4\x00\x00"), stream=3)

    add("register_all", "REGISTER all event types",
        {"type": "REGISTER", "event_types": ["TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE"]},
        RegisterMessage(["TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE"]))

    add("prepare", "PREPARE a select",
        {"type": "PREPARE", "query": "SELECT * FROM ks.t WHERE k = ?"},
        PrepareMessage("SELECT * FROM ks.t WHERE k = ?"), stream=4)
    add("prepare_unicode_custom_payload_tracing", "PREPARE with non-ASCII text, tracing, custom payload",
        {"type": "PREPARE", "query": "SELECT \u00e9t\u00e9 FROM \u65e5\u672c"},
        PrepareMessage("SELECT \u00e9t\u00e9 FROM \u65e5\u672c"), stream=5, tracing=True,
        custom_payload=[["key", "0102"]])

    # QUERY: the driver sends no bound values for QUERY (query_params is None).
    add("query_simple", "QUERY at ONE, no flags",
        {"type": "QUERY", "query": "SELECT release_version FROM system.local",
         "params": query_params_json(CL.ONE)},
        QueryMessage("SELECT release_version FROM system.local", CL.ONE), stream=6)
    add("query_paging", "QUERY with page size 5000, paging state, LOCAL_QUORUM",
        {"type": "QUERY", "query": "SELECT * FROM ks.t",
         "params": query_params_json(CL.LOCAL_QUORUM, page_size=5000, paging_state="00ff10")},
        QueryMessage("SELECT * FROM ks.t", CL.LOCAL_QUORUM, fetch_size=5000,
                     paging_state=bytes.fromhex("00ff10")), stream=7)
    add("query_serial_timestamp", "QUERY with serial LOCAL_SERIAL and default timestamp",
        {"type": "QUERY", "query": "UPDATE ks.t SET v = 1 WHERE k = 0 IF v = 0",
         "params": query_params_json(CL.QUORUM, serial_consistency=CL.LOCAL_SERIAL,
                                     timestamp=1600000000000000)},
        QueryMessage("UPDATE ks.t SET v = 1 WHERE k = 0 IF v = 0", CL.QUORUM,
                     serial_consistency_level=CL.LOCAL_SERIAL, timestamp=1600000000000000),
        stream=8)
    add("query_every_driver_flag", "QUERY with page size, paging state, serial, timestamp, tracing",
        {"type": "QUERY", "query": "SELECT * FROM ks.t",
         "params": query_params_json(CL.LOCAL_ONE, page_size=100, paging_state="abcdef",
                                     serial_consistency=CL.SERIAL, timestamp=5)},
        QueryMessage("SELECT * FROM ks.t", CL.LOCAL_ONE, serial_consistency_level=CL.SERIAL,
                     fetch_size=100, paging_state=bytes.fromhex("abcdef"), timestamp=5),
        stream=32767, tracing=True)

    # EXECUTE: values, skip metadata, and every other flag.
    values = [int_hex(42), None, "unset", "", "68656c6c6f"]
    add("execute_values", "EXECUTE with int, null, unset, empty and text values",
        {"type": "EXECUTE", "id": "0123456789abcdef",
         "params": query_params_json(CL.LOCAL_QUORUM, values=values)},
        ExecuteMessage(bytes.fromhex("0123456789abcdef"), [value_py(v) for v in values],
                       CL.LOCAL_QUORUM), stream=9)
    add("execute_no_values", "EXECUTE with an empty value list (flag set, count 0)",
        {"type": "EXECUTE", "id": "aa",
         "params": query_params_json(CL.ONE, values=[])},
        ExecuteMessage(b"\xaa", [], CL.ONE), stream=10)
    # The driver accepts skip_meta=True but 3.30 never sets flag 0x02 on the wire, so the
    # parameters recorded here say what was encoded: no skip metadata.
    add("execute_all_flags", "EXECUTE with values, paging, serial, timestamp, payload "
        "(skip_meta=True is not sent by the driver)",
        {"type": "EXECUTE", "id": "deadbeef",
         "params": query_params_json(CL.EACH_QUORUM, values=[int_hex(7)], skip_metadata=False,
                                     page_size=2, paging_state="0102030405",
                                     serial_consistency=CL.SERIAL, timestamp=0)},
        ExecuteMessage(bytes.fromhex("deadbeef"), [value_py(int_hex(7))], CL.EACH_QUORUM,
                       serial_consistency_level=CL.SERIAL, fetch_size=2,
                       paging_state=bytes.fromhex("0102030405"), timestamp=0, skip_meta=True),
        stream=11, custom_payload=[["a", "00"], ["b", ""]])

    # BATCH: logged / unlogged / counter; query and prepared children.
    children = [
        [False, "INSERT INTO ks.t (k, v) VALUES (1, 2)", []],
        [True, "cafe", [int_hex(1), None, "unset"]],
        [False, "INSERT INTO ks.t (k, v) VALUES (?, ?)", [int_hex(3), int_hex(4)]],
    ]

    def batch_py(kind, children, cl, serial=None, ts=None):
        queries = [
            (prepared, bytes.fromhex(q) if prepared else q, [value_py(v) for v in vals])
            for prepared, q, vals in children
        ]
        return BatchMessage(kind, queries, cl, serial_consistency_level=serial, timestamp=ts)

    def batch_json(kind, children, cl, serial=None, ts=None):
        return {"type": "BATCH", "batch_type": kind.value, "consistency": cl,
                "serial_consistency": serial, "timestamp": ts,
                "statements": [{"prepared": p, "query": q, "values": v} for p, q, v in children]}

    add("batch_logged", "BATCH logged with query and prepared children",
        batch_json(BatchType.LOGGED, children, CL.QUORUM),
        batch_py(BatchType.LOGGED, children, CL.QUORUM), stream=12)
    add("batch_unlogged_serial_timestamp", "BATCH unlogged with serial and timestamp",
        batch_json(BatchType.UNLOGGED, children[:2], CL.ONE, CL.LOCAL_SERIAL, 123456789),
        batch_py(BatchType.UNLOGGED, children[:2], CL.ONE, CL.LOCAL_SERIAL, 123456789), stream=13)
    add("batch_counter_empty", "BATCH counter with no children",
        batch_json(BatchType.COUNTER, [], CL.ALL), batch_py(BatchType.COUNTER, [], CL.ALL),
        stream=14, custom_payload=[["x", None]])
    return cases


def encode_requests():
    out = []
    for name, description, stream, tracing, payload, msg_json, msg in request_cases():
        frame = ProtocolHandler.encode_message(msg, stream, protocol_version=4, compressor=None,
                                               allow_beta_protocol_version=False)
        out.append({
            "name": name,
            "description": description,
            "stream": stream,
            "tracing": tracing,
            "custom_payload": payload,
            "message": msg_json,
            "hex": frame.hex(),
        })
    return out


def plain(v):
    """The driver's objects as JSON."""
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, dict):
        return {str(plain(k)): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, type):
        return getattr(v, "cql_parameterized_type", lambda: v.__name__)()
    if hasattr(v, "_asdict"):
        return plain(v._asdict())
    return repr(v)


def decode_responses():
    path = os.path.join(OUT, "responses.json")
    if not os.path.exists(path):
        print("no %s yet: run the Rust test with CQL4_BLESS=1 first" % path, file=sys.stderr)
        return None
    with open(path) as f:
        ours = json.load(f)
    views = []
    for case in ours["responses"]:
        frame = bytes.fromhex(case["hex"])
        version, flags, stream, opcode, length = struct.unpack(">BBhBi", frame[:9])
        assert version == 0x84, case["name"]
        body = frame[9:]
        assert len(body) == length, case["name"]
        msg = ProtocolHandler.decode_message(4, {}, stream, flags, opcode, body, None, None)
        fields = {k: plain(v) for k, v in vars(msg).items()
                  if not k.startswith("_") and k not in ("column_types",)}
        if hasattr(msg, "column_types") and msg.column_types:
            fields["column_types"] = [t.cql_parameterized_type() for t in msg.column_types]
        views.append({"name": case["name"], "class": type(msg).__name__, "fields": fields})
    return views


def main():
    os.makedirs(OUT, exist_ok=True)
    requests = {
        "generator": "tests/vectors/python/gen_messages.py",
        "driver": "cassandra-driver " + cassandra.__version__,
        "protocol_version": 4,
        "requests": encode_requests(),
    }
    with open(os.path.join(OUT, "requests.json"), "w") as f:
        json.dump(requests, f, indent=1, sort_keys=True)
        f.write("\n")
    views = decode_responses()
    if views is not None:
        with open(os.path.join(OUT, "responses_python.json"), "w") as f:
            json.dump({"driver": "cassandra-driver " + cassandra.__version__,
                       "responses": views}, f, indent=1, sort_keys=True)
            f.write("\n")
    print("wrote %d request vectors%s" % (
        len(requests["requests"]),
        "" if views is None else " and %d decoded responses" % len(views)))


if __name__ == "__main__":
    main()
