"""Printers and kiosks: naming printers, pairing and revoking kiosks."""

import hmac
import secrets

from flask import current_app
from sqlalchemy import select

from printers.connection import PrinterError, parse_printer_url
from server.extensions import db
from server.models import Kiosk, Printer, hash_token, utcnow
from server.services import sessions
from server.services.errors import Conflict, Forbidden, NotFound, ServiceError, ValidationError
from server.services.tx import write


def add_printer(name: str, url: str) -> Printer:
    """Name a printer once; the URL is checked now, not at the first badge.
    Refusals carry ``fields`` (``name``, ``url``) for the admin form."""
    name, url = (name or "").strip(), (url or "").strip()
    if not name or len(name) > 120:
        raise ValidationError(
            "invalid_name",
            "printer name is required (at most 120 characters)",
            fields={"name": "required, at most 120 characters"},
        )
    try:
        if len(url) > 500:
            raise PrinterError("bad_url", "a printer URL has at most 500 characters")
        parse_printer_url(url)
    except PrinterError as e:
        raise ValidationError("bad_url", str(e), fields={"url": e.message}) from e
    with write() as session:
        if session.scalar(select(Printer).where(Printer.name == name)):
            raise Conflict(
                "printer_exists",
                f"a printer named {name} exists",
                fields={"name": "a printer with this name exists"},
            )
        printer = Printer(name=name, url=url)
        session.add(printer)
    return printer


def printer_by_name(name: str, field: str = "printer") -> Printer:
    printer = db.session.scalar(select(Printer).where(Printer.name == name))
    if printer is None:
        raise NotFound(
            "unknown_printer", f"no printer named {name}", fields={field: "no such printer"}
        )
    return printer


def print_sample(name: str) -> str:
    """Print the sample badge on printer ``name`` now, past the queue (what an admin
    does after plugging a printer in). Returns "confirmed" or "unconfirmed"; a
    printer that fails raises ServiceError with the printer's code (``unreachable``,
    ``paper_out``, ...) and status 502."""
    from printers.badge import render_badge
    from printers.connection import paper_width, print_job
    from server.services import badges

    target = printer_by_name(name)
    width = paper_width(target.url)
    image = render_badge(badges.sample_badge(), width=width, layout=badges.current_layout(width))
    try:
        return print_job(target.url, image, timeout=current_app.config["PRINTER_TIMEOUT"])
    except PrinterError as e:
        raise ServiceError(e.code, f"printer {name}: {e.code}: {e.message}", status=502) from e


def kiosks() -> list[Kiosk]:
    return list(db.session.scalars(select(Kiosk).order_by(Kiosk.name)))


def _kiosk_printers(printer: str | None, fallback: str | None) -> tuple[int | None, int | None]:
    """Printer ids for a kiosk's printer and fallback names ("" or None for none)."""
    printer_id = printer_by_name(printer).id if printer else None
    fallback_id = printer_by_name(fallback, "fallback").id if fallback else None
    if fallback_id is not None and fallback_id == printer_id:
        raise ValidationError(
            "fallback_same",
            "the fallback printer is the kiosk's own printer",
            fields={"fallback": "choose another printer than the kiosk's own"},
        )
    return printer_id, fallback_id


def add_kiosk(
    name: str, printer: str | None = None, fallback: str | None = None, language: str | None = None
) -> tuple[Kiosk, str]:
    """Create a kiosk; returns it and its one-time pairing path ``/kiosk/pair/<token>``.
    ``fallback`` names the printer used while the kiosk's own printer is down."""
    from server.models import LANGUAGES

    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationError(
            "invalid_name",
            "kiosk name is required (at most 120 characters)",
            fields={"name": "required, at most 120 characters"},
        )
    if language and language not in LANGUAGES:
        raise ValidationError(
            "invalid_language",
            f"language must be one of {', '.join(LANGUAGES)}",
            fields={"language": "zh or en"},
        )
    printer_id, fallback_id = _kiosk_printers(printer, fallback)
    token = secrets.token_urlsafe(32)
    with write() as session:
        if session.scalar(select(Kiosk).where(Kiosk.name == name)):
            raise Conflict(
                "kiosk_exists",
                f"a kiosk named {name} exists",
                fields={"name": "a kiosk with this name exists"},
            )
        kiosk = Kiosk(
            name=name,
            printer_id=printer_id,
            fallback_printer_id=fallback_id,
            pair_token_hash=hash_token(token),
        )
        if language:
            kiosk.language = language
        session.add(kiosk)
    return kiosk, f"/kiosk/pair/{token}"


def set_kiosk_printers(kiosk_id: int, printer: str | None, fallback: str | None) -> Kiosk:
    """Point kiosk ``kiosk_id`` at printer ``printer`` (a name; None or "" for the
    default printer) with ``fallback`` for while it is down."""
    printer_id, fallback_id = _kiosk_printers(printer, fallback)
    with write() as session:
        kiosk = session.get(Kiosk, kiosk_id)
        if kiosk is None:
            raise NotFound("unknown_kiosk", f"no kiosk {kiosk_id}")
        kiosk.printer_id, kiosk.fallback_printer_id = printer_id, fallback_id
    return kiosk


def pair_kiosk(token: str) -> tuple[Kiosk, str]:
    """Use a pairing token once. Returns the kiosk and its device credential
    (``<id>.<secret>``, for the cookie). A used or unknown token is refused."""
    with write() as session:
        kiosk = session.scalar(
            select(Kiosk).where(Kiosk.pair_token_hash == hash_token(token or "")).with_for_update()
        )
        if kiosk is None:
            raise Forbidden("pairing_refused", "this pairing link is unknown or already used")
        if kiosk.revoked_at:
            raise Forbidden("kiosk_revoked", "this kiosk was revoked")
        secret = secrets.token_urlsafe(32)
        kiosk.secret_hash = hash_token(secret)
        kiosk.pair_token_hash = None  # one use only
        kiosk.paired_at = utcnow()
    return kiosk, f"{kiosk.id}.{secret}"


def kiosk_for_credential(credential: str | None) -> Kiosk | None:
    """The paired, unrevoked kiosk holding this credential, else None."""
    kiosk_id, _, secret = (credential or "").partition(".")
    if not (kiosk_id.isascii() and kiosk_id.isdigit()) or len(kiosk_id) > 18 or not secret:
        return None  # not ours (an id past a database integer included)
    kiosk = db.session.get(Kiosk, int(kiosk_id))
    if kiosk is None or kiosk.revoked_at or not kiosk.secret_hash:
        return None
    return kiosk if hmac.compare_digest(kiosk.secret_hash, hash_token(secret)) else None


def revoke_kiosk(name: str) -> Kiosk:
    with write() as session:
        kiosk = session.scalar(select(Kiosk).where(Kiosk.name == name))
        if kiosk is None:
            raise NotFound("unknown_kiosk", f"no kiosk named {name}")
        kiosk.revoked_at = kiosk.revoked_at or utcnow()
    sessions.credentials_changed()  # its live socket is cut now
    return kiosk


def resolve_printer(session, kiosk: Kiosk | None = None, printer_name: str | None = None):
    """Where a badge prints: the kiosk's printer, else the named one, else the default
    printer URL. Returns (printer or None, url)."""
    if kiosk is not None and kiosk.printer_id:
        printer = session.get(Printer, kiosk.printer_id)
        return printer, printer.url
    if printer_name:
        printer = session.scalar(select(Printer).where(Printer.name == printer_name))
        if printer is None:
            raise NotFound("unknown_printer", f"no printer named {printer_name}")
        return printer, printer.url
    return None, current_app.config["DEFAULT_PRINTER"]


def new_pairing(name: str) -> str:
    """Issue a fresh one-time pairing path for an existing kiosk (a replaced tablet).
    The old device credential stops working."""
    token = secrets.token_urlsafe(32)
    with write() as session:
        kiosk = session.scalar(select(Kiosk).where(Kiosk.name == name))
        if kiosk is None:
            raise NotFound("unknown_kiosk", f"no kiosk named {name}")
        kiosk.pair_token_hash = hash_token(token)
        kiosk.secret_hash = None
        kiosk.paired_at = None
        kiosk.revoked_at = None
    sessions.credentials_changed()  # the old device's live socket is cut now
    return f"/kiosk/pair/{token}"


def set_kiosk_language(kiosk_id: int, language: str) -> Kiosk:
    """The language kiosk ``kiosk_id`` greets visitors in until they switch ("zh", "en";
    "" follows the browser's Accept-Language)."""
    from server.models import LANGUAGES

    if language not in (*LANGUAGES, ""):
        raise ValidationError(
            "invalid_language",
            f"language must be one of {', '.join(LANGUAGES)}",
            fields={"language": "zh or en"},
        )
    with write() as session:
        kiosk = session.get(Kiosk, kiosk_id)
        if kiosk is None:
            raise NotFound("unknown_kiosk", f"no kiosk {kiosk_id}")
        kiosk.language = language
    return kiosk
