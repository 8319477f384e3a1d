"""The demo's mail catcher: an SMTP server on loopback that keeps every mail it receives.

``python -m panel.mail_catcher --directory DIR --port 8025`` (``flask demo run`` starts it)
accepts any mail and writes it, as the server received it, to a file of its own in DIR,
with the trace headers a delivering server adds in front (``Return-Path``, ``Delivered-To``,
``Received``). The panel reads that folder on its Caught mail page when
``PANEL_MAIL_CATCHER`` names it. Nothing is ever sent on: it is for development and demos,
and the panel refuses to start with ``PANEL_MAIL_CATCHER`` in production.
"""
from __future__ import annotations

import argparse
import ipaddress
import os
import re
import secrets
import signal
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

# A caught mail's file: <nanoseconds since the epoch, 20 digits>-<8 random hex digits>.eml
MAIL_ID = re.compile(r"^[0-9]{20}-[0-9a-f]{8}$")
SUFFIX = ".eml"
MAX_MAIL_BYTES = 20 * 1024 * 1024  # what the catcher accepts (SMTP SIZE)
LIST_LIMIT = 500  # the newest mails the page lists


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _header_value(value: str) -> str:
    """An envelope address as a header value: one line, whatever the client sent."""
    return " ".join(str(value).split())


def keep(directory: Path, mail_from: str | None, recipients: list[str], content: bytes,
         peer: str = "", now: datetime | None = None) -> str:
    """Write one received mail to ``directory`` (atomically: readers never see half a
    file); return its id."""
    now = now or datetime.now(UTC)
    trace = [f"Return-Path: <{_header_value(mail_from or '')}>"]
    trace += [f"Delivered-To: {_header_value(rcpt)}" for rcpt in recipients]
    trace.append(f"Received: from {_header_value(peer) or 'unknown'} by order-panel mail "
                 f"catcher; {format_datetime(now)}")
    head = "".join(line + "\r\n" for line in trace).encode("utf-8", "surrogateescape")
    mail_id = f"{time.time_ns():020d}-{secrets.token_hex(4)}"
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{mail_id}.part"
    with open(partial, "wb") as file:
        file.write(head + content)
    os.replace(partial, directory / f"{mail_id}{SUFFIX}")
    return mail_id


class Keeper:
    """The aiosmtpd handler: accept every mail and keep it."""

    def __init__(self, directory: Path):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer or "")
        try:
            mail_id = keep(self.directory, envelope.mail_from, list(envelope.rcpt_tos),
                           content, peer)
        except OSError as exc:  # the sender tries again later
            print(f"could not keep a mail: {exc}", file=sys.stderr, flush=True)
            return "451 4.3.0 Cannot keep the mail now, try again later"
        print(f"caught {mail_id} from <{envelope.mail_from}> to "
              f"{', '.join(envelope.rcpt_tos)} ({len(content):,} bytes)", flush=True)
        return "250 2.0.0 Message accepted (kept by the mail catcher, not delivered)"


# The panel's side: reading what was caught.

@dataclass
class CaughtMail:
    id: str
    received_at: datetime
    size: int
    message: EmailMessage

    @property
    def subject(self) -> str:
        return _header(self.message, "subject")

    @property
    def sender(self) -> str:
        return _header(self.message, "from")

    @property
    def recipients(self) -> str:
        return _header(self.message, "delivered-to") or _header(self.message, "to")

    def headers(self) -> list[tuple[str, str]]:
        """Every header, in order, as text (encoded words decoded)."""
        result = []
        for name in self.message.keys():
            for value in self.message.get_all(name, []):
                try:
                    text = str(value)
                except Exception:  # noqa: BLE001 - a broken header still shows, raw
                    text = repr(value)
                result.append((name, text))
        return _unique_pairs(result)

    def text(self) -> str | None:
        return _body(self.message, "plain")

    def html(self) -> str | None:
        return _body(self.message, "html")

    def attachments(self) -> list[EmailMessage]:
        return list(self.message.iter_attachments()) if self.message.is_multipart() else []


def _unique_pairs(pairs):
    seen, result = set(), []
    for pair in pairs:
        if pair not in seen:
            seen.add(pair)
            result.append(pair)
    return result


def _header(message: EmailMessage, name: str) -> str:
    values = message.get_all(name) or []
    try:
        return ", ".join(str(v) for v in values)
    except Exception:  # noqa: BLE001 - an undecodable header
        return ""


def _body(message: EmailMessage, subtype: str) -> str | None:
    try:
        part = message.get_body(preferencelist=(subtype,))
        if part is None:
            return None
        content = part.get_content()
    except (KeyError, LookupError, ValueError):
        return None
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    return content.replace("\r\n", "\n")


def attachment_name(part: EmailMessage, number: int) -> str:
    """The attachment's file name, made safe to offer for download."""
    name = part.get_filename() or f"attachment-{number}"
    name = re.sub(r"[\x00-\x1f\x7f/\\\\\"]+", "_", name).strip(" .") or f"attachment-{number}"
    return name[:150]


def attachment_bytes(part: EmailMessage) -> bytes:
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = str(part.get_payload()).encode("utf-8", "replace")
    return payload


def mail_path(directory: Path, mail_id: str) -> Path | None:
    """The file of a caught mail, or None when ``mail_id`` is not one (never a path out of
    the folder)."""
    if not MAIL_ID.match(mail_id or ""):
        return None
    path = directory / f"{mail_id}{SUFFIX}"
    return path if path.is_file() else None


def _received_at(mail_id: str) -> datetime:
    return datetime.fromtimestamp(int(mail_id.split("-")[0]) / 1e9, UTC)


def load(directory: Path, mail_id: str) -> CaughtMail | None:
    path = mail_path(directory, mail_id)
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    message = message_from_bytes(data, policy=policy.default)
    return CaughtMail(mail_id, _received_at(mail_id), len(data), message)


def mail_ids(directory: Path) -> list[str]:
    """Every caught mail's id, the newest first."""
    try:
        names = os.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted((name[:-len(SUFFIX)] for name in names if name.endswith(SUFFIX)
                   and MAIL_ID.match(name[:-len(SUFFIX)])), reverse=True)


def newest(directory: Path, limit: int = LIST_LIMIT) -> tuple[list[CaughtMail], int]:
    """The newest ``limit`` caught mails and how many there are."""
    ids = mail_ids(directory)
    mails = [mail for mail in (load(directory, mail_id) for mail_id in ids[:limit]) if mail]
    return mails, len(ids)


def delete_all(directory: Path) -> int:
    deleted = 0
    for mail_id in mail_ids(directory):
        try:
            (directory / f"{mail_id}{SUFFIX}").unlink()
            deleted += 1
        except FileNotFoundError:
            pass
    return deleted


# The server.

def serve(directory: Path, host: str, port: int, ready=None, stop: threading.Event | None = None
          ) -> None:
    """Run the catcher until ``stop`` is set (or SIGINT/SIGTERM in the main thread)."""
    from aiosmtpd.controller import Controller

    if not is_loopback(host):
        raise SystemExit(f"mail catcher: {host} is not a loopback address; the catcher only "
                         "listens on this machine (127.0.0.1, ::1 or localhost).")
    directory.mkdir(parents=True, exist_ok=True)
    controller = Controller(Keeper(directory), hostname=host, port=port,
                            server_hostname="order-panel-mail-catcher",
                            data_size_limit=MAX_MAIL_BYTES)
    try:
        controller.start()
    except (OSError, RuntimeError) as exc:
        _close(controller)
        raise SystemExit(f"mail catcher: cannot listen on {host}:{port} ({exc}). Is another "
                         "program using the port? Choose another one.") from None
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    print(f"Mail catcher: listening on {host}:{port}, keeping mail in {directory}", flush=True)
    if ready is not None:
        ready()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        controller.stop()


def _close(controller) -> None:
    """Release what a controller that did not start holds (its event loop's sockets)."""
    try:
        controller.stop(no_assert=True)
    except Exception:  # noqa: BLE001 - it never ran; closing is all that is left
        pass
    if not controller.loop.is_closed():
        controller.loop.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m panel.mail_catcher",
                                     description="Catch mail on loopback and keep it as files.")
    parser.add_argument("--directory", required=True, type=Path,
                        help="Where to keep the mails (PANEL_MAIL_CATCHER of the panel).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    args = parser.parse_args(argv)
    serve(args.directory.absolute(), args.host, args.port)


if __name__ == "__main__":
    main()
