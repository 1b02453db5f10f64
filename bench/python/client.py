"""End-to-end client for the DataStax Python driver (cassandra-driver 3.30.x, Cython build).

Prepares the benchmark select and insert, keeps --concurrency requests in flight with
execute_async callbacks (the driver's own event loop thread does the I/O), and prints one JSON
record in the format of cql4-bench's Record. Percentiles are exact (sorted samples).

With --session (cargo xtask bench --session) it is the session benchmark's Python driver:
contact point --host, discovery on and the driver's default execution profile (its default
load-balancing policy, token-aware over DC-aware round robin), TLS against --ca (certificate
and --server-name checked) and a PlainTextAuthProvider login (--user, and the password in
CQL4_BENCH_PASSWORD so it is not on the command line).
"""
import argparse
import array
import json
import os
import resource
import ssl
import sys
import threading
import time

import cassandra
import cassandra.cluster
from cassandra.cluster import Cluster, ExecutionProfile, EXEC_PROFILE_DEFAULT
from cassandra.auth import PlainTextAuthProvider
from cassandra.policies import RoundRobinPolicy

SELECT = "SELECT id, name, payload FROM {}.t WHERE id = ?"
INSERT = "INSERT INTO {}.t (id, name, payload) VALUES (?, ?, ?)"
SELECT_ID = 42


def rusage():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=19042)
    p.add_argument("--workload", default="select")
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--pool", default="one")
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--session", action="store_true")
    p.add_argument("--keyspace", default="bench")
    p.add_argument("--ca")
    p.add_argument("--server-name")
    p.add_argument("--user")
    a = p.parse_args()

    if not cassandra.cluster.__file__.endswith(".so"):
        print("cassandra.cluster is not the compiled module: %s" % cassandra.cluster.__file__,
              file=sys.stderr)
        sys.exit(2)

    extra = {}
    if a.ca:
        ctx = ssl.create_default_context(cafile=a.ca)
        extra["ssl_context"] = ctx
        extra["ssl_options"] = {"server_hostname": a.server_name}
    if a.user:
        extra["auth_provider"] = PlainTextAuthProvider(
            username=a.user, password=os.environ.get("CQL4_BENCH_PASSWORD", ""))
    if a.session:
        a.pool = "default"
        cluster = Cluster([a.host], port=a.port, protocol_version=4, **extra)
        note = "session, defaults (discovery, default execution profile)"
    else:
        profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy(), request_timeout=30)
        cluster = Cluster([a.host], port=a.port, protocol_version=4,
                          execution_profiles={EXEC_PROFILE_DEFAULT: profile}, **extra)
        # With protocol v3+ the driver keeps exactly one connection per host (the pool size
        # setters refuse to run), so "one" and "default" are the same configuration.
        note = "one connection per host (fixed for protocol v3+)"
    session = cluster.connect()
    stmt = session.prepare((SELECT if a.workload == "select" else INSERT).format(a.keyspace))
    payload = bytes(range(100))

    state = {"measuring": False, "stop": False, "errors": 0, "n": 0, "i": 0}
    lat = array.array("q")
    done = threading.Event()
    inflight = [0]
    lock = threading.Lock()

    def start():
        i = state["i"]
        state["i"] = i + 1
        if a.workload == "select":
            args = (SELECT_ID,)
        else:
            args = (1000 + i % 100000, "name-inserted", payload)
        t = time.perf_counter_ns()
        f = session.execute_async(stmt, args)
        f.add_callbacks(on_ok, on_err, callback_args=(t,), errback_args=(t,))

    def finish(t, ok):
        ns = time.perf_counter_ns() - t
        if state["measuring"] and not state["stop"]:
            if ok:
                lat.append(ns)
                state["n"] += 1
        if state["stop"]:
            with lock:
                inflight[0] -= 1
                if inflight[0] == 0:
                    done.set()
            return
        start()

    def on_ok(rows, t):
        if a.workload == "select":
            row = rows[0]
            if row.id != SELECT_ID or not row.name or len(row.payload) != 100:
                on_err(ValueError("unexpected row %r" % (row,)), t)
                return
        finish(t, True)

    def on_err(exc, t):
        state["errors"] += 1
        print("request failed: %r" % (exc,), file=sys.stderr)
        if not state["measuring"]:
            state["stop"] = True
        finish(t, False)

    inflight[0] = a.concurrency
    for _ in range(a.concurrency):
        start()
    time.sleep(a.warmup)
    cpu0, _ = rusage()
    t0 = time.perf_counter()
    state["measuring"] = True
    time.sleep(a.duration)
    state["stop"] = True
    seconds = time.perf_counter() - t0
    cpu1, _ = rusage()
    done.wait(60)
    _, maxrss = rusage()
    cluster.shutdown()

    s = sorted(lat)
    n = len(s)

    def q(p):
        if n == 0:
            return 0.0
        return s[min(n - 1, int(p * n))] / 1000.0

    rec = {
        "driver": "python", "driver_version": cassandra.__version__, "workload": a.workload,
        "concurrency": a.concurrency, "pool": a.pool, "requests": n,
        "errors": state["errors"], "seconds": seconds, "throughput": n / seconds,
        "p50_us": q(0.5), "p99_us": q(0.99), "p999_us": q(0.999),
        "cpu_us_per_req": (cpu1 - cpu0) * 1e6 / max(n, 1), "maxrss_kb": maxrss, "note": note,
    }
    print(json.dumps(rec))
    sys.exit(0 if n > 0 and state["errors"] == 0 else 1)


if __name__ == "__main__":
    main()
