"""Request size limits: every body is bounded before it is read.

``MAX_CONTENT_LENGTH`` (config, default 1 MB) bounds every request; a view that takes
an upload says how much more it needs with ``@upload_limit(bytes)``. The limit must
be known before anything reads the body, and CSRF protection reads the form in a
``before_request`` hook, before the view runs: so the request class looks the view's
limit up from the matched endpoint (known once the URL is routed). Too large: 413
``too_large`` (JSON under /api) before the body is read (the Content-Length is
checked first; a chunked body is cut off at the limit).
"""

from collections.abc import Callable
from typing import TypeVar

from flask import Request, current_app

F = TypeVar("F", bound=Callable)


def upload_limit(max_bytes: int) -> Callable[[F], F]:
    """Let this view's requests be up to ``max_bytes`` (body and any one form field)."""

    def mark(view: F) -> F:
        view._max_body = max_bytes  # type: ignore[attr-defined]
        return view

    return mark


class LimitedRequest(Request):
    """A request whose size limits follow the matched view's ``upload_limit``."""

    def _view_limit(self) -> int | None:
        if self.url_rule is None or not current_app:
            return None
        view = current_app.view_functions.get(self.url_rule.endpoint)
        return getattr(view, "_max_body", None)

    @property
    def max_content_length(self) -> int | None:
        return self._view_limit() or super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @property
    def max_form_memory_size(self) -> int | None:
        # A data-URL form field (a photo, a signature) is the upload itself.
        return self._view_limit() or super().max_form_memory_size

    @max_form_memory_size.setter
    def max_form_memory_size(self, value: int | None) -> None:
        self._max_form_memory_size = value
