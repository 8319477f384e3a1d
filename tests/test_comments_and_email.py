"""Comments for the team, mail to the customer through a real SMTP server, one timeline."""
import re

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Comment, Order, OutboundEmail
from panel.oms import engine
from panel.services import outbox
from panel.services.email_templates import EmailTemplate
from tests.conftest import order_payload
from tests.smtp import SmtpServer, real_mail_settings

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def app_config(request):
    return real_mail_settings(request, PANEL_PLUGINS=("tests.plugins.template_fixture",))


@pytest.fixture
def order_id(post_order):
    # An English order: its customer's mails are written in English (a German order's are in
    # German: tests/test_orderpage_german.py).
    return post_order(order_payload(locale="en_GB")).json["id"]


def text(client, response):
    if response.status_code == 302:
        response = client.get(response.headers["Location"])
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


# --- comments -----------------------------------------------------------------------------

def test_comment_appears_at_once_with_author_and_time(app, as_role, order_id):
    agent = as_role("agent")
    response = agent.post_form(f"/sales/messages/{order_id}/comments",
                               {"message": "I'll take this one.\nCalled the customer."})
    page = agent.get(response.headers["Location"]).get_data(as_text=True)
    comments = re.search(r'id="comments".*?</ul>', page, re.S).group(0)
    assert "Agent User" in comments and "I'll take this one.\nCalled the customer." in \
        comments.replace("&#39;", "'")
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", comments)


@pytest.mark.parametrize("message, reason", [
    ("   ", "the message is empty"),
    ("x" * 10_001, "at most 10,000 are allowed"),
    ("ring \x07 the bell", "the message contains a control character (U+0007, bell)"),
    ("file \u202egnp.exe", "the message contains a bidirectional control character"),
])
def test_empty_or_overlong_comment_is_refused(app, as_role, order_id, message, reason):
    agent = as_role("agent")
    page = text(agent, agent.post_form(f"/sales/messages/{order_id}/comments",
                                       {"message": message}))
    assert reason in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0


def test_comment_markup_is_shown_as_text(app, as_role, order_id):
    agent = as_role("agent")
    agent.post_form(f"/sales/messages/{order_id}/comments", {"message": SCRIPT})
    page = agent.get(f"/sales/orders/{order_id}").get_data(as_text=True)
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_viewer_reads_comments_but_cannot_write(app, as_role, order_id):
    as_role("agent").post_form(f"/sales/messages/{order_id}/comments", {"message": "Hello"})
    viewer = as_role("viewer")
    page = viewer.get(f"/sales/orders/{order_id}").get_data(as_text=True)
    assert "Hello" in page and "send-message" not in page
    response = viewer.post_form(f"/sales/messages/{order_id}/comments", {"message": "x"})
    assert response.status_code == 403
    assert viewer.get(f"/sales/messages/{order_id}/email").status_code == 403


# --- email --------------------------------------------------------------------------------

def send(client, order_id, **form):
    return client.post_form(f"/sales/messages/{order_id}/email", form)


def test_email_arrives_with_to_subject_and_body(app, as_role, order_id, smtp):
    agent = as_role("agent")
    page = text(agent, send(agent, order_id, action="send", subject="About your order",
                            body="Hello Anna,\nit ships tomorrow."))
    assert "Email sent to anna@example.com." in page
    assert smtp.inbox.messages == [{"to": ["anna@example.com"], "subject": "About your order",
                                    "body": "Hello Anna,\nit ships tomorrow.\n",
                                    "from": "orders@shop.example"}]
    with app.app_context():
        message = db.session.scalar(sa.select(OutboundEmail))
        assert (message.status, message.attempts, message.created_by) == (
            "sent", 1, "Agent User <agent@example.org>")


def test_template_preview_and_send(app, as_role, order_id, smtp):
    agent = as_role("agent")
    form = text(agent, send(agent, order_id, action="template", template="shipping delay"))
    assert 'value="Your order DE--1 is delayed"' in form
    assert "Hello Mrs Anna Schmidt," in form and "Kind regards, Agent User" in form
    preview = text(agent, send(agent, order_id, action="preview", subject="Delay",
                               body="Sorry, {{ not rendered }}"))
    assert 'id="preview-subject">Delay<' in preview
    assert "Sorry, {{ not rendered }}" in preview  # what is typed is sent as typed
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboundEmail)) == 0


def test_template_error_is_shown_not_a_500(app, as_role, order_id):
    agent = as_role("agent")
    response = send(agent, order_id, action="template", template="broken")
    assert response.status_code == 400
    page = text(agent, response)
    assert "Not sent: the body of &#39;broken&#39;:" in page
    assert "has no attribute &#39;no_such_field&#39;" in page


def test_hook_register_email_templates(app, as_role, order_id):
    """A plugin adds templates and replaces a bundled one of the same name."""
    agent = as_role("agent")
    form = text(agent, agent.get(f"/sales/messages/{order_id}/email"))
    assert '<option value="broken"' in form and '<option value="order update"' in form
    replaced = text(agent, send(agent, order_id, action="template", template="order update"))
    assert 'value="Project update for DE--1"' in replaced


def test_sandbox_refuses_reaching_into_the_app(app, as_role, order_id):
    agent = as_role("agent")
    response = send(agent, order_id, action="template", template="escape")
    assert response.status_code == 400
    assert "unsafe" in text(agent, response) or "not safely" in text(agent, response)


@pytest.mark.parametrize("form, reason", [
    ({"subject": "Two\nlines", "body": "x"},
     "the subject contains a control character (U+000A, line feed)"),
    ({"subject": "Hi", "body": "Dear \x1b[31mcustomer"},
     "the message contains a control character (U+001B, escape)"),
    ({"subject": "Invoice \u202efdp.exe", "body": "x"},
     "the subject contains a bidirectional control character"),
    ({"subject": "", "body": "x"}, "the subject is empty"),
    ({"subject": "Hi", "body": "  "}, "the message is empty"),
])
def test_bad_messages_are_refused(app, as_role, order_id, form, reason):
    agent = as_role("agent")
    assert reason in text(agent, send(agent, order_id, action="send", **form))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboundEmail)) == 0


def test_message_without_recipient_is_refused(app, order_id, accounts):
    with app.app_context():
        db.session.execute(sa.update(Order).values(email=""))
        db.session.commit()
        from panel.models import User

        user = db.session.scalar(sa.select(User))
        with pytest.raises(outbox.EmailRefused, match="no email address"):
            outbox.queue_email(order_id, "Hi", "Body", template=None, user=user)


def test_server_down_records_failure_then_send_outbox_delivers_once(app, as_role, order_id,
                                                                     runner):
    agent = as_role("agent")
    agent.post_form(f"/sales/messages/{order_id}/comments", {"message": "keep me"})
    page = text(agent, send(agent, order_id, action="send", subject="Hello", body="Body"))
    assert "could not be delivered: ConnectionRefusedError" in page
    assert 'id="email-status">failed<' in page and 'id="resend"' in page
    with app.app_context():
        message = db.session.scalar(sa.select(OutboundEmail))
        assert (message.status, message.attempts) == ("failed", 1)
        assert message.next_attempt_at is not None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 1
        due = message.next_attempt_at
    server = SmtpServer(app.config["MAIL_PORT"]).start()
    try:
        with app.app_context():
            first, again = outbox.send_outbox(now=due), outbox.send_outbox(now=due)
            assert (first.sent, first.failed) == (1, 0)
            assert (again.sent, again.failed) == (0, 0)  # exactly once
        result = runner.invoke(args=["mail", "send-outbox"])
        assert result.output == "send-outbox: 0 sent, 0 failed.\n"
    finally:
        server.stop()
    assert [m["subject"] for m in server.inbox.messages] == ["Hello"]


def test_resend_button(app, as_role, order_id):
    agent = as_role("agent")
    send(agent, order_id, action="send", subject="Hello", body="Body")
    server = SmtpServer(app.config["MAIL_PORT"]).start()
    try:
        page = text(agent, agent.post_form(f"/sales/messages/{order_id}/emails/1/resend", {}))
    finally:
        server.stop()
    assert "Email sent to anna@example.com." in page
    assert len(server.inbox.messages) == 1


def test_state_machine_mails_go_out_through_the_outbox(app, order_id, smtp):
    with app.app_context():
        engine.trigger_event(order_id, "pay", actor="agent")
        engine.trigger_event(order_id, "ship", actor="agent")
    assert [m["subject"] for m in smtp.inbox.messages] == ["Your order DE--1 is on its way"]
    with app.app_context():
        message = db.session.scalar(sa.select(OutboundEmail))
        assert (message.template, message.status) == ("order shipped", "sent")


# --- the timeline ---------------------------------------------------------------------------

def test_timeline_shows_everything_and_filters_by_kind(app, as_role, order_id, smtp):
    agent = as_role("agent")
    agent.post_form(f"/sales/orders/{order_id}/trigger", {"event": "pay"})
    agent.post_form(f"/sales/messages/{order_id}/comments", {"message": "Paid by phone."})
    send(agent, order_id, action="send", subject="Thanks", body="Paid.")
    page = text(agent, agent.get(f"/sales/orders/{order_id}"))
    history = re.search(r'id="history".*?</ul>', page).group(0)
    kinds = re.findall(r'data-kind="(\w+)"', history)
    assert kinds == ["email", "comment", "state"]
    assert "pay moved 3 items from <em>new</em> to <em>paid</em>" in history
    assert ">Thanks</a>" in history and "email-status\">sent<" in history
    only = text(agent, agent.get(f"/sales/orders/{order_id}?kind=comment&kind=email"))
    history = re.search(r'id="history".*?</ul>', only).group(0)
    assert re.findall(r'data-kind="(\w+)"', history) == ["email", "comment"]
    copy_link = re.search(r'href="(/sales/messages/\d+/emails/\d+)">Thanks', page).group(1)
    assert "Paid." in text(agent, agent.get(copy_link))
    bad = text(agent, agent.get(f"/sales/orders/{order_id}?kind=gossip"))
    assert "History has no kind &#39;gossip&#39;" in bad


def test_template_fixture_is_an_email_template():
    from tests.plugins.template_fixture import register_email_templates

    assert all(isinstance(t, EmailTemplate) for t in register_email_templates())
