"""The panel as it is deployed: gunicorn (deploy/gunicorn.conf.py) behind Debian's nginx
(deploy/nginx/order-panel-locations.conf), both real processes on loopback.

nginx listens on plain http but forwards as the TLS-terminating proxy of
deploy/nginx/order-panel.conf would: X-Forwarded-Proto https, X-Forwarded-Prefix /backoffice.
Clients connect from their own loopback addresses (127.0.0.2, 127.0.0.4, ...) and nginx
connects to gunicorn from 127.0.0.3, so the address the app sees tells client from proxy.
"""
from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa

PROJECT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GUNICORN = BIN / "gunicorn"
FLASK = BIN / "flask"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(p, os.X_OK)), None)
HOST = "panel.example.test"
PUBLIC = f"https://{HOST}"
PROXY_ADDRESS = "127.0.0.3"  # nginx's side of its connections to gunicorn
SECRET = "deploy-test-secret-0123456789abcdef"
TEST_DB_URL = os.environ.get("PANEL_TEST_DATABASE_URL", "")
MISSING = [name for name, found in (("nginx", NGINX), ("gunicorn", GUNICORN.exists()))
           if not found]
needs_nginx_and_gunicorn = pytest.mark.skipif(
    bool(MISSING), reason=f"not installed: {', '.join(MISSING)} (apt-get install nginx-light)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flask_admin_static() -> str:
    import flask_admin

    return str(Path(flask_admin.__file__).parent / "static")


def local_paths(text: str) -> str:
    """The shipped nginx snippet, pointed at this checkout and this virtualenv."""
    text = text.replace("/srv/order-panel/venv/lib/python3.11/site-packages/flask_admin/static",
                        flask_admin_static())
    return text.replace("/srv/order-panel/app", str(PROJECT))


def panel_environment(database_url: str, **extra: str) -> dict:
    """A production environment for the app's processes, free of the caller's PANEL_*."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PANEL_", "MAIL_", "GUNICORN_", "FORWARDED_ALLOW"))}
    env.update({
        "PANEL_ENV": "production",
        "PANEL_SECRET_KEY": SECRET,
        "PANEL_DATABASE_URL": database_url,
        "MAIL_SUPPRESS_SEND": "true",
        "PANEL_LOGIN_MAX_FAILURES": "3",
        "PANEL_TRUSTED_HOSTS": HOST,
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    env.update(extra)
    return env


def flask_cli(env: dict, *args: str) -> str:
    done = subprocess.run([str(FLASK), "--app", "wsgi", *args], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"flask {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def deploy_database(tmp_path_factory):
    """A database migrated with `flask db upgrade`, as a deployment does it."""
    if TEST_DB_URL:
        from tests.conftest import _refuse_foreign_database

        engine = sa.create_engine(TEST_DB_URL)
        try:
            _refuse_foreign_database(engine)
            if engine.dialect.name == "postgresql":
                with engine.begin() as conn:
                    conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        finally:
            engine.dispose()
        url = TEST_DB_URL
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("deploy-db") / "panel.sqlite3")
    flask_cli(panel_environment(url), "db", "upgrade")
    return url


@pytest.fixture(scope="module")
def db_engine(deploy_database):
    engine = sa.create_engine(deploy_database)
    yield engine
    engine.dispose()


class Stack:
    """gunicorn with two workers and nginx in front of it, as child processes."""

    def __init__(self, root: Path, database_url: str, hops: int):
        self.root, self.hops = root, hops
        self.app_port, self.port = free_port(), free_port()
        self.env = panel_environment(
            database_url,
            PANEL_PROXY_HOPS=str(hops),
            PANEL_BIND=f"127.0.0.1:{self.app_port}",
            PANEL_WORKERS="2",
            PANEL_FORWARDED_ALLOW_IPS=PROXY_ADDRESS,
            PANEL_ACCESS_LOG=str(root / "gunicorn-access.log"),
        )
        self.processes: list[subprocess.Popen] = []

    def start(self) -> Stack:
        self.gunicorn_log = self.root / "gunicorn.log"
        with open(self.gunicorn_log, "wb") as log:
            self.processes.append(subprocess.Popen(
                [str(GUNICORN), "--config", str(PROJECT / "deploy" / "gunicorn.conf.py"),
                 "wsgi:app"], cwd=PROJECT, env=self.env, stdout=log, stderr=subprocess.STDOUT))
        self._start_nginx()
        self._wait_until_ready()
        return self

    def _start_nginx(self) -> None:
        snippet = (PROJECT / "deploy" / "nginx" / "order-panel-locations.conf").read_text()
        (self.root / "order-panel-locations.conf").write_text(local_paths(snippet))
        user = "user root;" if os.geteuid() == 0 else ""
        self.nginx_error_log = self.root / "nginx-error.log"
        (self.root / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
pid {self.root}/nginx.pid;
error_log {self.nginx_error_log} info;
events {{ worker_connections 128; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {self.root}/nginx-access.log;
    client_body_temp_path {self.root}/body;
    proxy_temp_path {self.root}/proxy;
    upstream order_panel {{ server 127.0.0.1:{self.app_port}; }}
    server {{
        listen 127.0.0.1:{self.port};
        server_name {HOST};
        # Connect to gunicorn from an address of nginx's own, apart from the clients'.
        proxy_bind {PROXY_ADDRESS};
        include {self.root}/order-panel-locations.conf;
    }}
}}
""")
        self.processes.append(subprocess.Popen(
            [NGINX, "-p", str(self.root), "-c", str(self.root / "nginx.conf"),
             "-e", str(self.nginx_error_log), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def logs(self) -> str:
        parts = []
        for path in (self.gunicorn_log, self.nginx_error_log):
            if path.exists():
                parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(parts)

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{process.args[0]} exited\n{self.logs()}")
            booted = self.gunicorn_log.read_text().count("Booting worker with pid")
            if booted >= 2:
                try:
                    status = Client(self).request("GET", "/backoffice/healthz").status
                except OSError:
                    status = None
                if status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"the stack did not come up\n{self.logs()}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                # nginx: SIGQUIT is its graceful stop; gunicorn: SIGTERM.
                process.send_signal(signal.SIGQUIT if process.args[0] == NGINX
                                    else signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def start_stack(tmp_path_factory, database_url: str, hops: int):
    stack = Stack(tmp_path_factory.mktemp(f"stack-hops{hops}"), database_url, hops)
    try:
        stack.start()
    except BaseException:
        stack.stop()
        raise
    return stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory, deploy_database):
    """The deployment: PANEL_PROXY_HOPS=1, nginx the one proxy."""
    stack = start_stack(tmp_path_factory, deploy_database, hops=1)
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def stack_without_trust(tmp_path_factory, deploy_database):
    """The same nginx in front of an app told to trust no proxy (PANEL_PROXY_HOPS=0)."""
    stack = start_stack(tmp_path_factory, deploy_database, hops=0)
    yield stack
    stack.stop()


class Response:
    def __init__(self, raw: http.client.HTTPResponse):
        self.status = raw.status
        self.headers = raw.headers
        self.body = raw.read()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


class Client:
    """A browser's part of HTTP: a source address, the public Host, cookies, Referer.

    Cookies are kept by hand because the test talks plain http to nginx while the panel,
    believing itself on https, marks them Secure (which a cookie jar would then withhold).
    """

    def __init__(self, stack: Stack, source: str = "127.0.0.2"):
        self.stack, self.source = stack, source
        self.cookies: dict[str, str] = {}
        self.set_cookies: list[str] = []

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.stack.port, timeout=30,
                                          source_address=(self.source, 0))
        sent = {"Host": HOST, "User-Agent": "deploy-test"}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        sent.update(headers or {})
        try:
            conn.request(method, path, body=body, headers=sent)
            response = Response(conn.getresponse())
        finally:
            conn.close()
        for line in response.headers.get_all("Set-Cookie") or []:
            self.set_cookies.append(line)
            name, _, rest = line.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response

    def get(self, path: str, **headers) -> Response:
        return self.request("GET", path, headers=headers)

    def post_form(self, path: str, fields: dict, referer: str | None = None,
                  **headers) -> Response:
        from urllib.parse import urlencode

        sent = {"Content-Type": "application/x-www-form-urlencoded",
                "Referer": referer or PUBLIC + path, **headers}
        return self.request("POST", path, urlencode(fields).encode(), sent)

    def login(self, email: str, password: str, **headers) -> Response:
        page = self.get("/backoffice/login")
        assert page.status == 200, page.text
        return self.post_form("/backoffice/login", {
            "email": email, "password": password, "csrf_token": csrf_token(page.text)},
            **headers)


class PageParser(HTMLParser):
    """Every URL a page points at (href, src, action) and each form's fields."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "src", "action"):
            if attrs.get(name) is not None:
                self.urls.append((tag, name, attrs[name]))
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "id": attrs.get("id"),
                               "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)
