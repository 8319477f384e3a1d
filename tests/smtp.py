"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, keeping what it receives."""
from __future__ import annotations

import asyncio
import socket
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


class Inbox:
    """Keeps what it accepts. ``refusing`` answers every mail with a temporary failure (a
    server in trouble); ``delay`` seconds pass before each answer (a slow server); ``tries``
    lists the subject of every mail handed over, accepted or not."""

    def __init__(self):
        self.messages = []
        self.emails = []  # the same messages whole (email.message.EmailMessage), attachments too
        self.tries = []
        self.refusing = False
        self.delay = 0.0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.tries.append(message["subject"])
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refusing:
            return "451 4.3.0 Mail server busy, try again later"
        self.emails.append(message)
        self.messages.append({"to": envelope.rcpt_tos, "subject": message["subject"],
                              "body": message.get_body(("plain",)).get_content().replace("\r\n", "\n"),
                              "from": message["from"]})
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """Start and stop a server on a fixed port (so a test can take it down and back up)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.inbox = Inbox()
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def real_mail_settings(request, sender: str = "orders@shop.example", **extra) -> dict:
    """App settings for real delivery: to the test's ``smtp`` server if it uses that
    fixture, else to a port nobody listens on (the server is down)."""
    port = request.getfixturevalue("smtp").port if "smtp" in request.fixturenames else free_port()
    return {"MAIL_SUPPRESS_SEND": False, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port,
            "MAIL_TIMEOUT": 5, "MAIL_DEFAULT_SENDER": sender, **extra}
