"""End-to-end client for the DataStax Python driver (cassandra-driver 3.30.x, Cython build).

Prepares the benchmark select and insert, keeps --concurrency requests in flight with
execute_async callbacks (the driver's own event loop thread does the I/O), and prints one JSON
record in the format of cql4-bench's Record. Percentiles are exact (sorted samples).

With --rate R it runs the open loop of cql4-bench's drive_open instead: request k is due k/R
seconds after the start and is sent by the main thread when due (it sleeps until then: spinning
would hold the GIL the driver's I/O thread needs), its latency counted from when it was due; at
most --concurrency are outstanding (a request due beyond that is dropped and counted), and those
still unanswered a second after the schedule ended are late.

With --session (cargo xtask bench --session) it is the session benchmark's Python driver:
contact point --host, discovery on and the driver's default execution profile (its default
load-balancing policy, token-aware over DC-aware round robin), TLS against --ca (certificate
and --server-name checked) and a PlainTextAuthProvider login (--user, and the password in
CQL4_BENCH_PASSWORD so it is not on the command line).
"""
import argparse
import array
import json
import math
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
    p.add_argument("--rate", type=float, default=0.0)
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

    if a.rate > 0:
        open_loop(a, session, stmt, payload, note)
        return

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


def hdr_points(s):
    """The sorted latencies (ns) on the HdrHistogram plot's axis, as cql4-bench's hdr_points."""
    n = len(s)
    v = []
    for i in range(3, 51):
        p = 1 - 10 ** (-i / 10)
        if (1 - p) * n < 1:
            break
        v.append((p * 100, s[min(n - 1, int(p * n))] / 1000.0))
    v.append((100.0, (s[-1] if n else 0) / 1000.0))
    return v


def open_loop(a, session, stmt, payload, note):
    """The open loop (--rate): see the module docstring."""
    start = time.perf_counter_ns()
    total = math.ceil((a.warmup + a.duration) * a.rate)
    win_start = start + int(a.warmup * 1e9)
    win_end = win_start + int(a.duration * 1e9)
    drain = win_end + 1_000_000_000
    lat = array.array("q")
    lock = threading.Lock()
    st = {"outstanding": 0, "errors": 0}
    dropped = 0
    cpu0 = None

    def done(due, measured):
        ns = time.perf_counter_ns() - due
        with lock:
            st["outstanding"] -= 1
            if measured:
                lat.append(ns)

    def on_ok(rows, due, measured):
        if a.workload == "select":
            row = rows[0]
            if row.id != SELECT_ID or not row.name or len(row.payload) != 100:
                on_err(ValueError("unexpected row %r" % (row,)), due, measured)
                return
        done(due, measured)

    def on_err(exc, due, measured):
        with lock:
            st["errors"] += 1
            first = st["errors"] == 1
        if first:
            print("first error: %r" % (exc,), file=sys.stderr)
        done(due, False)

    for k in range(total):
        due = start + int(k * 1e9 / a.rate)
        wait = due - time.perf_counter_ns()
        if wait > 0:
            time.sleep(wait / 1e9)
        measured = win_start <= due < win_end
        if measured and cpu0 is None:
            cpu0, _ = rusage()
        if st["outstanding"] >= a.concurrency:
            if measured:
                dropped += 1
            continue
        with lock:
            st["outstanding"] += 1
        if a.workload == "select":
            args = (SELECT_ID,)
        else:
            args = (1000 + k % 100000, "name-inserted", payload)
        f = session.execute_async(stmt, args)
        f.add_callbacks(on_ok, on_err, callback_args=(due, measured),
                        errback_args=(due, measured))
    while st["outstanding"] > 0 and time.perf_counter_ns() < drain:
        time.sleep(0.001)
    cpu1, maxrss = rusage()
    with lock:
        s = sorted(lat)
        late = st["outstanding"]
    n = len(s)

    def q(p):
        return s[min(n - 1, int(p * n))] / 1000.0 if n else 0.0

    rec = {
        "driver": "python", "driver_version": cassandra.__version__, "workload": a.workload,
        "concurrency": a.concurrency, "pool": a.pool, "requests": n, "errors": st["errors"],
        "seconds": a.duration, "throughput": n / a.duration,
        "p50_us": q(0.5), "p99_us": q(0.99), "p999_us": q(0.999),
        "cpu_us_per_req": (cpu1 - (cpu0 or cpu1)) * 1e6 / max(n, 1), "maxrss_kb": maxrss,
        "note": note + ", open loop", "rate": a.rate, "dropped": dropped, "late": late,
        "max_us": (s[-1] / 1000.0) if n else 0.0, "hdr": hdr_points(s),
    }
    print(json.dumps(rec))
    sys.stdout.flush()
    # Late requests would hold cluster.shutdown(): leave without it.
    os._exit(0 if n > 0 and st["errors"] == 0 else 1)


if __name__ == "__main__":
    main()
