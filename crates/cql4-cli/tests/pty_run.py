"""Runs a command on a new pseudo-terminal, as a person at a terminal would.

Usage: pty_run.py PROGRAM [ARGS...]. What to type at the first "Password: " prompt comes from
the CQL4_PTY_ANSWER environment variable (removed before the program starts, so the program can
only learn it from the terminal): its text then Enter or, if it ends with the literal
"<ctrl-c>", the text before that then Ctrl-C (\\x03) instead of Enter. Typing waits until the
program has turned the terminal's echo off, so nothing typed can be echoed by the terminal
itself before the program is ready (rpassword prints the prompt before it turns echo off).
If CQL4_PTY_CTRL_C_AT is set (and not empty), Ctrl-C is typed once more when the terminal shows
that text after the answer was typed (e.g. "cql4> ", the statement prompt).

Everything the terminal showed is written to stdout. On stderr, two lines:
  pty_run.py: exited with status N      or   pty_run.py: killed by signal N (SIGNAME)
  pty_run.py: terminal at the end: ECHO=0|1 ICANON=0|1 ISIG=0|1
The exit status is the program's, or 128+N for death by signal N (the stderr line tells the
two apart). Gives up after 60 s (the program is killed with SIGKILL and that is reported).
Used by crates/cql4-cli/tests/cli.rs.
"""
import os
import pty
import select
import signal
import sys
import termios
import time

CTRL_C = "<ctrl-c>"
ECHO_OFF_TIMEOUT = 10.0

answer = os.environ.pop("CQL4_PTY_ANSWER")
ctrl_c_at = os.environ.pop("CQL4_PTY_CTRL_C_AT", "").encode()
if answer.endswith(CTRL_C):
    typed_bytes = answer[: -len(CTRL_C)].encode() + b"\x03"
else:
    typed_bytes = answer.encode() + b"\n"

pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])


def lflag():
    # On Linux, tcgetattr on the master reports the terminal's (the slave's) settings.
    return termios.tcgetattr(fd)[3]


def wait_for_echo_off(deadline):
    """True once the terminal's ECHO flag is off; False if it is still on at the deadline."""
    while time.monotonic() < deadline:
        if lflag() & termios.ECHO == 0:
            return True
        time.sleep(0.01)
    return lflag() & termios.ECHO == 0


shown = b""
typed = False
typed_at = 0  # len(shown) when the answer was typed
ctrl_c_typed = False
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
        if not wait_for_echo_off(time.monotonic() + ECHO_OFF_TIMEOUT):
            sys.stderr.write(
                f"pty_run.py: echo still on {ECHO_OFF_TIMEOUT:.0f} s after the prompt; "
                "typing anyway\n"
            )
        os.write(fd, typed_bytes)
        typed = True
        typed_at = len(shown)
    elif typed and ctrl_c_at and not ctrl_c_typed and ctrl_c_at in shown[typed_at:]:
        os.write(fd, b"\x03")
        ctrl_c_typed = True
else:
    os.kill(pid, signal.SIGKILL)
    sys.stderr.write("pty_run.py: gave up after 60 s\n")

_, status = os.waitpid(pid, 0)
if os.WIFSIGNALED(status):
    sig = os.WTERMSIG(status)
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = "?"
    sys.stderr.write(f"pty_run.py: killed by signal {sig} ({name})\n")
    code = 128 + sig
else:
    code = os.WEXITSTATUS(status)
    sys.stderr.write(f"pty_run.py: exited with status {code}\n")
try:
    flags = lflag()
    sys.stderr.write(
        "pty_run.py: terminal at the end: "
        + " ".join(
            f"{name}={int(flags & getattr(termios, name) != 0)}"
            for name in ("ECHO", "ICANON", "ISIG")
        )
        + "\n"
    )
except OSError as e:
    sys.stderr.write(f"pty_run.py: terminal at the end: unknown ({e})\n")
sys.stdout.buffer.write(shown)
sys.exit(code)
