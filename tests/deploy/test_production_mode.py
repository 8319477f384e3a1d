"""PANEL_ENV=production: the app refuses to start with development-only settings."""
from __future__ import annotations

import pytest

from panel import create_app

SECRET = "a-production-secret-of-some-length-0123456789"


@pytest.fixture
def production(monkeypatch, tmp_path):
    """The environment of a production start on a writable SQLite file; tests change parts."""
    for name in ("PANEL_SECRET_KEY", "PANEL_SECURE_COOKIES", "PANEL_DATABASE_URL",
                 "PANEL_TRUSTED_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PANEL_ENV", "production")
    monkeypatch.setenv("PANEL_SECRET_KEY", SECRET)
    monkeypatch.setenv("PANEL_TRUSTED_HOSTS", "panel.example.com")
    monkeypatch.setenv("PANEL_DATABASE_URL", f"sqlite:///{tmp_path / 'data' / 'panel.sqlite3'}")
    return monkeypatch


def test_production_starts_with_a_secret_and_a_writable_database(production, tmp_path):
    app = create_app()
    assert app.config["PANEL_ENV"] == "production"
    assert app.config["SECRET_KEY"] == SECRET
    assert app.config["TRUSTED_HOSTS"] == ["panel.example.com"]
    # The folder of the SQLite file is made, and nothing else is left behind by the check.
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == []


def test_production_refuses_the_generated_development_key(production):
    production.delenv("PANEL_SECRET_KEY")
    with pytest.raises(RuntimeError) as raised:
        create_app()
    message = str(raised.value)
    assert "PANEL_ENV=production" in message
    assert "Set PANEL_SECRET_KEY" in message
    assert "PANEL_DATABASE_URL" not in message  # the database is fine: only the key is named


@pytest.mark.parametrize("value", [None, "", " , "])
def test_production_refuses_to_answer_any_host(production, value):
    if value is None:
        production.delenv("PANEL_TRUSTED_HOSTS")
    else:
        production.setenv("PANEL_TRUSTED_HOSTS", value)
    with pytest.raises(RuntimeError) as raised:
        create_app()
    message = str(raised.value)
    assert "PANEL_ENV=production" in message
    assert "Set PANEL_TRUSTED_HOSTS to the host name(s) the panel is served under" in message
    assert "PANEL_SECRET_KEY" not in message and "PANEL_DATABASE_URL" not in message


def test_production_refuses_an_empty_secret(production):
    production.setenv("PANEL_SECRET_KEY", "")
    with pytest.raises(RuntimeError, match="Set PANEL_SECRET_KEY"):
        create_app()


@pytest.mark.parametrize("path", [
    # Tests run as root, whom file modes do not stop: /proc takes no new directories or
    # files from anyone, and its files cannot be opened for writing.
    "/proc/order-panel/panel.sqlite3",
    "/proc/version",
])
def test_production_refuses_an_sqlite_file_it_cannot_write(production, path):
    production.setenv("PANEL_DATABASE_URL", f"sqlite:///{path}")
    with pytest.raises(RuntimeError) as raised:
        create_app()
    message = str(raised.value)
    assert f"the SQLite database '{path}' cannot be written" in message
    assert "Set PANEL_DATABASE_URL to a PostgreSQL database" in message
    assert "PANEL_SECRET_KEY" not in message


def test_production_names_every_problem_at_once(production):
    production.delenv("PANEL_SECRET_KEY")
    production.delenv("PANEL_TRUSTED_HOSTS")
    production.setenv("PANEL_DATABASE_URL", "sqlite:////proc/order-panel/panel.sqlite3")
    with pytest.raises(RuntimeError) as raised:
        create_app()
    assert "Set PANEL_SECRET_KEY" in str(raised.value)
    assert "Set PANEL_TRUSTED_HOSTS" in str(raised.value)
    assert "Set PANEL_DATABASE_URL" in str(raised.value)


def test_development_starts_without_a_secret_or_trusted_hosts(production):
    production.setenv("PANEL_ENV", "development")
    production.delenv("PANEL_SECRET_KEY")
    production.delenv("PANEL_TRUSTED_HOSTS")
    app = create_app()
    assert app.config["PANEL_SECRET_KEY_IS_GENERATED"] is True
    assert app.config["TRUSTED_HOSTS"] is None
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_a_misspelt_environment_is_refused(production):
    production.setenv("PANEL_ENV", "prod")
    with pytest.raises(RuntimeError, match="PANEL_ENV must be 'development' or 'production'"):
        create_app()


def test_production_cookies_are_secure_unless_turned_off(production):
    assert create_app().config["SESSION_COOKIE_SECURE"] is True
    production.setenv("PANEL_SECURE_COOKIES", "false")
    assert create_app().config["SESSION_COOKIE_SECURE"] is False
