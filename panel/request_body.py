"""Request bodies of unknown length (``Transfer-Encoding: chunked``) held to MAX_CONTENT_LENGTH.

A chunked body has no Content-Length to refuse up front. Werkzeug 3.1 then reads it through a
stream capped at the limit that stops *at* the limit and hands back what it has: a body over
the limit arrives cut short, as if the client had sent less (the API saw truncated JSON and
answered 400; a cut that fell on whitespace even stored the order). Here the cap reads one
byte past the limit to tell a body of exactly the limit from a longer one, and refuses the
longer one with 413 Content Too Large.
"""
from __future__ import annotations

import io

from flask import Request
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.utils import cached_property


class CappedBody(io.RawIOBase):
    """A request body read up to ``limit`` bytes; reading on when more follow raises 413."""

    def __init__(self, stream, limit: int):
        self._stream = stream
        self._left = limit

    def readable(self) -> bool:
        """Tell ``io`` that this stream is for reading."""
        return True

    def readinto(self, buffer) -> int:
        """Read into ``buffer`` up to the limit; at the limit, raise 413 if the body goes on."""
        try:
            if self._left <= 0:
                if self._stream.read(1):
                    raise RequestEntityTooLarge()
                return 0
            data = self._stream.read(min(len(buffer), self._left))
        except (OSError, ValueError) as exc:  # the client went away mid-body
            raise ClientDisconnected() from exc
        buffer[: len(data)] = data
        self._left -= len(data)
        return len(data)


class PanelRequest(Request):
    """Flask's request, with chunked bodies over MAX_CONTENT_LENGTH refused (413)."""

    @cached_property
    def stream(self):
        """The body; a chunked one longer than MAX_CONTENT_LENGTH raises 413 when read."""
        limit = self.max_content_length
        if (self.content_length is None and limit is not None and not self.shallow
                and "wsgi.input_terminated" in self.environ):
            return CappedBody(self.environ["wsgi.input"], limit)
        return super().stream
