"""Site rules (the policy's confidentiality principle): versions and signatures.

An admin publishes the rules in English and Simplified Chinese; each publication is
a new version (the previous one + 1), never an edit, so every signature names exactly
the text that was signed. Visitors sign the newest version on the kiosk, in the
language they read. A signature stays valid for ``KioskSettings.rules_valid_days``
days for the same visitor (matched by ``visitor_key``: email, else phone digits, else
name + company); a new version asks everyone again. A visitor who declines is sent
to reception, which is told (``desk_request``).
"""

import io
from dataclasses import dataclass
from datetime import timedelta

from PIL import Image, UnidentifiedImageError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server.extensions import db
from server.models import (
    LANGUAGES,
    Kiosk,
    Signature,
    SiteRules,
    User,
    Visit,
    Visitor,
    utcnow,
)
from server.services import checkin, desk, kiosk_settings
from server.services.errors import Conflict, ValidationError
from server.services.tx import write

MAX_TEXT = 20_000  # characters per language: a long NDA fits, a paste accident does not
MAX_PNG_BYTES = 1_000_000  # a signature canvas is tens of KB
MAX_SIDE = 4096  # pixels, checked before decoding (no decompression bombs)
MIN_SIDE = 40
MIN_INK_PIXELS = 60  # a tap or a stray dot is not a signature
MIN_INK_SPAN = 24  # ... and neither is a speck: the ink must span some pixels
KEEP_WIDTH = 1200  # stored signatures are scaled down to this width at most


def current() -> SiteRules | None:
    """The newest published version, or None when the site has no rules."""
    return db.session.scalar(select(SiteRules).order_by(SiteRules.version.desc()).limit(1))


def versions() -> list[SiteRules]:
    """Every published version, newest first."""
    return list(db.session.scalars(select(SiteRules).order_by(SiteRules.version.desc())))


def text_in(rules: SiteRules, language: str) -> str:
    return rules.text_zh if language == "zh" else rules.text_en


def _clean_text(value) -> str | None:
    if not isinstance(value, str):
        return None
    return "\n".join(
        line.rstrip() for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ).strip()


def publish(
    text_en,
    text_zh,
    user: User | None,
    base_version: int | None = None,
    privacy_en="",
    privacy_zh="",
) -> SiteRules:
    """Publish both texts as the next version. ``base_version`` is the version the
    editor started from: if someone published since, nothing is saved
    (Conflict ``rules_changed``), so nobody overwrites a version they never saw.
    Both texts are required (ValidationError ``invalid_rules`` with ``fields``);
    texts identical to the current version are refused (``unchanged``): a new version
    would make every visitor sign again for nothing. The privacy notice the kiosk
    shows with the rules (``privacy_en``/``privacy_zh``) is optional, but given in
    one language it is required in the other; it is versioned with the rules."""
    texts = {"text_en": _clean_text(text_en), "text_zh": _clean_text(text_zh)}
    privacy = {"privacy_en": _clean_text(privacy_en), "privacy_zh": _clean_text(privacy_zh)}
    errors = {}
    for field, text in texts.items():
        if not text:
            errors[field] = "required"
        elif len(text) > MAX_TEXT:
            errors[field] = f"at most {MAX_TEXT} characters"
    for field, text in privacy.items():
        if text is None:
            errors[field] = "text expected"
        elif not text and any(privacy.values()):
            errors[field] = "required in both languages"
        elif len(text) > MAX_TEXT:
            errors[field] = f"at most {MAX_TEXT} characters"
    if errors:
        raise ValidationError(
            "invalid_rules", "; ".join(f"{k}: {v}" for k, v in errors.items()), fields=errors
        )
    try:
        with write() as session:
            latest = session.scalar(select(SiteRules).order_by(SiteRules.version.desc()).limit(1))
            latest_version = latest.version if latest is not None else 0
            if base_version is not None and base_version != latest_version:
                raise Conflict(
                    "rules_changed",
                    f"version {latest_version} was published meanwhile; review it first",
                )
            if latest is not None and (
                latest.text_en,
                latest.text_zh,
                latest.privacy_en,
                latest.privacy_zh,
            ) == (texts["text_en"], texts["text_zh"], privacy["privacy_en"], privacy["privacy_zh"]):
                raise ValidationError("unchanged", "the texts are the same as the current version")
            rules = SiteRules(
                version=latest_version + 1,
                published_at=utcnow(),
                published_by_id=user.id if user is not None else None,
                **texts,
                **privacy,
            )
            session.add(rules)
    except IntegrityError as e:  # another process took this version number first
        db.session.rollback()
        raise Conflict("rules_changed", "another version was published at the same moment") from e
    return rules


def visitor_key(visitor: Visitor) -> str:
    """Who signed, across visits: the email, else the phone's digits, else name|company."""
    if visitor.email:
        return "email:" + visitor.email.strip().lower()
    digits = "".join(c for c in visitor.phone or "" if c.isdigit())
    if len(digits) >= 6:
        return "phone:" + digits
    return (
        "name:"
        + " ".join(visitor.name.lower().split())
        + "|"
        + " ".join((visitor.company or "").lower().split())
    )


def valid_signature(visit: Visit, rules: SiteRules) -> Signature | None:
    """This visitor's signature on ``rules`` that is still within its validity."""
    days = kiosk_settings.get().rules_valid_days
    since = utcnow() - timedelta(days=max(days, 0))
    return db.session.scalar(
        select(Signature)
        .where(
            Signature.visitor_key == visitor_key(visit.visitor),
            Signature.version == rules.version,
            Signature.signed_at >= since,
        )
        .order_by(Signature.signed_at.desc())
        .limit(1)
    )


def needs_signature(visit: Visit) -> SiteRules | None:
    """The rules this visitor must sign before checking in, or None."""
    rules = current()
    if rules is None or valid_signature(visit, rules) is not None:
        return None
    return rules


def signature_png(data) -> bytes:
    """``data`` checked to be a PNG of a real signature, returned re-encoded (dark ink
    on white, at most KEEP_WIDTH wide, no metadata). ValidationError
    ``invalid_signature`` when it is not a sane PNG, ``blank_signature`` when it holds
    too little ink to be anyone's signature."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise ValidationError("blank_signature", "please sign", fields={"signature": "required"})
    if len(data) > MAX_PNG_BYTES or not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValidationError(
            "invalid_signature",
            "the signature is not a PNG image of sane size",
            fields={"signature": "not a PNG"},
        )
    try:
        image = Image.open(io.BytesIO(data), formats=["PNG"])
        width, height = image.size
        if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
            raise ValidationError(
                "invalid_signature",
                "the signature image has an odd size",
                fields={"signature": "odd size"},
            )
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise ValidationError(
            "invalid_signature",
            "the signature is not a readable PNG",
            fields={"signature": "not a PNG"},
        ) from e
    # Flatten onto white: a canvas export is transparent where nobody drew.
    rgba = image.convert("RGBA")
    flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat.alpha_composite(rgba)
    gray = flat.convert("L")
    ink = gray.point(lambda p: 255 if p < 160 else 0)
    box = ink.getbbox()
    count = sum(ink.histogram()[255:])
    if (
        box is None
        or count < MIN_INK_PIXELS
        or max(box[2] - box[0], box[3] - box[1]) < MIN_INK_SPAN
    ):
        raise ValidationError(
            "blank_signature", "please sign in the box", fields={"signature": "blank"}
        )
    if gray.width > KEEP_WIDTH:
        gray = gray.resize(
            (KEEP_WIDTH, max(1, round(gray.height * KEEP_WIDTH / gray.width))),
            Image.Resampling.LANCZOS,
        )
    out = io.BytesIO()
    gray.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _by_attempt(key: str) -> Signature | None:
    return db.session.scalar(select(Signature).where(Signature.attempt_key == key))


def sign(
    visit: Visit, rules_id, language: str, png_bytes, kiosk=None, attempt_key: str | None = None
) -> Signature:
    """Record ``visit``'s visitor signing the rules ``rules_id`` in ``language``.

    Refused with Conflict ``rules_changed`` unless ``rules_id`` is the current version
    (the visitor read something else), with the check-in refusals for a visit that
    cannot check in (cancelled, another day, left), and as in ``signature_png`` for a
    bad image. A retry with the same ``attempt_key`` returns the first signature."""
    if attempt_key:
        existing = _by_attempt(attempt_key)
        if existing is not None:
            if existing.visit_id != visit.id:
                raise Conflict("attempt_reused", "this attempt key belongs to another visit")
            return existing
    if language not in LANGUAGES:
        raise ValidationError(
            "invalid_language", "language must be zh or en", fields={"language": "zh or en"}
        )
    checkin.refuse_if_not_admissible(visit)
    rules = current()
    if rules is None or not isinstance(rules_id, int) or rules_id != rules.id:
        raise Conflict("rules_changed", "the site rules have changed; read the new version")
    png = signature_png(png_bytes)
    key = visitor_key(visit.visitor)
    try:
        with write() as session:
            signature = Signature(
                visit_id=visit.id,
                rules_id=rules.id,
                version=rules.version,
                language=language,
                visitor_key=key,
                image_png=png,
                signed_at=utcnow(),
                kiosk_id=kiosk.id if kiosk else None,
                attempt_key=attempt_key or None,
            )
            session.add(signature)
    except IntegrityError:  # the same attempt raced in from a retry: it is one signature
        db.session.rollback()
        existing = _by_attempt(attempt_key) if attempt_key else None
        if existing is None:
            raise
        return existing
    return signature


def sign_on_paper(visit: Visit, rules: SiteRules, witness: User) -> Signature:
    """Record that ``visit``'s visitor signed ``rules`` on paper at the desk, witnessed
    by ``witness`` (who keeps the paper). It covers later visits as a kiosk signature
    does; there is no image to show, only who witnessed it."""
    with write() as session:
        signature = Signature(
            visit_id=visit.id,
            rules_id=rules.id,
            version=rules.version,
            language=visit.language or "",
            visitor_key=visitor_key(visit.visitor),
            image_png=None,
            on_paper=True,
            witnessed_by_id=witness.id,
            signed_at=utcnow(),
        )
        session.add(signature)
    return signature


def decline(visit: Visit, rules_id, language: str, kiosk=None, attempt_key: str | None = None):
    """The visitor does not accept the rules: reception is asked to help (one
    ``rules_declined`` desk request per attempt, told live to the desk)."""
    rules = db.session.get(SiteRules, rules_id) if isinstance(rules_id, int) else None
    rules = rules or current()
    details = {
        "language": language if language in LANGUAGES else None,
        "version": rules.version if rules is not None else None,
    }
    return desk.open_request(
        "rules_declined", visit=visit, kiosk=kiosk, details=details, attempt_key=attempt_key
    )


@dataclass
class SignatureInfo:
    """What staff see of a visit's signature: whose, which version, when; ``earlier``
    when it was made on a previous visit and still covered this one. ``private``: it
    was made on a visit the viewer may not see (another host's visitor, matched by
    email, phone or name): the viewer is told only that a signature of that version
    covers the visit, never its image, language or time."""

    signature: Signature
    earlier: bool
    private: bool = False


def may_see_visit(user: User | None, visit_id: int) -> bool:
    """Whether ``user`` may see visit ``visit_id`` (as ``visits.visible_visit``):
    reception and admins every visit, a host their own; None (the system) every one."""
    if user is None or user.is_staff_desk:
        return True
    return db.session.scalar(select(Visit.host_id).where(Visit.id == visit_id)) == user.id


def signature_for(visit: Visit, viewer: User | None = None) -> SignatureInfo | None:
    """The signature that covers ``visit``: the one made on it, else the visitor's
    newest signature made before it (a still-valid one spared them signing again).
    Shown to ``viewer`` (None: the system, which sees all): a reused signature made on
    a visit the viewer may not see comes back ``private``. A host who books someone
    with another host's visitor's email must not read her signature or when she
    signed."""
    own = db.session.scalar(
        select(Signature)
        .where(Signature.visit_id == visit.id)
        .order_by(Signature.signed_at.desc())
        .limit(1)
    )
    if own is not None:
        return SignatureInfo(own, earlier=False)
    until = visit.checked_in_at or utcnow()
    earlier = db.session.scalar(
        select(Signature)
        .where(Signature.visitor_key == visitor_key(visit.visitor), Signature.signed_at <= until)
        .order_by(Signature.signed_at.desc())
        .limit(1)
    )
    if earlier is None:
        return None
    return SignatureInfo(earlier, earlier=True, private=not may_see_visit(viewer, earlier.visit_id))


def recent_signatures(limit: int = 20) -> list[tuple[Signature, Visit, str | None]]:
    """The latest signatures, each with its visit and the kiosk's name."""
    rows = db.session.execute(
        select(Signature, Visit, Kiosk.name)
        .join(Visit, Signature.visit_id == Visit.id)
        .outerjoin(Kiosk, Signature.kiosk_id == Kiosk.id)
        .order_by(Signature.signed_at.desc(), Signature.id.desc())
        .limit(limit)
    )
    return [(signature, visit, kiosk) for signature, visit, kiosk in rows]


def signature_counts() -> dict[int, int]:
    """How many signatures each version (by id) has."""
    rows = db.session.execute(select(Signature.rules_id, func.count()).group_by(Signature.rules_id))
    return {rules_id: n for rules_id, n in rows}
