"""Column helpers shared by the models."""
from datetime import UTC, datetime

from sqlalchemy import DateTime, String, TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and always read back as aware UTC.

    SQLite has no time zones; storing naive UTC on both databases keeps comparisons and
    indexes identical, and the application only ever sees aware datetimes.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def searchable_string(length: int):
    """A text column searched by prefix: in code point order on both databases, so that
    "starts with" is a range an ordinary index serves and means the same everywhere.

    SQLite compares text by its bytes (BINARY) already; PostgreSQL compares by the
    database's collation, under which a range need not be a prefix (a German or English
    collation orders case, hyphens and accents by other rules) and then no plain index
    serves ``LIKE 'x%'`` either. The column's own collation "C" fixes both, whatever
    collation the database was created with.
    """
    return String(length).with_variant(String(length, collation="C"), "postgresql")
