"""``flask demo run``: the web app, the worker and the mail catcher, started and stopped as
one.

Each runs as a child process of its own (its output in ours, each line marked with its
name), in a session of its own, so that Ctrl+C reaches only this supervisor, which then
stops them in order: the web app, the worker, and last the catcher, which takes the last
mails. SIGTERM and SIGHUP stop them the same way. A child that ends by itself is reported,
with its exit code, and the others are stopped; this process then exits with 1. On Linux
each child also ends with the supervisor if the supervisor is killed outright
(PR_SET_PDEATHSIG), so nothing is left running on the ports.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STOP_TIMEOUT = 10.0  # seconds a child has to stop before it is killed
START_TIMEOUT = 90.0

# Run first in each child (python -c): ask Linux to send SIGTERM when the supervisor's
# thread ends, make sure the supervisor is still there, then become the real program.
_LIFELINE = """\
import ctypes, os, signal, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
except Exception:
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit("the demo's supervisor is gone")
os.execv(sys.executable, [sys.executable] + sys.argv[2:])
"""


class PortTaken(RuntimeError):
    pass


def check_port_free(host: str, port: int, what: str, option: str, make_variable: str) -> None:
    """Raise PortTaken, saying what to do, when something already listens on host:port."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortTaken(
                f"Port {port} on {host} is already in use ({exc.strerror or exc}), so the "
                f"{what} cannot listen there. Is another demo or panel running? Stop it, or "
                f"choose another port: make demo {make_variable}={port + 1}, or "
                f"flask demo run {option} {port + 1}.") from None


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own URL
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    reader: threading.Thread | None = None
    last_lines: list[str] = field(default_factory=list)


class Supervisor:
    """Start children, pass their output on, stop them all together."""

    def __init__(self, children: list[Child], env: dict, cwd: str, out=None):
        self.children, self.env, self.cwd = children, env, cwd
        self.out = out or sys.stdout
        self.lock = threading.Lock()
        self.stop_requested: str | None = None
        self.width = max(len(c.name) for c in children)

    def say(self, text: str) -> None:
        with self.lock:
            self.out.write(text + "\n")
            self.out.flush()

    def _pass_on(self, child: Child) -> None:
        for raw in child.process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            child.last_lines = (child.last_lines + [line])[-5:]
            self.say(f"{child.name:<{self.width}} | {line}")

    def _request_stop(self, signum, frame) -> None:
        if self.stop_requested is None:
            self.stop_requested = signal.Signals(signum).name

    def start(self) -> None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._request_stop)
        for child in self.children:
            argv = child.argv
            if sys.platform.startswith("linux"):
                argv = [sys.executable, "-c", _LIFELINE, str(os.getpid()), *argv[1:]] \
                    if argv[0] == sys.executable else argv
            child.process = subprocess.Popen(
                argv, env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
            child.reader = threading.Thread(target=self._pass_on, args=(child,), daemon=True,
                                            name=f"demo-{child.name}")
            child.reader.start()

    def ended(self) -> Child | None:
        """A child that has ended, if any."""
        return next((c for c in self.children if c.process.poll() is not None), None)

    def wait_until(self, ready, timeout: float = START_TIMEOUT) -> Child | None:
        """Wait until ``ready()``; return a child that ended meanwhile (None: all ready).
        Raises TimeoutError after ``timeout``, or InterruptedError on a stop signal."""
        deadline = time.monotonic() + timeout
        while not ready():
            ended = self.ended()
            if ended is not None:
                return ended
            if self.stop_requested:
                raise InterruptedError(self.stop_requested)
            if time.monotonic() > deadline:
                raise TimeoutError
            time.sleep(0.2)
        return None

    def supervise(self) -> Child | None:
        """Run until a stop signal (None) or until a child ends by itself (that child)."""
        while not self.stop_requested:
            ended = self.ended()
            if ended is not None:
                return ended
            time.sleep(0.2)
        return None

    def report(self, child: Child) -> None:
        code = child.process.returncode
        how = (f"was killed by {signal.Signals(-code).name}" if code < 0
               else f"exited with code {code}")
        self.say(f"The {child.name} stopped by itself: it {how}. Stopping the others.")

    def stop(self) -> None:
        """Stop every child still running, in order; kill those that take too long."""
        for child in self.children:
            if child.process and child.process.poll() is None:
                try:
                    child.process.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    child.process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.say(f"The {child.name} did not stop within {STOP_TIMEOUT:.0f} s: "
                             "killing it.")
                    child.process.kill()
                    child.process.wait()
        for child in self.children:
            if child.reader:
                child.reader.join(5)
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
