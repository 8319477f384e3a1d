"""Comments on an order: written by the sales team, never edited or deleted."""
from __future__ import annotations

from sqlalchemy import select

from panel.extensions import db
from panel.formatting import format_number
from panel.i18n import _
from panel.models import Comment, Order
from panel.services.text_fields import multi_line

MAX_COMMENT = 10_000


class CommentRefused(ValueError):
    """The comment was not saved; the message says why."""


def add_comment(order_id: int, message: str, user) -> Comment:
    """Append a comment to the order; refuse an empty or an overlong one."""
    text = (message or "").replace("\r\n", "\n").strip()
    if not text:
        raise CommentRefused(_("the message is empty"))
    if len(text) > MAX_COMMENT:
        raise CommentRefused(_("the message is %(length)s characters long; at most %(max)s are "
                               "allowed", length=format_number(len(text)),
                               max=format_number(MAX_COMMENT)))
    try:
        multi_line(text)
    except ValueError as exc:
        raise CommentRefused(_("the message %(problem)s", problem=exc)) from None
    if db.session.get(Order, order_id) is None:
        raise CommentRefused(_("there is no order #%(id)s", id=order_id))
    comment = Comment(order_id=order_id, author_id=user.id, author_name=user.name,
                      message=text)
    db.session.add(comment)
    db.session.commit()
    return comment


def comments_of(order_id: int) -> list[Comment]:
    return list(db.session.scalars(
        select(Comment).where(Comment.order_id == order_id)
        .order_by(Comment.created_at, Comment.id)
    ))
