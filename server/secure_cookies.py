"""``Secure`` on every cookie a response to an HTTPS request sets.

The session, Flask-Login's remember cookie and the kiosk's device cookie (and any
later one) are set by three different pieces of code, each with its own static
``secure`` setting; the scheme is known only per request (a LAN kiosk may reach the
same server over plain HTTP, where a ``Secure`` cookie would never come back). So the
attribute is added in one place, on the way out: a WSGI middleware that sees the
request's scheme as Flask does, ``wsgi.url_scheme``, which ``ProxyFix`` (installed
outside this middleware when ``PROXY_HOPS`` is set) has already made the proxy's.

``LOBBY_SECURE_COOKIES=1`` still makes Flask mark the session and remember cookies
``Secure`` on every request, HTTP included.

``CookieSessions`` is Flask's cookie session, opened without its signer when the
request carries no session cookie (a kiosk or script with a bearer token).
"""

from collections.abc import Callable, Iterable
from typing import Any

from flask.sessions import SecureCookieSessionInterface


class CookieSessions(SecureCookieSessionInterface):
    """Flask's sessions; a request without the session cookie gets the new empty
    session Flask would give it, without building the cookie's signer first (about
    1.5% of an API check-in's CPU)."""

    def open_session(self, app, request):
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def _with_secure(value: str) -> str:
    attributes = [part.strip().lower() for part in value.split(";")[1:]]
    return value if "secure" in attributes else value + "; Secure"


class SecureCookies:
    """WSGI middleware: over HTTPS, ``Set-Cookie`` headers gain ``; Secure``."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        if environ.get("wsgi.url_scheme") != "https":
            return self.app(environ, start_response)

        def secure_start_response(status, headers, exc_info=None):
            headers = [
                (name, _with_secure(value) if name.lower() == "set-cookie" else value)
                for name, value in headers
            ]
            return start_response(status, headers, exc_info)

        return self.app(environ, secure_start_response)
