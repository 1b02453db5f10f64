"""Runs a command on a new pseudo-terminal and types at its prompts, as a person would.

Usage: pty_steps.py PROGRAM [ARGS...]. The CQL4_PTY_STEPS environment variable (removed before
the program starts) is a JSON list of [text_to_wait_for, text_to_type]: each text is typed once
the terminal has shown its wait text after what the previous step waited for. Everything the
terminal showed goes to stdout; "pty_steps.py: exited with status N" (or "killed by signal N",
or "stuck at step K") to stderr. Gives up after 60 s (the program is killed). Used by
crates/cql4-cli/tests/shell.rs.
"""
import json
import os
import pty
import select
import signal
import sys
import time

steps = json.loads(os.environ.pop("CQL4_PTY_STEPS"))
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])

shown = b""
seen_upto = 0
step = 0
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    if step < len(steps):
        wait, typed = steps[step]
        at = shown.find(wait.encode(), seen_upto)
        if at >= 0:
            seen_upto = at + len(wait.encode())
            os.write(fd, typed.encode())
            step += 1
            continue
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
else:
    os.kill(pid, signal.SIGKILL)
    sys.stderr.write(f"pty_steps.py: gave up after 60 s, stuck at step {step}\n")

_, status = os.waitpid(pid, 0)
if os.WIFSIGNALED(status):
    sys.stderr.write(f"pty_steps.py: killed by signal {os.WTERMSIG(status)}\n")
    code = 128 + os.WTERMSIG(status)
else:
    code = os.WEXITSTATUS(status)
    sys.stderr.write(f"pty_steps.py: exited with status {code}\n")
if step < len(steps):
    sys.stderr.write(f"pty_steps.py: stuck at step {step}\n")
sys.stdout.buffer.write(shown)
sys.exit(code)
