"""When the outbox tries a message again: a few quick tries, then one try per interval for
a period, and only then the message is given up as undeliverable (visibly; a person's retry
still sends it). Plain arithmetic over the settings, so it is read and tested on its own."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

FIRST_QUICK_RETRY = timedelta(minutes=1)  # then 2, 4, 8 ... minutes


@dataclass(frozen=True)
class RetrySchedule:
    quick_tries: int  # tries with a doubling wait (1, 2, 4, 8 minutes) before the interval
    interval: timedelta  # the wait between later tries
    give_up_after: timedelta  # tries go on this long after the first

    @classmethod
    def from_config(cls, config) -> RetrySchedule:
        return cls(quick_tries=config["PANEL_MAIL_QUICK_TRIES"],
                   interval=config["PANEL_MAIL_RETRY_INTERVAL"],
                   give_up_after=config["PANEL_MAIL_GIVE_UP_AFTER"])

    def wait_after(self, attempts: int) -> timedelta:
        """How long to wait after the ``attempts``-th failed try."""
        if attempts < self.quick_tries:
            return min(FIRST_QUICK_RETRY * 2 ** (attempts - 1), self.interval)
        return self.interval

    def next_try(self, attempts: int, now: datetime, give_up_at: datetime) -> datetime | None:
        """When to try after a failure at ``now``; None when the period is over. The last
        try falls on ``give_up_at`` itself, so a period is always tried to its end."""
        if now >= give_up_at:
            return None
        return min(now + self.wait_after(attempts), give_up_at)
