"""Order Panel: a back office for online-store orders."""
from __future__ import annotations

import logging
from pathlib import Path

import pluggy
from flask import Flask

from panel import config as panel_config
from panel.db_liveness import drop_closed_connections
from panel.extensions import csrf, db, login_manager, mail, migrate
from panel.params import IdConverter
from panel.request_body import PanelRequest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
hookimpl = pluggy.HookimplMarker("panel")
"""Mark a plugin's hook implementations: ``@panel.hookimpl``."""
log = logging.getLogger("panel")


def create_app(config: dict | None = None) -> Flask:
    """Create the application: settings first, test settings over them, then the parts."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "panel" / "static"),
    )
    # Every <int:...> of a route is a database id: refuse the rest before a view sees it.
    # (Rules take their converters when they are added, so this comes before any route.)
    app.url_map.converters["int"] = IdConverter
    app.request_class = PanelRequest
    app.config.from_mapping(panel_config.from_environment(app.instance_path))
    if config:
        app.config.from_mapping(config)
    panel_config.check_production(app.config)
    if app.config["PANEL_SECRET_KEY_IS_GENERATED"] and not app.testing:
        log.warning(panel_config.DEV_SECRET_WARNING)
    _ensure_sqlite_folder(app)

    db.init_app(app)
    with app.app_context():
        drop_closed_connections(db.engine)
    migrate.init_app(
        app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True,
        compare_type=True,
    )
    mail.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)

    from panel import auth, errors, plugins, security
    from panel.admin import init_admin
    from panel.api import api, problems
    from panel.cli import register_commands
    from panel.formatting import register_filters
    from panel.i18n import init_i18n

    init_i18n(app)
    plugins.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    problems.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(api, url_prefix="/api/v1")
    csrf.exempt(api)
    init_admin(app)
    register_filters(app)
    register_commands(app)

    @app.get("/healthz")
    def healthz():
        db.session.execute(db.text("SELECT 1"))
        return {"status": "ok"}

    hops = app.config["PANEL_PROXY_HOPS"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops
        )
    return app


def _ensure_sqlite_folder(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and uri != "sqlite:///:memory:":
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
