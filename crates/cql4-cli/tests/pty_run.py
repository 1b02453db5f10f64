"""Runs a command on a new pseudo-terminal, as a person at a terminal would.

Usage: pty_run.py PROGRAM [ARGS...]; the text to type at the first "Password: " prompt comes
from the CQL4_PTY_ANSWER environment variable (removed before the program starts, so the
program can only learn it from the terminal). Everything the terminal showed is written to
stdout; the exit status is the program's. Gives up after 60 s.
Used by crates/cql4-cli/tests/cli.rs.
"""
import os
import pty
import select
import sys
import time

answer = os.environ.pop("CQL4_PTY_ANSWER").encode()
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])

shown = b""
typed = False
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if not ready:
        continue
    try:
        chunk = os.read(fd, 65536)
    except OSError:  # EIO: the program closed the terminal (it exited)
        break
    if not chunk:
        break
    shown += chunk
    if not typed and b"Password: " in shown:
        os.write(fd, answer + b"\n")
        typed = True
else:
    os.kill(pid, 9)
    sys.stderr.write("pty_run.py: gave up after 60 s\n")

_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(shown)
sys.exit(os.waitstatus_to_exitcode(status))
