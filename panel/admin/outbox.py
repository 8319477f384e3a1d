"""Administration > Outbox: every mail to customers with its status, tries, last error and
next try; a person retries one at once, or makes the ticked or all failed ones due now."""
from __future__ import annotations

from flask import flash, redirect, request
from flask_admin import expose
from werkzeug.datastructures import MultiDict

from panel.admin.base import PanelView, editors_only
from panel.admin.communication import flash_delivery
from panel.admin.listing import ListArgs, list_url
from panel.formatting import format_number
from panel.i18n import _, ngettext
from panel.models.base import utcnow
from panel.params import ParameterError, read_ids
from panel.services import outbox, outbox_list
from panel.services.outbox_list import OutboxQuery

FILTERS = ("status", "age", "per_page")  # kept across a retry
RETRY_TICKED_CAP = 1000


def read_outbox_query(args) -> tuple[OutboxQuery, list[str]]:
    parsed = ListArgs(args)
    query = OutboxQuery(status=parsed.text("status", max_length=20),
                        age=parsed.text("age", max_length=20),
                        page=parsed.page(), per_page=parsed.per_page())
    return query, parsed.errors + query.check()


class OutboxView(PanelView):
    """In the admins' Administration menu; every signed-in user may read it (the order
    page links here when its mail was not delivered), and those who may change orders may
    retry (the server refuses anybody else's POST)."""

    @expose("/")
    def index(self):
        query, errors = read_outbox_query(request.args)
        now = utcnow()
        return self.render(
            "mail/outbox.html", query=query, errors=errors,
            page=None if errors else outbox_list.find(query, now),
            counts=outbox_list.count_by_status(OutboxQuery(age=query.age if not errors else ""),
                                               now),
            statuses=outbox_list.STATUSES, ages=outbox_list.AGES,
            page_sizes=self.admin.app.config["PANEL_PAGE_SIZES"],
            page_url=list_url(request.endpoint, request.args), retry_cap=RETRY_TICKED_CAP,
        ), (400 if errors else 200)

    def _back(self) -> str:
        filters = MultiDict({name: request.form.get(name, "") for name in FILTERS
                             if request.form.get(name)})
        return list_url(".index", filters)()

    @expose("/<int:email_id>/retry", methods=("POST",))
    @editors_only
    def retry_one(self, email_id: int):
        flash_delivery(outbox.deliver(email_id, by_person=True))
        return redirect(self._back())

    @expose("/retry", methods=("POST",))
    @editors_only
    def retry(self):
        if request.form.get("scope") == "all":
            count = outbox_list.retry_now(utcnow())
        else:
            ticked = request.form.getlist("email")
            if len(ticked) > RETRY_TICKED_CAP:
                flash(_("Nothing was retried: at most %(cap)s mails at once (%(count)s were "
                        "sent).", cap=format_number(RETRY_TICKED_CAP),
                        count=format_number(len(ticked))), "error")
                return redirect(self._back())
            try:
                ids = read_ids("email", ticked)
            except ParameterError as exc:
                flash(_("Nothing was retried: %(reason)s.", reason=exc), "error")
                return redirect(self._back())
            if not ids:
                flash(_("Nothing was retried: tick the mails to retry."), "error")
                return redirect(self._back())
            count = outbox_list.retry_now(utcnow(), ids)
        if count:
            flash(ngettext("%(count)s mail is due now, with a new period of tries; the outbox "
                           "sender (the worker or the mail timer) tries it on its next round.",
                           "%(count)s mails are due now, with a new period of tries; the outbox "
                           "sender (the worker or the mail timer) tries them on its next round.",
                           count, count=format_number(count)), "success")
        else:
            flash(_("Nothing was retried: none of those mails is waiting to be sent."), "info")
        return redirect(self._back())
