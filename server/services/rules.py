"""Site rules (the policy's confidentiality principle): versions and signatures.

Visitors sign the newest version of the rules on the kiosk, in the language they read.
A signature stays valid for ``KioskSettings.rules_valid_days`` days for the same
visitor (matched by ``visitor_key``: email, else phone digits, else name + company);
a new version asks everyone again.
"""
from datetime import timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import Signature, SiteRules, Visit, Visitor, utcnow
from server.services import kiosk_settings


def current() -> SiteRules | None:
    """The newest published version, or None when the site has no rules."""
    return db.session.scalar(select(SiteRules).order_by(SiteRules.version.desc()).limit(1))


def visitor_key(visitor: Visitor) -> str:
    """Who signed, across visits: the email, else the phone's digits, else name|company."""
    if visitor.email:
        return "email:" + visitor.email.strip().lower()
    digits = "".join(c for c in visitor.phone or "" if c.isdigit())
    if len(digits) >= 6:
        return "phone:" + digits
    return "name:" + " ".join(visitor.name.lower().split()) + "|" + \
        " ".join((visitor.company or "").lower().split())


def valid_signature(visit: Visit, rules: SiteRules) -> Signature | None:
    """This visitor's signature on ``rules`` that is still within its validity."""
    days = kiosk_settings.get().rules_valid_days
    since = utcnow() - timedelta(days=max(days, 0))
    return db.session.scalar(
        select(Signature).where(Signature.visitor_key == visitor_key(visit.visitor),
                                Signature.version == rules.version,
                                Signature.signed_at >= since)
        .order_by(Signature.signed_at.desc()).limit(1))


def needs_signature(visit: Visit) -> SiteRules | None:
    """The rules this visitor must sign before checking in, or None."""
    rules = current()
    if rules is None or valid_signature(visit, rules) is not None:
        return None
    return rules
