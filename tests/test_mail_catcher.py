"""The demo's mail catcher (panel.mail_catcher) and the panel's Caught mail page."""
from __future__ import annotations

import re
import smtplib
import threading
from email.message import EmailMessage

import pytest

from panel import create_app, mail_catcher
from tests.smtp import free_port

HOSTILE_HTML = '<p>Hello</p><script>alert("html")</script><img src=x onerror="alert(1)">'
HOSTILE_TEXT = 'Dear <b>Anna</b>, </pre><script>alert("text")</script>'
PDF = b"%PDF-1.4 a small invoice\n%%EOF"


@pytest.fixture
def caught(tmp_path):
    return tmp_path / "caught"


@pytest.fixture
def app_config(caught):
    return {"PANEL_MAIL_CATCHER": str(caught)}


@pytest.fixture
def catcher(caught):
    """The catcher serving on a free loopback port in a thread, as `demo run` starts it."""
    port = free_port()
    ready, stop = threading.Event(), threading.Event()
    thread = threading.Thread(target=mail_catcher.serve, args=(caught, "127.0.0.1", port),
                              kwargs={"ready": ready.set, "stop": stop}, daemon=True)
    thread.start()
    assert ready.wait(10), "the catcher did not start"
    yield port
    stop.set()
    thread.join(10)


def send(port: int, subject="Your order DE--1 has shipped", html=HOSTILE_HTML,
         attachment=True, to="anna.schmidt7@example.com") -> None:
    message = EmailMessage()
    message["From"] = "orders@shop.example"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(HOSTILE_TEXT + "\nGrüße aus Berlin")
    if html:
        message.add_alternative(html, subtype="html")
    if attachment:
        message.add_attachment(PDF, maintype="application", subtype="pdf",
                               filename="Rechnung DE-2026-1.pdf")
        message.add_attachment(b"<script>alert(1)</script>", maintype="text", subtype="html",
                               filename="page.html")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message, from_addr="bounces@shop.example",
                          to_addrs=[to, "copy@shop.example"])


def only_mail_id(caught) -> str:
    ids = mail_catcher.mail_ids(caught)
    assert len(ids) == 1, ids
    return ids[0]


def test_the_catcher_keeps_each_mail_as_received_with_its_envelope(catcher, caught):
    send(catcher)
    mail = mail_catcher.load(caught, only_mail_id(caught))
    assert mail.subject == "Your order DE--1 has shipped"
    assert mail.message["Return-Path"] == "<bounces@shop.example>"
    assert mail.message.get_all("Delivered-To") == ["anna.schmidt7@example.com",
                                                    "copy@shop.example"]
    assert "Grüße aus Berlin" in mail.text()
    assert mail.html() == HOSTILE_HTML + "\n"
    assert [a.get_filename() for a in mail.attachments()] == ["Rechnung DE-2026-1.pdf",
                                                              "page.html"]
    assert not list(caught.glob(".*.part"))  # written whole, then renamed


def test_the_catcher_listens_on_loopback_only_and_says_when_the_port_is_taken(caught, catcher):
    with pytest.raises(SystemExit, match="not a loopback address"):
        mail_catcher.serve(caught, "0.0.0.0", free_port())
    with pytest.raises(SystemExit, match=f"cannot listen on 127.0.0.1:{catcher}"):
        mail_catcher.serve(caught, "127.0.0.1", catcher)


def test_the_page_needs_a_login(client, catcher):
    response = client.get("/mail-catcher/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_viewers_may_not_read_caught_mail(as_role, catcher, caught):
    send(catcher)
    viewer = as_role("viewer")
    assert viewer.get("/mail-catcher/").status_code == 403
    assert viewer.get(f"/mail-catcher/{only_mail_id(caught)}").status_code == 403
    assert "Caught mail" not in viewer.get("/").get_data(as_text=True)  # not in the menu


@pytest.mark.parametrize("app_config", [{}])
def test_without_the_setting_there_is_no_page(as_role, app_config):
    admin = as_role("admin")
    assert admin.get("/mail-catcher/").status_code == 404
    assert "Caught mail" not in admin.get("/").get_data(as_text=True)


@pytest.mark.parametrize("role", ["admin", "agent"])
def test_agents_and_admins_read_a_mail_escaped_with_its_attachments(as_role, catcher, caught,
                                                                    role):
    send(catcher)
    user = as_role(role)
    listing = user.get("/mail-catcher/")
    page = listing.get_data(as_text=True)
    assert listing.status_code == 200
    assert "Your order DE--1 has shipped" in page and "anna.schmidt7@example.com" in page
    mail_id = only_mail_id(caught)
    assert f'/mail-catcher/{mail_id}"' in page
    assert 'href="/mail-catcher/"' in user.get("/").get_data(as_text=True)  # in the menu

    response = user.get(f"/mail-catcher/{mail_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    # The text and the HTML are shown as text: not one of their tags reaches the page.
    assert "<script>alert" not in page and "onerror=" not in page.replace("onerror=&#34;", "")
    assert "Dear &lt;b&gt;Anna&lt;/b&gt;, &lt;/pre&gt;&lt;script&gt;" in page
    assert "&lt;script&gt;alert(&#34;html&#34;)&lt;/script&gt;" in page
    assert "Grüße aus Berlin" in page
    assert "Rechnung DE-2026-1.pdf" in page and "page.html" in page
    assert "Return-Path" in page and "Delivered-To" in page

    pdf = user.get(f"/mail-catcher/{mail_id}/attachments/1")
    assert pdf.status_code == 200 and pdf.data == PDF
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith(
        'attachment; filename="Rechnung DE-2026-1.pdf"')
    html = user.get(f"/mail-catcher/{mail_id}/attachments/2")
    # An HTML attachment is a file to save, never a page of the panel.
    assert html.data == b"<script>alert(1)</script>"
    assert html.headers["Content-Type"] == "application/octet-stream"
    assert html.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in html.headers["Content-Security-Policy"]
    assert user.get(f"/mail-catcher/{mail_id}/attachments/3").status_code == 404

    raw = user.get(f"/mail-catcher/{mail_id}/mail.eml")
    assert raw.status_code == 200 and raw.headers["Content-Disposition"].startswith("attachment;")
    assert raw.data == (caught / f"{mail_id}.eml").read_bytes()


@pytest.mark.parametrize("wrong", ["nothing", "..%2F..%2Fetc%2Fpasswd",
                                   "00000000000000000000-00000000"])
def test_a_mail_that_is_not_there_is_404(as_role, catcher, wrong):
    assert as_role("agent").get(f"/mail-catcher/{wrong}").status_code == 404


def test_a_mail_without_html_or_attachments_says_so(as_role, catcher, caught):
    send(catcher, html=None, attachment=False)
    page = as_role("agent").get(f"/mail-catcher/{only_mail_id(caught)}").get_data(as_text=True)
    assert 'id="mail-html"' not in page and 'id="mail-attachments"' not in page


def test_deleting_caught_mail_needs_the_csrf_token(as_role, catcher, caught):
    send(catcher)
    agent = as_role("agent")
    assert agent.client.post("/mail-catcher/delete").status_code == 400
    assert len(mail_catcher.mail_ids(caught)) == 1
    response = agent.post_form("/mail-catcher/delete", follow_redirects=True)
    assert "Deleted 1 caught mail." in response.get_data(as_text=True)
    assert mail_catcher.mail_ids(caught) == []
    assert 'id="no-caught-mail"' in agent.get("/mail-catcher/").get_data(as_text=True)


def test_production_refuses_to_start_with_the_catcher(monkeypatch, tmp_path):
    monkeypatch.setenv("PANEL_ENV", "production")
    monkeypatch.setenv("PANEL_SECRET_KEY", "a-production-secret-of-some-length-0123456789")
    monkeypatch.setenv("PANEL_TRUSTED_HOSTS", "panel.example.com")
    monkeypatch.setenv("PANEL_DATABASE_URL", f"sqlite:///{tmp_path / 'panel.sqlite3'}")
    monkeypatch.setenv("PANEL_MAIL_CATCHER", str(tmp_path / "caught"))
    with pytest.raises(RuntimeError) as raised:
        create_app()
    message = str(raised.value)
    assert "PANEL_ENV=production" in message and "Unset PANEL_MAIL_CATCHER" in message
    monkeypatch.delenv("PANEL_MAIL_CATCHER")
    assert create_app().config["PANEL_MAIL_CATCHER"] is None


def test_the_pages_speak_german(as_role, catcher, caught):
    send(catcher, subject="Ihre Bestellung", attachment=True)
    agent = as_role("agent")
    german = {"Accept-Language": "de"}
    page = agent.get("/mail-catcher/", headers=german).get_data(as_text=True)
    assert "<h4 class=\"mb-3\">Abgefangene E-Mails</h4>" in page
    assert "Alle abgefangenen E-Mails löschen" in page and "1 E-Mail." in page
    assert "<th>Betreff</th>" in page
    page = agent.get(f"/mail-catcher/{only_mail_id(caught)}", headers=german) \
        .get_data(as_text=True)
    assert "Kopfzeilen" in page and "Anhänge" in page and "Quelltext" in page
    assert re.search(r"\d+\.\d{3} Bytes", page)  # numbers the German way (1.234 Bytes)
    response = agent.post_form("/mail-catcher/delete", headers=german, follow_redirects=True)
    assert "1 abgefangene E-Mail gelöscht." in response.get_data(as_text=True)
