"""Alembic environment: runs inside the Flask app that Flask-Migrate hands us."""
import logging

from alembic import context
from flask import current_app

from panel.models.base import UTCDateTime

log = logging.getLogger("alembic.env")
migrate_ext = current_app.extensions["migrate"]
metadata = migrate_ext.db.metadata


def render_item(type_, obj, autogen_context):
    """Write our column types as plain SQLAlchemy types, so migrations never import panel."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def skip_empty_revisions(ctx, revision, directives):
    if getattr(context.config.cmd_opts, "autogenerate", False):
        if directives[0].upgrade_ops.is_empty():
            directives[:] = []
            log.info("No changes in schema detected.")


def run_online() -> None:
    options = dict(migrate_ext.configure_args)
    options.setdefault("process_revision_directives", skip_empty_revisions)
    options.setdefault("render_item", render_item)
    with migrate_ext.db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, **options)
        with context.begin_transaction():
            context.run_migrations()


def run_offline() -> None:
    url = migrate_ext.db.engine.url.render_as_string(hide_password=False)
    context.configure(url=url, target_metadata=metadata, literal_binds=True,
                      render_as_batch=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
