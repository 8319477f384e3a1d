"""One page of a list, with a total that is counted exactly only up to COUNT_CAP."""
from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from panel.extensions import db
from panel.formatting import format_number

COUNT_CAP = 10_000
# A filter found to match more than the cap is said to ("10,000+") without counting again
# for this long: counting ten thousand index entries is most of a list request's database
# time, and a set that large does not fall under the cap in a minute but by a bulk action.
OVER_CAP_SECONDS = 60.0


@dataclass
class ResultPage:
    rows: list
    total: int  # exact up to the cap
    total_is_capped: bool
    page: int
    per_page: int

    @property
    def total_label(self) -> str:
        """The total as the page says it: "10,000+" in English, "10.000+" in German."""
        number = format_number(self.total)
        return f"{number}+" if self.total_is_capped else number

    @property
    def has_next(self) -> bool:
        return len(self.rows) == self.per_page and (
            self.total_is_capped or self.page * self.per_page < self.total
        )

    @property
    def last_page(self) -> int | None:
        if self.total_is_capped:
            return None
        return max(1, -(-self.total // self.per_page))


def fetch_page(filtered, ordering, key_column, page: int, per_page: int,
               total: int | None = None, cap: int | None = None,
               count_key: tuple | None = None) -> ResultPage:
    """Run ``filtered`` (a SELECT of one entity) for one page, and count its matches
    (``total``, when given, is that count up to ``cap`` + 1).

    The count stops at COUNT_CAP + 1 rows, so it costs the same on a million rows as on ten
    thousand; beyond that the page says "10,000+".
    """
    cap = COUNT_CAP if cap is None else cap
    page = max(1, page)
    # The page's keys first, from the sort's index alone, then only those rows: an offset
    # then skips index entries, not whole rows.
    keys = (filtered.with_only_columns(key_column).order_by(*ordering).limit(per_page)
            .offset((page - 1) * per_page))
    rows = list(db.session.scalars(filtered.where(key_column.in_(keys)).order_by(*ordering)))
    if total is None:  # else the caller counted it a cheaper way
        total = capped_count(filtered.with_only_columns(key_column), cap, count_key)
    return ResultPage(rows, min(total, cap), total > cap, page, per_page)


def capped_count(stmt, cap: int, key: tuple | None = None) -> int:
    """How many rows ``stmt`` returns, counted up to ``cap`` + 1 (remembered a while when
    over the cap, per ``key``: what the caller knows decides the statement, such as a list's
    filters; without it, per the statement's SQL and parameters, which costs a compilation
    of the statement on every call)."""
    if key is None:
        compiled = stmt.compile(db.session.get_bind())
        key = (str(compiled), repr(sorted(compiled.params.items())))
    key = (*key, cap)
    over_cap = current_app.extensions.setdefault("panel_over_cap", {})
    seen = over_cap.get(key)
    if seen is not None and time.monotonic() - seen < OVER_CAP_SECONDS:
        return cap + 1
    total = db.session.scalar(select(func.count()).select_from(stmt.limit(cap + 1).subquery()))
    if total > cap:
        if len(over_cap) > 1000:  # many different filters: start afresh
            over_cap.clear()
        over_cap[key] = time.monotonic()
    else:
        over_cap.pop(key, None)
    return total
