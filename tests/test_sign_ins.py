"""Login throttling: ten failures for one account or one address in fifteen minutes, then a
clear refusal for a while; every login, failure and refusal recorded and logged."""
from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from panel.extensions import db
from panel.models import LoginAttempt
from panel.models.base import utcnow
from tests.conftest import PASSWORD

REFUSED = "Too many failed logins for this account or from this address."


def attempt(client, email, password, address="203.0.113.5"):
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": client.csrf_token()},
                       environ_base={"REMOTE_ADDR": address})


def outcomes(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [tuple(r) for r in db.session.execute(
            sa.select(LoginAttempt.email, LoginAttempt.address, LoginAttempt.outcome)
            .order_by(LoginAttempt.id))]


def test_ten_failures_for_an_account_refuse_even_the_right_password(app, client, accounts):
    for n in range(10):
        assert attempt(client, accounts["agent"], f"wrong {n}").status_code == 400

    response = attempt(client, accounts["agent"], PASSWORD)

    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert REFUSED in page and "Try again in 15 minutes." in page
    assert client.get("/sales/orders/").status_code == 302  # not logged in
    assert outcomes(app)[-1] == ("agent@example.org", "203.0.113.5", "refused")
    assert [o for _, _, o in outcomes(app)].count("failed") == 10


def test_the_limit_is_per_account_and_per_address(app, client, accounts):
    for n in range(10):  # one address guessing at many accounts
        attempt(client, f"nobody{n}@example.org", "guess", address="198.51.100.7")

    assert attempt(client, accounts["viewer"], PASSWORD,
                   address="198.51.100.7").status_code == 429
    # the same account from another address is not locked out by someone else's guesses
    assert attempt(client, accounts["viewer"], PASSWORD,
                   address="192.0.2.1").status_code == 302


def test_refusals_do_not_extend_the_lock_and_it_ends_with_the_window(app, client, accounts):
    for n in range(10):
        attempt(client, accounts["agent"], f"wrong {n}")
    for _ in range(5):
        assert attempt(client, accounts["agent"], PASSWORD).status_code == 429
    with app.app_context():  # sixteen minutes pass
        db.session.execute(sa.update(LoginAttempt).values(
            created_at=utcnow() - timedelta(minutes=16)))
        db.session.commit()

    assert attempt(client, accounts["agent"], PASSWORD).status_code == 302


def test_the_wait_counts_down_from_the_oldest_failure(app, client, accounts):
    for n in range(10):
        attempt(client, accounts["agent"], f"wrong {n}")
    with app.app_context():
        oldest = db.session.scalar(sa.select(sa.func.min(LoginAttempt.id)))
        db.session.execute(sa.update(LoginAttempt).where(LoginAttempt.id == oldest).values(
            created_at=utcnow() - timedelta(minutes=11, seconds=30)))
        db.session.commit()

    page = attempt(client, accounts["agent"], PASSWORD).get_data(as_text=True)

    assert "Try again in 4 minutes." in page


def test_logins_and_failures_are_recorded_logged_and_listed_for_admins(
        app, client, accounts, as_role, caplog):
    with caplog.at_level(logging.INFO, logger="panel.sign_ins"):
        attempt(client, accounts["agent"], "wrong")
        attempt(client, accounts["agent"], PASSWORD)
    assert outcomes(app) == [("agent@example.org", "203.0.113.5", "failed"),
                             ("agent@example.org", "203.0.113.5", "signed in")]
    messages = [r.getMessage() for r in caplog.records]
    assert "login failed: email='agent@example.org' address=203.0.113.5" in messages
    assert "login signed in: email='agent@example.org' address=203.0.113.5" in messages

    admin = as_role("admin")
    page = admin.get("/administration/sign-ins/").get_data(as_text=True)
    assert page.count("agent@example.org") >= 2 and "failed" in page and "203.0.113.5" in page
    assert as_role("agent").get("/administration/sign-ins/").status_code == 403


def test_limits_come_from_the_settings(app, client, accounts):
    app.config.update(PANEL_LOGIN_MAX_FAILURES=2, PANEL_LOGIN_WINDOW_MINUTES=1)
    attempt(client, accounts["agent"], "wrong 1")
    attempt(client, accounts["agent"], "wrong 2")
    page = attempt(client, accounts["agent"], PASSWORD).get_data(as_text=True)
    assert "Try again in 1 minute." in page


def test_the_limit_holds_exactly_for_many_attempts_at_once(app, accounts):
    """Forty wrong passwords for one account at the same moment, from forty addresses, each
    request on its own connection (as on several workers or machines): exactly ten are
    checked, thirty refused. (Each thread is a separate client and database connection; on
    PostgreSQL this is what several machines sharing the database do.)"""
    import threading

    from tests.conftest import PanelClient

    clients = [PanelClient(app.test_client()) for _ in range(40)]
    for c in clients:
        c.csrf_token()
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def guess(n: int, c: PanelClient) -> None:
        start.wait()
        response = attempt(c, accounts["agent"], f"wrong {n}", address=f"198.51.100.{n + 1}")
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=(n, c)) for n, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(statuses) == [400] * 10 + [429] * 30
    recorded = [o for _, _, o in outcomes(app)]
    assert recorded.count("failed") == 10 and recorded.count("refused") == 30
    assert "checking" not in recorded
