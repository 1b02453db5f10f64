"""Captures real native-protocol v4 frames from a running Cassandra node, as fuzz seeds.

Run with the project's venv (cassandra-driver 3.30.x) against the harness's node:

    target/venv/bin/python fuzz/capture/capture.py target/cassandra/node.json fuzz/captures

Every frame the driver receives (READY, AUTHENTICATE, AUTH_SUCCESS, SUPPORTED, RESULT of every
kind, ERROR, EVENT) and every request frame it sends is written as one file of raw bytes
(header + body). Compression is off so bodies are plain. Credentials are read from the node's
JSON file and never written out (AUTH_RESPONSE frames, which carry them, are not kept).
"""

import hashlib
import json
import os
import ssl
import struct
import sys
import time

from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster
import cassandra.connection as connection

node = json.load(open(sys.argv[1]))
out_dir = sys.argv[2]
os.makedirs(out_dir, exist_ok=True)
OPCODE_NAMES = {0x00: "error", 0x02: "ready", 0x03: "authenticate", 0x06: "supported",
                0x08: "result", 0x0C: "event", 0x0E: "auth_challenge", 0x10: "auth_success",
                0x01: "req_startup", 0x05: "req_options", 0x07: "req_query", 0x09: "req_prepare",
                0x0A: "req_execute", 0x0B: "req_register", 0x0D: "req_batch"}
seen = set()


def save(frame):
    opcode = frame[4]
    if opcode == 0x0F:  # AUTH_RESPONSE: holds the password
        return
    digest = hashlib.sha1(frame).hexdigest()[:12]
    if digest in seen:
        return
    seen.add(digest)
    name = "%s-%s" % (OPCODE_NAMES.get(opcode, "op%02x" % opcode), digest)
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(frame)


original_process_msg = connection.Connection.process_msg


def process_msg(self, header, body):
    try:
        record(header, body)
    except Exception as e:  # never break the driver
        print("capture failed:", repr(e), file=sys.stderr)
    return original_process_msg(self, header, body)


def record(header, body):
    version = header.version | 0x80
    save(struct.pack(">BBhBI", version, header.flags, header.stream, header.opcode, len(body)) + bytes(body))


import cassandra.cluster
conn_class = cassandra.cluster.DefaultConnection
original_push = conn_class.push


def push(self, data):
    rest = bytes(data)
    # One push may hold several frames.
    while len(rest) >= 9:
        length = struct.unpack(">I", rest[5:9])[0]
        save(rest[:9 + length])
        rest = rest[9 + length:]
    return original_push(self, data)


connection.Connection.process_msg = process_msg
conn_class.push = push

ctx = ssl.create_default_context(cafile=node["tls"]["ca"])
ctx.check_hostname = False
creds = node["credentials"]
cluster = Cluster([node["host"]], port=node["port"], protocol_version=4, ssl_context=ctx,
                  auth_provider=PlainTextAuthProvider(creds["user"], creds["password"]),
                  compression=False)
s = cluster.connect()
ks = "cql4_fuzz_capture"
statements = [
    "SELECT * FROM system.local",
    "SELECT * FROM system.peers",
    "SELECT keyspace_name, table_name, column_name, type FROM system_schema.columns LIMIT 50",
    "DROP KEYSPACE IF EXISTS %s" % ks,
    "CREATE KEYSPACE %s WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}" % ks,
    "CREATE TYPE %s.addr (street text, nums list<int>, at tuple<int, text>)" % ks,
    """CREATE TABLE %s.every (k int PRIMARY KEY, a ascii, b bigint, bl blob, bo boolean,
       de decimal, do double, fl float, i inet, t timestamp, u uuid, tu timeuuid, v varint,
       da date, ti time, sm smallint, tn tinyint, du duration, tx text,
       l list<text>, s set<int>, m map<text, bigint>, tp tuple<int, text, blob>,
       ad frozen<addr>, nested map<int, frozen<list<frozen<set<text>>>>>)""" % ks,
    "CREATE TABLE %s.c (k int PRIMARY KEY, n counter)" % ks,
    """INSERT INTO %s.every (k, a, b, bl, bo, de, do, fl, i, t, u, tu, v, da, ti, sm, tn, du, tx,
       l, s, m, tp, ad, nested) VALUES (1, 'ascii', -9223372036854775808, 0xcafe, true,
       -123.4560e-10, NaN, -Infinity, '::1', '2024-02-29 12:34:56.789+0000',
       7c2e4cd1-0000-4000-8000-000000000001, now(), 123456789012345678901234567890,
       '1970-01-01', '23:59:59.999999999', -32768, 127, 1y2mo3w4d5h6m7s8ms9us10ns, 'ünïcødé',
       ['a', 'b'], {1, 2, 3}, {'x': 1, 'y': -1}, (1, 'two', 0x03),
       {street: 'main', nums: [1, 2], at: (3, 'four')}, {1: [{'a'}, {'b', 'c'}]})""" % ks,
    "INSERT INTO %s.every (k) VALUES (2)" % ks,
    "UPDATE %s.c SET n = n + 5 WHERE k = 1" % ks,
    "SELECT * FROM %s.every" % ks,
    "SELECT * FROM %s.c" % ks,
    "SELECT k, writetime(a), ttl(a), token(k) FROM %s.every" % ks,
    "SELECT COUNT(*) FROM %s.every" % ks,
    "INSERT INTO %s.every (k, tx) VALUES (3, 'x') IF NOT EXISTS" % ks,
    "INSERT INTO %s.every (k, tx) VALUES (3, 'y') IF NOT EXISTS" % ks,
    "USE %s" % ks,
]
for q in statements:
    s.execute(q)
errors = [
    "SELEKT * FROM nowhere",
    "SELECT * FROM no_such_keyspace.t",
    "SELECT nope FROM %s.every" % ks,
    "CREATE KEYSPACE %s WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}" % ks,
    "CREATE TABLE %s.every (k int PRIMARY KEY)" % ks,
    "INSERT INTO %s.every (k, b) VALUES (4, 'not a bigint')" % ks,
    "SELECT * FROM %s.every WHERE tx = 'x'" % ks,
    "SELECT * FROM %s.every WHERE k = 1 AND k = 2" % ks,
]
for q in errors:
    try:
        s.execute(q)
    except Exception:
        pass
# Paged query, prepared statements (with and without result metadata), a batch.
s.default_fetch_size = 1
for _ in s.execute("SELECT k, tx FROM %s.every" % ks):
    pass
p = s.prepare("SELECT * FROM %s.every WHERE k = ?" % ks)
s.execute(p, [1])
ins = s.prepare("INSERT INTO %s.every (k, tx, m) VALUES (?, ?, ?)" % ks)
s.execute(ins, [10, "ten", {"a": 1}])
from cassandra.query import BatchStatement
b = BatchStatement()
b.add(ins, [11, "eleven", None])
b.add("INSERT INTO %s.every (k, tx) VALUES (%%s, %%s)" % ks, [12, "twelve"])
s.execute(b)
# Schema changes produce EVENTs on the control connection and Schema_change results.
s.execute("ALTER TABLE %s.c WITH comment = 'x'" % ks)
s.execute("CREATE INDEX IF NOT EXISTS ON %s.every (tx)" % ks)
time.sleep(1)
s.execute("DROP KEYSPACE %s" % ks)
time.sleep(2)
cluster.shutdown()
print("captured %d frames into %s" % (len(seen), out_dir))
