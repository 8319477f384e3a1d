"""Progress of a long command: a bar redrawn in place on a terminal, plain lines elsewhere.

Both say how far it is, how fast it goes and how long it has left; the rate is measured over
the last minute, so the estimate follows a job that slows down as its tables grow.
"""
from __future__ import annotations

import sys
import time
from collections import deque

BAR_WIDTH = 24


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """Report ``done`` of ``total`` things (``unit``) as a job goes on.

    On a terminal (``tty``, by default whether ``stream`` is one) a single line is redrawn at
    most every ``redraw`` seconds: a bar, the count, the rate and the time left. Elsewhere (a
    log, a pipe) a plain line is written at most every ``every`` seconds, and at the end.
    """

    def __init__(self, total: int, *, unit: str = "orders", stream=None, tty: bool | None = None,
                 every: float = 10.0, redraw: float = 0.2, window: float = 60.0,
                 clock=time.monotonic):
        self.total, self.unit = max(0, total), unit
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.every = redraw if self.tty else every
        self.window, self.clock = window, clock
        self.started = clock()
        self.samples: deque[tuple[float, int]] = deque([(self.started, 0)])
        self.done = 0
        self._shown_at: float | None = None
        self._shown_done: int | None = None
        self._finished = False
        self._width = 0

    def rate(self) -> float:
        """Things per second over the last ``window`` seconds (since the start, before)."""
        now, done = self.samples[-1]
        then, done_then = self.samples[0]
        return (done - done_then) / (now - then) if now > then else 0.0

    def left(self) -> float | None:
        """Seconds still to go at the current rate (None while there is no rate yet)."""
        rate = self.rate()
        return (self.total - self.done) / rate if rate > 0 else None

    def update(self, done: int) -> None:
        now = self.clock()
        self.done = min(done, self.total) if self.total else done
        self.samples.append((now, self.done))
        while len(self.samples) > 2 and self.samples[1][0] <= now - self.window:
            self.samples.popleft()
        if self._shown_at is None or now - self._shown_at >= self.every:
            self._show(now)

    def finish(self) -> None:
        """The last line (on a terminal: the bar at its end, and a line break); once."""
        if self._finished:
            return
        self._finished = True
        if self.tty or self._shown_done != self.done:
            self._show(self.clock())
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def line(self) -> str:
        total = self.total or 1
        percent = 100 * self.done / total
        left = self.left()
        rate = self.rate()
        parts = [f"{self.done:,} / {self.total:,} {self.unit}", f"{percent:3.0f} %"]
        parts.append(f"{rate:,.0f} {self.unit}/s" if rate else f"- {self.unit}/s")
        if self.done >= self.total:
            parts.append(f"{duration(self.clock() - self.started)} in all")
        else:
            parts.append(f"{duration(left)} left" if left is not None else "time left unknown")
        if not self.tty:
            return "  " + ", ".join(parts)
        filled = int(BAR_WIDTH * self.done / total)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        return f"  [{bar}] " + "  ".join(parts)

    def _show(self, now: float) -> None:
        self._shown_at, self._shown_done = now, self.done
        text = self.line()
        if self.tty:
            padding = " " * max(0, self._width - len(text))
            self._width = len(text)
            self.stream.write("\r" + text + padding)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
