"""Staff users, passwords and API tokens."""

import re
import secrets
import threading
import time

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from server.extensions import db
from server.models import ROLES, ApiToken, User, hash_token, utcnow
from server.services import sessions
from server.services.errors import Conflict, NotFound, ValidationError
from server.services.tx import write

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise ValidationError(
            "invalid_email",
            f"not an email address: {email!r}",
            fields={"email": "not an email address"},
        )
    return email


PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()./-]*$")
PASSWORD_MIN = 8


def normalise_phone(phone: str | None) -> str:
    """A phone number as typed ("+86 21 5555 0101", "(021) 555-0101"); "" for none.
    Raises ValidationError("invalid_phone") for anything else (letters, too short)."""
    phone = " ".join((phone or "").split())
    if not phone:
        return ""
    digits = sum(c.isdigit() for c in phone)
    if len(phone) > 50 or digits < 3 or not PHONE_RE.match(phone):
        raise ValidationError(
            "invalid_phone",
            f"not a phone number: {phone!r}",
            fields={"phone": "not a phone number: digits, spaces, + ( ) - only 电话号码格式不对"},
        )
    return phone


def normalise_roles(roles: list[str] | str) -> list[str]:
    """A non-empty list of known roles (ROLES order, no repeats)."""
    roles = [roles] if isinstance(roles, str) else list(roles or [])
    bad = [r for r in roles if r not in ROLES]
    if not roles or bad:
        raise ValidationError(
            "invalid_role",
            f"role must be one of {', '.join(ROLES)}"
            + (f", not {', '.join(map(str, bad))}" if bad else ""),
            fields={"roles": "choose at least one known role"},
        )
    return [r for r in ROLES if r in roles]


def normalise_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise ValidationError(
            "invalid_name",
            "name is required (at most 200 characters)",
            fields={"name": "required, at most 200 characters"},
        )
    return name


def normalise_department(department: str | None) -> str | None:
    department = " ".join((department or "").split())
    if len(department) > 120:
        raise ValidationError(
            "invalid_department",
            "department: at most 120 characters",
            fields={"department": "at most 120 characters"},
        )
    return department or None


def check_password_strength(password: str) -> str:
    if len(password or "") < PASSWORD_MIN or len(password) > 200:
        raise ValidationError(
            "weak_password",
            f"a password has {PASSWORD_MIN} to 200 characters",
            fields={"password": f"at least {PASSWORD_MIN} characters"},
        )
    return password


def generate_password() -> str:
    """A password to read out or paste once: 16 URL-safe characters, 96 random bits."""
    return secrets.token_urlsafe(12)


def resolve_fallback(session, fallback: int | str | None, user_id: int | None = None) -> int | None:
    """The id of the fallback contact named by ``fallback`` (a user id or email; None or
    "" for none). It must be another active user with the host role: "Alert fallback"
    reaches them on the host dashboard (their ``host:<id>`` room)."""
    if fallback in (None, "", 0):
        return None
    assert fallback is not None
    return stand_in(session, fallback, user_id, "fallback", "fallback contact")


def stand_in(session, named: int | str, user_id: int | None, field: str, role: str) -> int:
    """The id of the user ``named`` (an id or an email) who stands in for ``user_id`` as
    ``role`` (a fallback contact, a delegate): another active user with the host role,
    since alerts reach them on the host page. Refusals name ``field``:
    ``unknown_<field>``, ``<field>_is_self``, ``<field>_inactive``, ``<field>_not_host``."""
    raw = str(named).strip()
    if isinstance(named, int) or (raw.isascii() and raw.isdigit()):
        # an id past a database integer is nobody (not an overflow)
        found = session.get(User, int(raw)) if 0 < int(raw) < 2**63 else None
    else:
        found = session.scalar(select(User).where(User.email == raw.lower()))
    if found is None:
        raise ValidationError(
            f"unknown_{field}", f"no user {raw} to be the {role}", fields={field: "no such user"}
        )
    if user_id is not None and found.id == user_id:
        raise ValidationError(
            f"{field}_is_self",
            f"a user cannot be their own {role}",
            fields={field: "choose someone else"},
        )
    if not found.active:
        raise ValidationError(
            f"{field}_inactive",
            f"{found.email} is disabled",
            fields={field: "this user is disabled"},
        )
    if not found.has_role("host"):
        raise ValidationError(
            f"{field}_not_host",
            f"{found.email} is not a host, so alerts would not reach them",
            fields={field: "choose a host (alerts arrive on the host page)"},
        )
    return found.id


def create_user(
    email: str,
    name: str,
    roles: list[str] | str,
    password: str | None = None,
    department: str | None = None,
    phone: str | None = None,
    fallback: int | str | None = None,
) -> User:
    """Add a member of staff. ``fallback`` is the fallback contact's id or email.
    Raises ValidationError (fields by form name) or Conflict("user_exists")."""
    email = normalise_email(email)
    roles = normalise_roles(roles)
    name = normalise_name(name)
    department = normalise_department(department)
    phone = normalise_phone(phone)
    with write() as session:
        if session.scalar(select(User).where(User.email == email)):
            raise Conflict(
                "user_exists",
                f"a user with email {email} exists",
                fields={"email": "a user with this email exists"},
            )
        user = User(
            email=email,
            name=name,
            roles=",".join(roles),
            department=department,
            phone=phone,
            fallback_contact_id=resolve_fallback(session, fallback),
        )
        if password:
            user.set_password(password)
        session.add(user)
    return user


def staff() -> list[User]:
    """Every member of staff, active ones first, by name."""
    return list(db.session.scalars(select(User).order_by(User.active.desc(), User.name)))


def user_by_id(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("unknown_user", f"no user {user_id}")
    return user


_dummy_hash: str | None = None


def _dummy_password_hash() -> str:
    """A hash made the way real ones are (same method and cost), checked when there is
    no real one to check, so every wrong answer costs the same time."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = generate_password_hash(secrets.token_urlsafe(16))
    return _dummy_hash


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, else None (same answer for both).
    An unknown email, a disabled user or one without a password still pays for one
    password hash check, so the answer's timing does not tell them apart."""
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    stored = user.password_hash if user is not None and user.password_hash else None
    matches = check_password_hash(stored or _dummy_password_hash(), password or "")
    if user is not None and stored is not None and user.active and matches:
        return user
    return None


def user_by_email(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        raise NotFound("unknown_user", f"no user with email {email}")
    return user


def create_token(email: str, name: str = "") -> str:
    """A new API token for the user; only its hash is stored. Returns the token."""
    user = user_by_email(email)
    token = "lby_" + secrets.token_urlsafe(32)
    with write() as session:
        session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), name=name))
    return token


def tokens_of(email: str) -> list[ApiToken]:
    user = user_by_email(email)
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
        )
    )


def revoke_token(token_id: int) -> None:
    with write() as session:
        tok = session.get(ApiToken, token_id)
        if tok is None:
            raise NotFound("unknown_token", f"no token {token_id}")
        tok.revoked_at = tok.revoked_at or utcnow()
    forget_tokens()
    sessions.credentials_changed()  # a socket connected with it is cut now


# token hash -> (user, expiry). Integrations call the API many times a second; a
# token's user is looked up once per TOKEN_CACHE_SECONDS. Revoking clears this
# process's cache at once; other processes notice within TOKEN_CACHE_SECONDS.
TOKEN_CACHE_SECONDS = 5.0
_token_cache: dict[str, tuple[User, float]] = {}
_token_cache_lock = threading.Lock()


def user_for_token(token: str) -> User | None:
    """The active user behind a live (unrevoked) token, else None. The user returned is
    detached from the session (read-only use: id, name, roles)."""
    if not token:
        return None
    digest = hash_token(token)
    now = time.monotonic()
    with _token_cache_lock:
        hit = _token_cache.get(digest)
    if hit and hit[1] > now:
        return hit[0]
    user = db.session.scalar(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None), User.active.is_(True))
    )
    if user is None:
        return None
    db.session.expunge(user)
    with _token_cache_lock:
        if len(_token_cache) > 10_000:
            _token_cache.clear()
        _token_cache[digest] = (user, now + TOKEN_CACHE_SECONDS)
    return user


def forget_tokens() -> None:
    with _token_cache_lock:
        _token_cache.clear()


def hosts() -> list[User]:
    """Active staff who receive visitors (role host), by name."""
    q = select(User).where(User.active.is_(True), User.roles.contains("host")).order_by(User.name)
    return list(db.session.scalars(q))
