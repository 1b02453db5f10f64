"""Oracle for tests/sigv4_python.rs: answers SigV4 challenges with AWS's `cassandra-sigv4` plugin.

Reads JSON lines from stdin, one case each:
  {"access_key": str, "secret_key": str, "token": str|null, "region": str,
   "challenge": str, "epoch_seconds": int, "millis": int}
and writes one JSON line per case: {"response": str} or {"error": str}.

It drives the plugin's own `SigV4Authenticator.evaluate_challenge` (nonce extraction, signing and
response formatting all come from the installed plugin), with a stub boto3 session for the
credentials and the module's `datetime` replaced so `utcnow()` returns the case's time.
"""
import json
import sys
from datetime import datetime, timedelta

import cassandra_sigv4.auth as plugin


class _Credentials:
    def __init__(self, access_key, secret_key, token):
        self.access_key = access_key
        self.secret_key = secret_key
        self.token = token


class _Session:
    def __init__(self, credentials, region_name):
        self._credentials = credentials
        self.region_name = region_name

    def get_credentials(self):
        return self._credentials


class _FrozenDatetime:
    now = None

    @classmethod
    def utcnow(cls):
        return cls.now


plugin.datetime = _FrozenDatetime
_EPOCH = datetime(1970, 1, 1)

for line in sys.stdin:
    if not line.strip():
        continue
    case = json.loads(line)
    try:
        _FrozenDatetime.now = _EPOCH + timedelta(seconds=case["epoch_seconds"],
                                                 milliseconds=case["millis"])
        session = _Session(_Credentials(case["access_key"], case["secret_key"], case["token"]),
                           case["region"])
        authenticator = plugin.SigV4Authenticator(session)
        initial = authenticator.initial_response()
        response = authenticator.evaluate_challenge(case["challenge"].encode("utf-8"))
        out = {"initial": initial.decode("latin-1"), "response": response}
    except Exception as e:  # reported to the Rust side, which fails the case
        out = {"error": "{0}: {1}".format(type(e).__name__, e)}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
