"""One page of a list, with a total that is counted exactly only up to COUNT_CAP."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from panel.extensions import db

COUNT_CAP = 10_000


@dataclass
class ResultPage:
    rows: list
    total: int  # exact up to the cap
    total_is_capped: bool
    page: int
    per_page: int

    @property
    def total_label(self) -> str:
        return f"{self.total:,}+" if self.total_is_capped else f"{self.total:,}"

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
               total: int | None = None, cap: int | None = None) -> ResultPage:
    """Run ``filtered`` (a SELECT of one entity) for one page, and count its matches
    (``total``, when given, is that count up to ``cap`` + 1).

    The count stops at COUNT_CAP + 1 rows, so it costs the same on a million rows as on ten
    thousand; beyond that the page says "10,000+".
    """
    cap = COUNT_CAP if cap is None else cap
    page = max(1, page)
    stmt = filtered.order_by(*ordering).limit(per_page).offset((page - 1) * per_page)
    rows = list(db.session.scalars(stmt))
    if total is None:  # else the caller counted it a cheaper way
        capped = filtered.with_only_columns(key_column).limit(cap + 1)
        total = db.session.scalar(select(func.count()).select_from(capped.subquery()))
    return ResultPage(rows, min(total, cap), total > cap, page, per_page)
