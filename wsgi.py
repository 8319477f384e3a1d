"""The WSGI entry point: ``gunicorn wsgi:app`` (proxy settings come from PANEL_PROXY_HOPS)."""
from panel import create_app

app = create_app()
