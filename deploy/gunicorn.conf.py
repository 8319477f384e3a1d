"""gunicorn settings for Order Panel, read from the environment (deploy/systemd's
EnvironmentFile). Run: ``gunicorn --config deploy/gunicorn.conf.py wsgi:app`` from the
project folder. Every value here has a default that suits one web machine behind nginx on
the same host; the README's Deployment section lists the variables.
"""
import multiprocessing
import os


def _int(name, default):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, got {raw!r}") from None


wsgi_app = "wsgi:app"
proc_name = "order-panel"

# Where nginx (deploy/nginx/order-panel.conf, upstream order_panel) sends requests. Bind to
# loopback when nginx runs on this machine; to a private address when it runs elsewhere.
bind = [part.strip() for part in os.environ.get("PANEL_BIND", "127.0.0.1:8000").split(",")
        if part.strip()]

# Sync workers: each request holds one worker, and nginx buffers slow clients in front of
# them. The work is database-bound, so the usual 2 x cores + 1, capped.
workers = _int("PANEL_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9))
# A worker silent for this long is killed and replaced. CSV exports of the whole order list
# stream for a while; raise it if yours take longer (and nginx's proxy_read_timeout with it).
timeout = _int("PANEL_WORKER_TIMEOUT", 120)
# On stop or reload (SIGTERM/SIGHUP), running requests get this long to finish.
graceful_timeout = _int("PANEL_GRACEFUL_TIMEOUT", 30)
keepalive = 2
# Replace each worker after a while, so a slow leak never grows without bound.
max_requests = _int("PANEL_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
# Each worker builds its own app and database pool (no preload: connections are never
# shared across fork).
preload_app = False
# Heartbeat files in memory, not on a disk that may stall.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# Proxy trust. The app trusts X-Forwarded-For/-Proto/-Host/-Prefix from exactly
# PANEL_PROXY_HOPS proxies (werkzeug's ProxyFix). gunicorn reads X-Forwarded-Proto on its own
# too, from the addresses in forwarded_allow_ips: keep the two in step, so that with
# PANEL_PROXY_HOPS=0 no forwarded header counts anywhere, and otherwise only nginx's
# X-Forwarded-Proto, only from nginx's address.
forwarded_allow_ips = os.environ.get("PANEL_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
if _int("PANEL_PROXY_HOPS", 0) > 0:
    secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
else:
    secure_scheme_headers = {}

# Logs go to stdout/stderr, which systemd hands to the journal. %(h)s is the peer (nginx);
# the forwarded chain follows in quotes, then the time taken in milliseconds.
accesslog = os.environ.get("PANEL_ACCESS_LOG", "-") or None
errorlog = os.environ.get("PANEL_ERROR_LOG", "-")
loglevel = os.environ.get("PANEL_LOG_LEVEL", "info")
access_log_format = (
    '%(h)s "%({x-forwarded-for}i)s" %(u)s %(t)s "%(r)s" %(s)s %(b)s '
    '"%(f)s" "%(a)s" %(M)sms'
)

# gunicorn 25.1+ opens a control socket (for gunicornc) under $XDG_RUNTIME_DIR or
# ~/.gunicorn/ by default; the service user has no home it may write. Off unless
# PANEL_CONTROL_SOCKET names a path (e.g. /run/order-panel/gunicorn.ctl, RuntimeDirectory).
_control = os.environ.get("PANEL_CONTROL_SOCKET", "").strip()
if _control:
    control_socket = _control
else:
    control_socket_disable = True
