"""`make demo`'s command, `flask demo run`, driven as a user would: started as a process on
free ports against a throwaway SQLite database; a login over HTTP, a mail sent from an
order's page and read on Caught mail, a timeout fired by the worker, one Ctrl+C to stop it
all. Also: a child that dies stops the others, and a port in use is named."""
from __future__ import annotations

import http.cookiejar
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from panel import PROJECT_ROOT
from panel.models import EventTimeout, Order, OrderItem, OutboundEmail, TransitionLog
from panel.models.base import utcnow
from tests.conftest import csrf_token_in
from tests.smtp import free_port

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                reason="finds the demo's children in /proc (Linux)")


class Demo:
    """`flask demo run` as a child process; its output read line by line."""

    def __init__(self, tmp_path: Path, port: int | None = None, orders: int = 30):
        self.port, self.smtp_port = port or free_port(), free_port()
        self.database_url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
        self.mail_dir = tmp_path / "caught"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PANEL_", "MAIL_", "FLASK_"))}
        env.update(PANEL_DATABASE_URL=self.database_url, PYTHONUNBUFFERED="1",
                   PYTHONPATH=str(PROJECT_ROOT))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "demo", "run",
             "--port", str(self.port), "--smtp-port", str(self.smtp_port),
             "--orders", str(orders), "--worker-interval", "1",
             "--mail-dir", str(self.mail_dir)],
            cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.url = f"http://127.0.0.1:{self.port}"

    def _read(self):
        with self.process.stdout:
            for line in self.process.stdout:
                self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 180) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    break
                continue
            self.output.append(line)
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"no line matched {pattern!r}:\n" + "\n".join(self.output))

    def rest(self, timeout: float = 60) -> str:
        """Wait for the process to end; all the output it still gave."""
        self.process.wait(timeout)
        self.reader.join(10)
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return "\n".join(self.output)

    def children(self) -> dict[str, int]:
        """{"web" | "worker" | "mail": pid} of the supervisor's running children."""
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) != self.process.pid:
                continue
            for name, mark in (("web", " run --host"), ("worker", "oms worker"),
                               ("mail", "panel.mail_catcher")):
                if mark in command:
                    found[name] = int(entry.name)
        return found

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.reader.join(10)


@pytest.fixture
def demo(tmp_path):
    started = Demo(tmp_path)
    yield started
    started.stop()


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class Browser:
    """Cookies, form posts with the page's CSRF token, no JavaScript."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, str]:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.status, response.read().decode()

    def post(self, path: str, data: dict) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode()
        with self.opener.open(self.base + path, data=body, timeout=60) as response:
            return response.status, response.geturl(), response.read().decode()


def test_make_demo_runs_the_panel_the_worker_and_a_mail_catcher(demo):
    password = demo.wait_for(r"Demo login: demo@example\.org / (\S+)").group(1)
    demo.wait_for(r"Press Ctrl\+C to stop all three")
    assert set(demo.children()) == {"web", "worker", "mail"}
    engine = sa.create_engine(demo.database_url)

    browser = Browser(demo.url)
    _, login_page = browser.get("/login")
    status, landed, _ = browser.post("/login", {
        "email": "demo@example.org", "password": password,
        "csrf_token": csrf_token_in(login_page)})
    assert status == 200 and "/login" not in landed

    # "Send email" on an order's page ends "sent": the catcher took it.
    with engine.connect() as conn:
        order_id, email = conn.execute(sa.select(Order.id, Order.email)
                                       .order_by(Order.id).limit(1)).one()
    _, form = browser.get(f"/sales/messages/{order_id}/email")
    status, landed, page = browser.post(f"/sales/messages/{order_id}/email", {
        "csrf_token": csrf_token_in(form), "action": "send", "template": "", "document": "",
        "subject": "Issue 18 <demo> mail", "body": "Hello,\n<b>your parcel</b> is on its way."})
    assert status == 200 and "/emails/" in landed, page
    assert f"Email sent to {email}" in page
    with engine.connect() as conn:
        assert conn.execute(sa.select(OutboundEmail.status)).scalars().all() == ["sent"]

    # ... and reads there as the customer received it, escaped.
    _, listing = browser.get("/mail-catcher/")
    assert "Issue 18 &lt;demo&gt; mail" in listing and email in listing
    mail_id = re.search(r'href="/mail-catcher/([0-9]{20}-[0-9a-f]{8})"', listing).group(1)
    _, page = browser.get(f"/mail-catcher/{mail_id}")
    assert "&lt;b&gt;your parcel&lt;/b&gt; is on its way." in page
    assert f"Delivered-To</th><td style=\"word-break: break-all\">{email}" in page

    # A timeout fires without a second terminal: an item due to close now is closed by the
    # demo's worker within a few of its rounds.
    with engine.begin() as conn:
        item_id = conn.execute(sa.select(OrderItem.id).where(OrderItem.order_id == order_id)
                               .order_by(OrderItem.id).limit(1)).scalar_one()
        conn.execute(sa.update(OrderItem).where(OrderItem.id == item_id)
                     .values(state_name="delivered", state_entered_at=utcnow()))
        conn.execute(sa.delete(EventTimeout).where(EventTimeout.item_id == item_id))
        conn.execute(sa.insert(EventTimeout).values(
            item_id=item_id, order_id=order_id, state_name="delivered", event="close",
            due_at=utcnow() - timedelta(seconds=1)))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            state = conn.execute(sa.select(OrderItem.state_name)
                                 .where(OrderItem.id == item_id)).scalar_one()
        if state == "closed":
            break
        time.sleep(0.5)
    assert state == "closed"
    with engine.connect() as conn:
        assert set(conn.execute(sa.select(TransitionLog.actor).where(
            TransitionLog.item_id == item_id, TransitionLog.event == "close")).scalars()) \
            == {"timeout"}
    demo.wait_for(r"worker \| check-timeouts: [1-9]\d* item\(s\) moved")
    engine.dispose()

    # One Ctrl+C stops all three.
    children = demo.children()
    demo.process.send_signal(signal.SIGINT)
    output = demo.rest()
    assert demo.process.returncode == 0, output
    assert "Stopped." in output
    assert not listening(demo.port) and not listening(demo.smtp_port)
    assert not any(Path(f"/proc/{pid}").exists() for pid in children.values())


def test_a_child_that_dies_is_reported_and_the_others_are_stopped(demo):
    demo.wait_for(r"Press Ctrl\+C to stop all three")
    children = demo.children()
    os.kill(children["worker"], signal.SIGKILL)
    demo.wait_for(r"The worker stopped by itself: it was killed by SIGKILL\. "
                  r"Stopping the others\.", timeout=30)
    demo.rest()
    assert demo.process.returncode == 1
    assert not listening(demo.port) and not listening(demo.smtp_port)
    assert not any(Path(f"/proc/{pid}").exists() for pid in children.values())


def test_a_port_in_use_is_named_with_what_to_do(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        demo = Demo(tmp_path, port=port)
        output = demo.rest(timeout=120)
    assert demo.process.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in output
    assert f"make demo PORT={port + 1}" in output
    assert not (tmp_path / "demo.sqlite3").exists()  # refused before anything was done
