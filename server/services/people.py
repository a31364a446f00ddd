"""Staff users, passwords and API tokens."""
import re
import secrets
import threading
import time

from sqlalchemy import select

from server.extensions import db
from server.models import ROLES, ApiToken, User, hash_token, utcnow
from server.services.errors import Conflict, NotFound, ValidationError
from server.services.tx import write

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise ValidationError("invalid_email", f"not an email address: {email!r}",
                              fields={"email": "not an email address"})
    return email


def create_user(email: str, name: str, roles: list[str] | str, password: str | None = None,
                department: str | None = None) -> User:
    """Add a member of staff. Raises ValidationError/Conflict("user_exists")."""
    email = normalise_email(email)
    roles = [roles] if isinstance(roles, str) else list(roles)
    bad = [r for r in roles if r not in ROLES]
    if not roles or bad:
        raise ValidationError("invalid_role", f"role must be one of {', '.join(ROLES)}",
                              fields={"role": "unknown role"})
    name = (name or "").strip()
    if not name:
        raise ValidationError("invalid_name", "name is required", fields={"name": "required"})
    with write() as session:
        if session.scalar(select(User).where(User.email == email)):
            raise Conflict("user_exists", f"a user with email {email} exists")
        user = User(email=email, name=name, roles=",".join(roles), department=department)
        if password:
            user.set_password(password)
        session.add(user)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, else None (same answer for both)."""
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user and user.active and user.check_password(password or ""):
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
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.id)))


def revoke_token(token_id: int) -> None:
    with write() as session:
        tok = session.get(ApiToken, token_id)
        if tok is None:
            raise NotFound("unknown_token", f"no token {token_id}")
        tok.revoked_at = tok.revoked_at or utcnow()
    forget_tokens()


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
    user = db.session.scalar(select(User).join(ApiToken, ApiToken.user_id == User.id).where(
        ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None), User.active.is_(True)))
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
