"""Sign-in rate limits (OWASP ASVS 2.2.1): failed attempts are counted per account (the
submitted email, normalised) and per client address; past either limit the login form
answers 429 in both languages, and even the right password does not get in until the
window passes. Successful sign-ins are not counted, so a receptionist signing in again
is never locked out by their own success.

Storage: in memory for one process; the Redis of ``LOBBY_MESSAGE_QUEUE`` when it is set,
so every process of one site counts together (with an in-memory fallback while Redis
is unreachable: sign-in keeps working, limited per process).

Settings (``create_app`` overrides): ``LOGIN_LIMIT_ACCOUNT`` ("5/minute;20/hour"),
``LOGIN_LIMIT_ADDRESS`` ("30/minute"), ``LOGIN_LIMIT_KEY_PREFIX`` (keys in Redis)."""

from flask import Flask, Response, current_app, request

from server.extensions import limiter

ACCOUNT_LIMIT = "5/minute;20/hour"
ADDRESS_LIMIT = "30/minute"


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("MESSAGE_QUEUE") or "memory://")
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("LOGIN_LIMIT_ACCOUNT", ACCOUNT_LIMIT)
    app.config.setdefault("LOGIN_LIMIT_ADDRESS", ADDRESS_LIMIT)
    app.config.setdefault("LOGIN_LIMIT_KEY_PREFIX", "lobby")
    limiter.init_app(app)  # the JSON API skips its per-request pass (server/extensions.py)


def _prefix() -> str:
    return current_app.config["LOGIN_LIMIT_KEY_PREFIX"]


def account_key() -> str:
    """The account tried: the submitted email as sign-in looks it up."""
    email = (request.form.get("email") or "").strip().lower()[:254]
    return f"{_prefix()}:login-account:{email}"


def address_key() -> str:
    """The client's address (behind a proxy, as ProxyFix reports it with PROXY_HOPS)."""
    return f"{_prefix()}:login-address:{request.remote_addr or '-'}"


def failed(response: Response) -> bool:
    """A sign-in that was tried and did not get in (a success redirects; an attempt
    refused by a limit checked no password, so it is not counted again)."""
    return response.status_code not in (301, 302, 303, 429)


def _account_limit() -> str:
    return current_app.config["LOGIN_LIMIT_ACCOUNT"]


def _address_limit() -> str:
    return current_app.config["LOGIN_LIMIT_ADDRESS"]


per_account = limiter.limit(
    _account_limit, key_func=account_key, methods=["POST"], deduct_when=failed
)
per_address = limiter.limit(
    _address_limit, key_func=address_key, methods=["POST"], deduct_when=failed
)
