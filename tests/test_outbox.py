"""The mail outbox through an outage, with any number of senders: each mail is tried once
per due period and delivered once; tries go on at a longer interval after the quick ones and
end, visibly, only after a period; Administration > Outbox lists and retries them.

A real SMTP server on 127.0.0.1 (aiosmtpd) throughout; the senders are real concurrent
transactions (threads with their own connections, and two `mail send-outbox` processes).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from panel.config import from_environment
from panel.extensions import db
from panel.models import OutboundEmail, User
from panel.models.base import utcnow
from panel.services import outbox
from tests.smtp import SmtpServer, free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAILS = 20


@pytest.fixture
def app_config():
    # Nothing listens on this port until a test starts a server there.
    return {"MAIL_SUPPRESS_SEND": False, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": free_port(),
            "MAIL_TIMEOUT": 5, "MAIL_DEFAULT_SENDER": "orders@shop.example"}


@pytest.fixture
def server(app):
    """The shop's SMTP server on the app's mail port; started by the test that needs it."""
    smtp = SmtpServer(app.config["MAIL_PORT"])
    yield smtp
    smtp.stop()


@pytest.fixture
def order_id(post_order):
    return post_order().json["id"]


def queue(app, order_id, count: int = MAILS, prefix: str = "Mail") -> list[int]:
    """Write ``count`` mails to the outbox without trying them (as a command's mails wait
    for the sender), subjects numbered from 1 (one mail: the prefix alone)."""
    with app.app_context():
        user = db.session.scalar(sa.select(User)) or User(
            email="writer@example.org", name="Writer", role="agent", active=True,
            password_hash="x")
        subjects = [f"{prefix} {n}" for n in range(1, count + 1)] if count > 1 else [prefix]
        ids = [outbox.queue_email(order_id, subject, "Body", template=None, user=user).id
               for subject in subjects]
    return ids


def mails(app) -> list[OutboundEmail]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(OutboundEmail).order_by(OutboundEmail.id)))
        db.session.expunge_all()
    return rows


def senders_at_once(app, count: int = 2, now=None) -> list[outbox.SenderReport]:
    """``count`` senders, each in its own thread, transaction and connection, let go at the
    same moment; their reports."""
    start = threading.Barrier(count)
    reports: list = [None] * count
    errors: list = []

    def run(index: int) -> None:
        with app.app_context():
            try:
                start.wait(timeout=30)
                reports[index] = outbox.send_outbox(now=now)
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    return reports


def total(reports, field: str) -> int:
    return sum(getattr(report, field) for report in reports)


# --- two senders through an outage ----------------------------------------------------------

def test_two_senders_in_an_outage_try_each_mail_once_per_due_period_then_deliver_it_once(
        app, order_id, server):
    queue(app, order_id)
    server.inbox.refusing, server.inbox.delay = True, 0.02  # up, but failing every mail
    server.start()
    t0 = utcnow()

    first = senders_at_once(app, now=t0)
    assert Counter(server.inbox.tries) == {f"Mail {n}": 1 for n in range(1, MAILS + 1)}
    assert total(first, "failed") == MAILS and total(first, "sent") == 0
    assert total(first, "left") == MAILS  # each left the other's
    rows = mails(app)
    assert {(m.status, m.attempts) for m in rows} == {("failed", 1)}
    assert {m.next_attempt_at - m.last_attempt_at for m in rows} == {timedelta(minutes=1)}

    early = senders_at_once(app, now=t0 + timedelta(seconds=59))
    assert len(server.inbox.tries) == MAILS  # not due yet: nobody tried
    assert total(early, "failed") == total(early, "left") == 0

    second = senders_at_once(app, now=t0 + timedelta(minutes=1))
    assert Counter(server.inbox.tries) == {f"Mail {n}": 2 for n in range(1, MAILS + 1)}
    assert total(second, "failed") == MAILS
    assert {(m.status, m.attempts) for m in mails(app)} == {("failed", 2)}

    server.inbox.refusing = False  # the server is well again
    back = senders_at_once(app, now=t0 + timedelta(minutes=3))
    assert sorted(m["subject"] for m in server.inbox.messages) == sorted(
        f"Mail {n}" for n in range(1, MAILS + 1))  # every mail once
    assert total(back, "sent") == len(server.inbox.messages) == MAILS
    assert total(back, "failed") == 0
    assert {(m.status, m.attempts) for m in mails(app)} == {("sent", 3)}

    after = senders_at_once(app, now=t0 + timedelta(days=1))
    assert total(after, "sent") == 0 and len(server.inbox.messages) == MAILS


def test_two_senders_with_the_server_down_record_one_try_each(app, order_id):
    queue(app, order_id)  # nothing listens on the mail port: connection refused
    reports = senders_at_once(app, count=3)
    assert total(reports, "failed") == MAILS and total(reports, "sent") == 0
    rows = mails(app)
    assert {m.attempts for m in rows} == {1}
    assert all(m.last_error.startswith("ConnectionRefusedError") for m in rows)


def run_send_outbox(database_url: str, port: int) -> subprocess.Popen:
    env = dict(os.environ, PANEL_DATABASE_URL=database_url, PANEL_SECRET_KEY="test",
               MAIL_SERVER="127.0.0.1", MAIL_PORT=str(port), MAIL_SUPPRESS_SEND="0",
               MAIL_DEFAULT_SENDER="orders@shop.example")
    env.pop("PANEL_PLUGINS", None)
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "mail",
                             "send-outbox"], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def outputs(processes) -> list[str]:
    lines = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        lines.append(out.strip())
    return lines


def test_two_send_outbox_commands_at_once_each_report_what_they_sent_themselves(
        app, database_url, order_id, server):
    """As the README's deployment runs it: the worker and the mail timer both send."""
    queue(app, order_id, count=40)
    server.inbox.refusing, server.inbox.delay = True, 0.05
    server.start()
    lines = outputs([run_send_outbox(database_url, server.port) for _ in range(2)])
    assert Counter(Counter(server.inbox.tries).values()) == {1: 40}, lines
    failed = [int(re.search(r"(\d+) failed", line).group(1)) for line in lines]
    assert sum(failed) == 40, lines

    server.inbox.refusing = False
    with app.app_context():  # the next try has come (a minute on, without waiting for it)
        db.session.execute(sa.update(OutboundEmail).values(next_attempt_at=utcnow()))
        db.session.commit()
    lines = outputs([run_send_outbox(database_url, server.port) for _ in range(2)])
    sent = [int(re.search(r"(\d+) sent", line).group(1)) for line in lines]
    assert sum(sent) == len(server.inbox.messages) == 40, lines
    assert len({m["subject"] for m in server.inbox.messages}) == 40
    assert {(m.status, m.attempts) for m in mails(app)} == {("sent", 2)}


# --- the schedule: quick tries, then the interval, then undeliverable -------------------------

def tries_until_done(app, message_id, start, limit=200):
    """Play the clock forward from try to try; the waits between them and the last row."""
    now, waits = start, []
    with app.app_context():
        for _ in range(limit):
            delivery = outbox.deliver(message_id, now=now)
            message = delivery.message
            if message.status != "failed":
                return waits, message
            waits.append(message.next_attempt_at - now)
            now = message.next_attempt_at
    raise AssertionError("the tries never ended")


def test_an_outage_longer_than_the_quick_tries_is_delivered_when_the_server_returns(
        app, order_id, server):
    [message_id] = queue(app, order_id, count=1, prefix="After the outage")
    now = utcnow()
    waits = []
    with app.app_context():
        for _ in range(8):  # 5 quick tries (15 minutes), then three hours of an outage
            message = outbox.deliver(message_id, now=now).message
            waits.append(message.next_attempt_at - now)
            now = message.next_attempt_at
        assert message.status == "failed"
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8)] + [timedelta(hours=1)] * 4

    server.start()
    with app.app_context():
        assert outbox.send_outbox(now=now - timedelta(seconds=1)).sent == 0  # not due yet
        report = outbox.send_outbox(now=now)
        again = outbox.send_outbox(now=now + timedelta(days=1))
    assert (report.sent, again.sent) == (1, 0)
    assert [m["subject"] for m in server.inbox.messages] == ["After the outage"]
    [row] = mails(app)
    assert (row.status, row.attempts, row.next_attempt_at) == ("sent", 9, None)


@pytest.fixture
def short_period(app):
    app.config.update(PANEL_MAIL_RETRY_INTERVAL=timedelta(hours=2),
                      PANEL_MAIL_GIVE_UP_AFTER=timedelta(hours=5))


def test_tries_end_after_the_period_the_last_on_its_end_and_the_mail_is_undeliverable(
        app, order_id, short_period, as_role):
    [message_id] = queue(app, order_id, count=1, prefix="Lost in the outage")
    start = utcnow()
    waits, message = tries_until_done(app, message_id, start)
    # 1 + 2 + 4 + 8 minutes, then every 2 hours, the last try on the period's end (5 hours)
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8)] + [
        timedelta(hours=2), timedelta(hours=2), timedelta(minutes=45)]
    assert (message.status, message.attempts, message.next_attempt_at) == (
        "undeliverable", 8, None)
    assert message.give_up_at == start + timedelta(hours=5) == message.last_attempt_at
    with app.app_context():
        assert outbox.send_outbox(now=start + timedelta(days=30)).failed == 0

    agent = as_role("agent")
    page = agent.get(f"/sales/orders/{order_id}").get_data(as_text=True)
    assert re.search(r'id="unsent-undeliverable">1 undeliverable, no more automatic tries',
                     page)
    copy = agent.get(f"/sales/messages/{order_id}/emails/{message_id}").get_data(as_text=True)
    assert 'id="email-status">undeliverable<' in copy
    assert "no more automatic tries. Resend to try again." in copy


def test_resend_of_an_undeliverable_mail_sends_it_and_starts_a_new_period(
        app, order_id, short_period, as_role, server):
    [message_id] = queue(app, order_id, count=1, prefix="Sent at last")
    tries_until_done(app, message_id, utcnow() - timedelta(days=1))
    server.start()
    agent = as_role("agent")
    response = agent.post_form(f"/sales/messages/{order_id}/emails/{message_id}/resend", {})
    page = agent.get(response.headers["Location"]).get_data(as_text=True)
    assert "Email sent to anna@example.com." in page
    assert [m["subject"] for m in server.inbox.messages] == ["Sent at last"]
    [row] = mails(app)
    assert (row.status, row.attempts) == ("sent", 9)


# --- Resend while a sender holds the mail ------------------------------------------------------

def test_resend_during_a_slow_delivery_says_so_and_the_mail_goes_out_once(
        app, order_id, server, as_role):
    [message_id] = queue(app, order_id, count=1, prefix="Slow")
    server.inbox.delay = 3.0
    server.start()
    sender = threading.Thread(target=senders_at_once, args=(app, 1))
    sender.start()
    deadline = time.monotonic() + 30
    while not server.inbox.tries and time.monotonic() < deadline:
        time.sleep(0.01)  # until the sender is talking to the server, the mail locked
    assert server.inbox.tries == ["Slow"]
    agent = as_role("agent")
    response = agent.post_form(f"/sales/messages/{order_id}/emails/{message_id}/resend", {})
    assert response.status_code == 302
    page = agent.get(response.headers["Location"]).get_data(as_text=True)
    sender.join(timeout=60)
    if db_is_postgres(app):  # the row lock is skipped: the sender has it
        assert "That message is being sent right now by the outbox" in page
    else:  # SQLite: the resend waits for the sender's write to end, then finds it sent
        assert "That message has already been sent." in page
    assert [m["subject"] for m in server.inbox.messages] == ["Slow"]
    [row] = mails(app)
    assert (row.status, row.attempts) == ("sent", 1)


def db_is_postgres(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


# --- Administration > Outbox -------------------------------------------------------------------

def outbox_page(client, query: str = "") -> tuple[int, str]:
    response = client.get(f"/administration/outbox/{query}")
    return response.status_code, re.sub(r"\s+", " ", response.get_data(as_text=True))


def rows_of(page: str) -> list[tuple[str, str]]:
    return re.findall(r'data-email-id="(\d+)" data-status="(\w+)"', page)


def test_outbox_lists_every_mail_with_status_tries_error_and_next_try(
        app, order_id, as_role, short_period, server):
    failed, gave_up, sent = queue(app, order_id, count=3, prefix="<b>Hi</b>")
    with app.app_context():
        outbox.deliver(failed)
    tries_until_done(app, gave_up, utcnow() - timedelta(days=1))
    server.start()
    with app.app_context():
        outbox.deliver(sent)
    status, page = outbox_page(as_role("viewer"))  # every role may read it
    assert status == 200
    assert rows_of(page) == [(str(sent), "sent"), (str(gave_up), "undeliverable"),
                             (str(failed), "failed")]
    assert "&lt;b&gt;Hi&lt;/b&gt;" in page and "<b>Hi</b>" not in page
    assert re.search(r'data-status="failed"[^>]*>Failed <span[^>]*>1<', page)
    assert re.search(r'data-status="undeliverable"[^>]*>Undeliverable <span[^>]*>1<', page)
    assert "ConnectionRefusedError" in page and "none: gave up" in page
    assert "Next automatic try" not in page and "tried until" in page
    assert 'id="retry-all"' not in page  # a viewer sees no retry buttons

    agent = as_role("agent")
    assert rows_of(outbox_page(agent, "?status=undeliverable")[1]) == [
        (str(gave_up), "undeliverable")]
    assert rows_of(outbox_page(agent, "?age=over1d")[1]) == []
    assert [r[0] for r in rows_of(outbox_page(agent, "?age=1h")[1])] == [
        str(sent), str(gave_up), str(failed)]


@pytest.mark.parametrize("query, message", [
    ("?status=lost", "status: &#39;lost&#39; is not one of queued, failed, undeliverable, sent"),
    ("?age=ancient", "age: &#39;ancient&#39; is not one of 1h, 1d, 7d, over1d, over7d"),
    ("?page=0", "page"),
])
def test_outbox_names_a_bad_filter(app, as_role, query, message):
    status, page = outbox_page(as_role("agent"), query)
    assert status == 400 and message in page


def test_retry_ticked_and_all_failed_make_them_due_now_with_a_new_period(
        app, order_id, as_role, short_period):
    first, second, third = queue(app, order_id, count=3)
    for message_id in (first, second, third):
        tries_until_done(app, message_id, utcnow() - timedelta(days=1))
    assert {m.status for m in mails(app)} == {"undeliverable"}
    agent = as_role("agent")
    before = utcnow()
    response = agent.post_form("/administration/outbox/retry",
                               {"email": [str(first)], "status": "undeliverable"})
    assert response.headers["Location"].endswith("/administration/outbox/?status=undeliverable")
    page = agent.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 mail is due now, with a new period of tries" in page
    rows = {m.id: m for m in mails(app)}
    assert rows[first].status == "failed" and rows[first].next_attempt_at >= before
    assert rows[first].give_up_at >= before + timedelta(hours=5)
    assert rows[second].status == rows[third].status == "undeliverable"

    response = agent.post_form("/administration/outbox/retry", {"scope": "all"})
    assert "3 mails are due now" in agent.get(response.headers["Location"]).get_data(
        as_text=True)
    with app.app_context():
        report = outbox.send_outbox()  # the sender's next round tries all three
    assert report.failed == 3
    assert {m.status for m in mails(app)} == {"failed"}


def test_retry_one_tries_it_at_once(app, order_id, as_role, server):
    [message_id] = queue(app, order_id, count=1, prefix="Now")
    with app.app_context():
        outbox.deliver(message_id)  # server down: failed
    server.start()
    agent = as_role("agent")
    response = agent.post_form(f"/administration/outbox/{message_id}/retry",
                               {"status": "failed"})
    assert response.headers["Location"].endswith("/administration/outbox/?status=failed")
    assert "Email sent to anna@example.com." in agent.get(
        response.headers["Location"]).get_data(as_text=True)
    assert [m["subject"] for m in server.inbox.messages] == ["Now"]


@pytest.mark.parametrize("form, message", [
    ({}, "Nothing was retried: tick the mails to retry."),
    ({"email": ["x"]}, "Nothing was retried: email: "),
])
def test_retry_without_a_good_tick_changes_nothing(app, order_id, as_role, form, message):
    queue(app, order_id, count=1)
    before = [(m.status, m.next_attempt_at) for m in mails(app)]
    agent = as_role("agent")
    response = agent.post_form("/administration/outbox/retry", form)
    assert message in agent.get(response.headers["Location"]).get_data(as_text=True)
    assert [(m.status, m.next_attempt_at) for m in mails(app)] == before


def test_a_viewer_may_not_retry(app, order_id, as_role):
    [message_id] = queue(app, order_id, count=1)
    viewer = as_role("viewer")
    assert viewer.post_form("/administration/outbox/retry", {"scope": "all"}).status_code == 403
    assert viewer.post_form(f"/administration/outbox/{message_id}/retry", {}).status_code == 403
    assert [(m.status, m.attempts) for m in mails(app)] == [("queued", 0)]


# --- settings -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, value, message", [
    ("PANEL_MAIL_RETRY_INTERVAL", "soon", "PANEL_MAIL_RETRY_INTERVAL"),
    ("PANEL_MAIL_GIVE_UP_AFTER", "-1 day", "PANEL_MAIL_GIVE_UP_AFTER"),
    ("PANEL_MAIL_QUICK_TRIES", "0", "PANEL_MAIL_QUICK_TRIES must be 1 or more"),
])
def test_bad_retry_settings_stop_the_start_and_are_named(monkeypatch, tmp_path, name, value,
                                                          message):
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=message):
        from_environment(str(tmp_path))


def test_retry_settings_are_read(monkeypatch, tmp_path):
    monkeypatch.setenv("PANEL_MAIL_RETRY_INTERVAL", "30 minutes")
    monkeypatch.setenv("PANEL_MAIL_GIVE_UP_AFTER", "1 day 12 hours")
    monkeypatch.setenv("PANEL_MAIL_QUICK_TRIES", "3")
    config = from_environment(str(tmp_path))
    assert (config["PANEL_MAIL_RETRY_INTERVAL"], config["PANEL_MAIL_GIVE_UP_AFTER"],
            config["PANEL_MAIL_QUICK_TRIES"]) == (timedelta(minutes=30), timedelta(hours=36), 3)
