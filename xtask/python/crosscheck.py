"""Cross-check the keyspaces-mode test node with AWS's own client code.

Run by `cargo xtask test` with the node's CQL4_TEST_* environment (docs/testing.md), using the
venv's cassandra-driver 3.30.x and cassandra-sigv4 4.0.x. Each check logs in over TLS (verifying
the generated CA and the server name) and reads system_schema.keyspaces, or expects a refusal.
Exits 1 if any expectation fails. Secrets are never printed.
"""

import hashlib
import logging
import os
import ssl
import sys
import time
import warnings
from datetime import datetime, timedelta

from cassandra import AuthenticationFailed
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster, NoHostAvailable
from cassandra.policies import RoundRobinPolicy
import cassandra_sigv4.auth
from cassandra_sigv4.auth import SigV4AuthProvider

# The driver's legacy-parameter deprecation notice is noise here.
warnings.filterwarnings("ignore", category=DeprecationWarning)
# Connection errors are expected in the refusal checks; keep the driver quiet.
logging.basicConfig(level=logging.CRITICAL)

ENV = os.environ
if "CQL4_TEST_HOST" not in ENV:
    sys.exit("crosscheck.py needs the CQL4_TEST_* environment: run it via `cargo xtask test`")
HOST = ENV["CQL4_TEST_HOST"]
PORT = int(ENV["CQL4_TEST_PORT"])
CA = ENV["CQL4_TEST_CA"]
SERVER_NAME = ENV["CQL4_TEST_SERVER_NAME"]
USER = ENV["CQL4_TEST_USER"]
PASSWORD = ENV["CQL4_TEST_PASSWORD"]
ACCESS_KEY = ENV["CQL4_TEST_AWS_ACCESS_KEY_ID"]
SECRET = ENV["CQL4_TEST_AWS_SECRET_ACCESS_KEY"]
TOKEN = ENV["CQL4_TEST_AWS_SESSION_TOKEN"]
REGION = ENV["CQL4_TEST_AWS_REGION"]
NODE_LOG = ENV["CQL4_TEST_NODE_LOG"]


def ssl_context():
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=CA)
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def connect(auth_provider, tls=True):
    cluster = Cluster(
        [HOST],
        port=PORT,
        auth_provider=auth_provider,
        ssl_context=ssl_context() if tls else None,
        ssl_options={"server_hostname": SERVER_NAME} if tls else None,
        protocol_version=4,  # what Amazon Keyspaces speaks
        load_balancing_policy=RoundRobinPolicy(),
        connect_timeout=10,
        control_connection_timeout=10,
    )
    try:
        session = cluster.connect()
        return cluster, session
    except Exception:
        cluster.shutdown()
        raise


def keyspaces_via(auth_provider):
    cluster, session = connect(auth_provider)
    try:
        rows = session.execute("select * from system_schema.keyspaces")
        return sorted(r.keyspace_name for r in rows)
    finally:
        cluster.shutdown()


def refused(auth_provider, tls=True):
    """Returns the refusal reason, or None if the login unexpectedly worked."""
    try:
        cluster, _ = connect(auth_provider, tls)
    except NoHostAvailable as e:
        return "; ".join(f"{type(v).__name__}: {v}" for v in e.errors.values())
    except AuthenticationFailed as e:
        return str(e)
    cluster.shutdown()
    return None


def sigv4(secret=SECRET, region=REGION, token=TOKEN, key=ACCESS_KEY):
    return SigV4AuthProvider(
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        region_name=region,
    )


failures = []


def check(name, fn):
    started = time.monotonic()
    try:
        detail = fn()
        print(f"ok   {name} ({time.monotonic() - started:.1f}s){': ' + detail if detail else ''}")
    except Exception as e:  # report every failed expectation, then exit 1
        failures.append(name)
        print(f"FAIL {name}: {type(e).__name__}: {e}")


def expect_keyspaces(provider):
    names = keyspaces_via(provider)
    if "system" not in names or "system_schema" not in names:
        raise AssertionError(f"system keyspaces missing from {names}")
    return f"{len(names)} keyspaces"


def expect_refusal(provider, must_mention, tls=True):
    reason = refused(provider, tls)
    if reason is None:
        raise AssertionError("login accepted but must be refused")
    if must_mention.lower() not in reason.lower():
        raise AssertionError(f"refused for another reason: {reason}")
    return "refused"


def expect_token_fingerprint_logged():
    fingerprint = hashlib.sha256(TOKEN.encode()).hexdigest()[:16]
    with open(NODE_LOG, encoding="utf-8", errors="replace") as f:
        log = f.read()
    if f"session_token_sha256={fingerprint}" not in log:
        raise AssertionError("no SigV4 login line with the session token fingerprint in the node log")
    if TOKEN in log or SECRET in log or PASSWORD in log:
        raise AssertionError("a secret appears in the node log")
    return "fingerprint logged, secrets absent"


check("SASL PLAIN login over TLS (service-specific credentials)",
      lambda: expect_keyspaces(PlainTextAuthProvider(username=USER, password=PASSWORD)))
check("SigV4 login with session token (cassandra_sigv4.auth.SigV4AuthProvider)",
      lambda: expect_keyspaces(sigv4()))
check("SigV4 login without session token", lambda: expect_keyspaces(sigv4(token=None)))
check("session token recorded by fingerprint only", expect_token_fingerprint_logged)
check("wrong password refused",
      lambda: expect_refusal(PlainTextAuthProvider(username=USER, password=PASSWORD + "x"), "password"))
# The last character changed to one it is not (the secret is random: it may end in any).
WRONG_SECRET = SECRET[:-1] + ("y" if SECRET.endswith("x") else "x")
check("wrong secret refused", lambda: expect_refusal(sigv4(secret=WRONG_SECRET), "signature"))
check("wrong region refused", lambda: expect_refusal(sigv4(region="eu-west-1"), "signature"))
check("unknown access key refused", lambda: expect_refusal(sigv4(key="ASIAUNKNOWNKEY000000"), "unknown access key"))
def expect_stale_amzdate_refused():
    """The plugin signs with datetime.utcnow(); shift its clock 20 minutes back."""

    class Skewed(datetime):
        @classmethod
        def utcnow(cls):
            return datetime.utcnow() - timedelta(minutes=20)

    real = cassandra_sigv4.auth.datetime
    cassandra_sigv4.auth.datetime = Skewed
    try:
        return expect_refusal(sigv4(), "more than 15 minutes")
    finally:
        cassandra_sigv4.auth.datetime = real


check("amzdate 20 minutes old refused", expect_stale_amzdate_refused)
check("plaintext connection refused (TLS required)",
      lambda: expect_refusal(PlainTextAuthProvider(username=USER, password=PASSWORD), "", tls=False))

if failures:
    print(f"{len(failures)} check(s) failed: {', '.join(failures)}")
    sys.exit(1)
print("all Python cross-checks passed")
