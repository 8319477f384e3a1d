"""The Alembic chain and the models describe the same schema, on SQLite and PostgreSQL."""
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from panel import PROJECT_ROOT
from panel.extensions import db


def test_autogenerate_finds_no_difference_after_upgrade(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_one_linear_chain_with_a_single_head():
    scripts = ScriptDirectory(str(PROJECT_ROOT / "migrations"))
    assert len(scripts.get_heads()) == 1
    assert len(scripts.get_bases()) == 1


def test_downgrade_to_base_and_upgrade_again(tmp_path):
    from panel import create_app

    url = "sqlite:///" + str(tmp_path / "chain.sqlite3")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        assert "sales_order" in sa.inspect(db.engine).get_table_names()
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "sales_order" in sa.inspect(db.engine).get_table_names()
        db.engine.dispose()
