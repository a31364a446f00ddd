"""Changing a member of staff after they were added: details, roles, fallback contact,
disabling and re-enabling, passwords. The admin pages and ``lobby user update`` both
come here, so a rule (no admin disables themselves, a fallback is another active
host) holds everywhere.

A disabled user's login sessions end (signed out at their next request, live
sockets cut within seconds) and their API tokens stop answering (``user_for_token``
checks ``active``; this process's token cache is cleared at once). A new password
ends every other login session of that user."""

from server.models import User
from server.services import people, sessions
from server.services.errors import Conflict, NotFound
from server.services.tx import write

UNSET = object()  # "leave as is", where None means "clear"


def update_user(
    user_id: int,
    *,
    by: User | None = None,
    name: str | None = None,
    phone: str | None = None,
    department=UNSET,
    roles: list[str] | None = None,
    fallback=UNSET,
    active: bool | None = None,
    password: str | None = None,
) -> User:
    """Change what is given (None or UNSET leaves a field as it is; ``department=None``
    or ``""`` clears it; ``fallback`` is an id or email, None or "" clears it).
    ``by`` is the admin making the change: they cannot disable themselves
    (Conflict "cannot_disable_self") nor drop their own admin role
    (Conflict "cannot_remove_own_admin"). All is checked before anything is saved."""
    changes: dict = {}
    if name is not None:
        changes["name"] = people.normalise_name(name)
    if phone is not None:
        changes["phone"] = people.normalise_phone(phone)
    if department is not UNSET:
        changes["department"] = people.normalise_department(department)
    if roles is not None:
        changes["roles"] = ",".join(people.normalise_roles(roles))
    if password is not None:
        people.check_password_strength(password)
    if by is not None and by.id == user_id:  # changing one's own account
        if active is False:
            raise Conflict(
                "cannot_disable_self",
                "you cannot disable your own account",
                fields={"active": "you cannot disable yourself"},
            )
        if roles is not None and "admin" not in roles and by.has_role("admin"):
            raise Conflict(
                "cannot_remove_own_admin",
                "you cannot remove your own admin role",
                fields={"roles": "you cannot remove your own admin role"},
            )
    with write() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("unknown_user", f"no user {user_id}")
        if fallback is not UNSET:
            changes["fallback_contact_id"] = people.resolve_fallback(session, fallback, user.id)
        if active is not None:
            changes["active"] = bool(active)
        for field, value in changes.items():
            setattr(user, field, value)
        if password is not None:
            user.set_password(password)
            # Every other browser signed in as them is signed out (ASVS 3.3.3); an
            # admin changing their own password keeps the session they did it from.
            own = sessions.current_id() if by is not None and by.id == user_id else None
            sessions.end_all(session, user.id, "password", keep=own)
        if active is False:
            sessions.end_all(session, user.id, "disabled")
    if active is False:
        people.forget_tokens()  # a cached token's user must be looked up again
    if active is False or password is not None:
        sessions.credentials_changed()  # their live sockets are cut now
    return user


def set_active(user_id: int, active: bool, by: User | None = None) -> User:
    """Disable (``active=False``) or re-enable a user; see update_user for the rules."""
    return update_user(user_id, by=by, active=active)


def reset_password(user_id: int, password: str | None = None, by: User | None = None) -> str:
    """Set the typed ``password`` or, when none is typed, a generated one. Returns the
    new password, to be shown once (only its hash is kept)."""
    password = password or people.generate_password()
    update_user(user_id, by=by, password=password)
    return password
