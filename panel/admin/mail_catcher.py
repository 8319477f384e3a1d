"""Caught mail: what the demo's mail catcher received, as the customer would have.

The page exists only when PANEL_MAIL_CATCHER names the catcher's folder (``flask demo run``
sets it; the panel refuses it in production). Admins and agents read it; viewers get 403,
like the mail they cannot send. A mail's text and HTML are shown as text, escaped: its HTML
is never rendered in the panel. Attachments and the whole mail are offered for download,
never shown inline.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from flask import Response, abort, current_app, flash, redirect, url_for
from flask_admin import expose
from flask_login import current_user

from panel import mail_catcher
from panel.admin.base import PanelView, editors_only
from panel.i18n import _, _l, ngettext

MENU_NAME = _l("Caught mail")


def _download(data: bytes, filename: str, mimetype: str = "application/octet-stream"
              ) -> Response:
    """A file to save, never to show: whatever it holds does not run in the panel."""
    response = Response(data, mimetype=mimetype)
    plain = filename.encode("ascii", "ignore").decode().replace('"', "") or "attachment"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}")
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


class MailCatcherView(PanelView):
    def is_visible(self) -> bool:
        return current_user.is_authenticated and current_user.can_edit

    @property
    def directory(self) -> Path:
        return Path(current_app.config["PANEL_MAIL_CATCHER"]).absolute()

    def _mail(self, mail_id: str) -> mail_catcher.CaughtMail:
        mail = mail_catcher.load(self.directory, mail_id)
        if mail is None:
            abort(404)
        return mail

    @expose("/")
    @editors_only
    def index(self):
        mails, total = mail_catcher.newest(self.directory)
        return self.render("mail_catcher/list.html", mails=mails, total=total,
                           directory=self.directory)

    @expose("/<mail_id>")
    @editors_only
    def message(self, mail_id: str):
        mail = self._mail(mail_id)
        attachments = [(number, mail_catcher.attachment_name(part, number),
                        part.get_content_type(), len(mail_catcher.attachment_bytes(part)))
                       for number, part in enumerate(mail.attachments(), start=1)]
        return self.render("mail_catcher/message.html", mail=mail, attachments=attachments)

    @expose("/<mail_id>/mail.eml")
    @editors_only
    def raw(self, mail_id: str):
        path = mail_catcher.mail_path(self.directory, mail_id)
        if path is None:
            abort(404)
        return _download(path.read_bytes(), f"{mail_id}.eml")

    @expose("/<mail_id>/attachments/<int:number>")
    @editors_only
    def attachment(self, mail_id: str, number: int):
        parts = self._mail(mail_id).attachments()
        if not 1 <= number <= len(parts):
            abort(404)
        part = parts[number - 1]
        # A PDF keeps its type (so the download opens in a reader); anything else is bytes.
        mimetype = "application/pdf" if part.get_content_type() == "application/pdf" \
            else "application/octet-stream"
        return _download(mail_catcher.attachment_bytes(part),
                         mail_catcher.attachment_name(part, number), mimetype)

    @expose("/delete", methods=("POST",))
    @editors_only
    def delete_all(self):
        deleted = mail_catcher.delete_all(self.directory)
        flash(ngettext("Deleted %(num)d caught mail.", "Deleted %(num)d caught mails.", deleted)
              if deleted else _("There was no caught mail to delete."),
              "success" if deleted else "info")
        return redirect(url_for(".index"))
