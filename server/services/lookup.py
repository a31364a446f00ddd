"""Finding a visitor by what they remember, at the kiosk: their surname plus their
company, or their surname plus the last four digits of their phone.

Used for "I have an appointment but no QR code" (today's expected visits) and "I'm
leaving" (visitors in the building). Leaving checks a visitor out (and off the
evacuation roster), so it asks for what only the visitor has: their surname plus the
last four digits of their phone (a company is public; the badge scan is the other
way). The answer is one visit or nothing: several
matches are nothing too, so the kiosk never shows a list of names to browse, and a
visitor cannot tell "no such name" from "too many such names".

Matching forgives what a visitor types on a touchscreen: case, accents ("muller"
finds José Müller), full-width characters and extra spaces. A surname is the family
name: for a Chinese name its first character or two (张 for 张伟, 欧阳 for 欧阳娜娜); for
a Western name its last word or words ("Lovelace", "van Rossum", "Rossum"), or the
first word of a name written family name first (pinyin "Zhang Wei").
"""

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select

from server.extensions import db
from server.models import Visit
from server.services import clock
from server.services.errors import ValidationError

MAX_TEXT = 100
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Query:
    surname: str
    company: str = ""
    phone_last4: str = ""


def fold(text: str) -> str:
    """``text`` for comparing: NFKC (full-width to ASCII), accents dropped, case folded,
    spaces collapsed."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text or ""))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


def _squash(text: str) -> str:
    """Folded, with every space and punctuation mark gone ("A.E. Ltd" -> "aeltd")."""
    return _NOT_WORD.sub("", fold(text))


def parse(surname, company=None, phone_last4=None) -> Query:
    """The visitor's entries as a Query; ValidationError with ``fields`` (codes:
    ``required``, ``too_long``, ``four_digits``, ``company_or_phone``) otherwise."""
    errors: dict[str, str] = {}
    values = {}
    for key, value in (("surname", surname), ("company", company), ("phone_last4", phone_last4)):
        value = value if isinstance(value, str) else ""
        value = " ".join(unicodedata.normalize("NFKC", value).split())
        if len(value) > MAX_TEXT:
            errors[key] = "too_long"
        values[key] = value
    if not values["surname"] and "surname" not in errors:
        errors["surname"] = "required"
    digits = values["phone_last4"].replace(" ", "").replace("-", "")
    if digits and not (len(digits) == 4 and digits.isascii() and digits.isdigit()):
        errors["phone_last4"] = "four_digits"
    if not values["company"] and not digits and "phone_last4" not in errors:
        errors["company"] = "company_or_phone"
    if errors:
        raise ValidationError(
            "invalid_lookup", "; ".join(f"{k}: {v}" for k, v in errors.items()), fields=errors
        )
    return Query(values["surname"], values["company"], digits)


def surname_matches(name: str, surname: str) -> bool:
    """Whether ``surname`` (as typed) is the family name of ``name``."""
    typed = fold(surname)
    full = fold(name)
    if not typed or not full:
        return False
    if _CJK.match(full):  # Chinese: family name first, no spaces (张伟, 欧阳娜娜)
        return full.replace(" ", "").startswith(typed.replace(" ", ""))
    words = full.split(" ")
    typed_words = typed.split(" ")
    n = len(typed_words)
    # The last words ("Lovelace", "van Rossum"), or the first (pinyin "Zhang Wei").
    return words[-n:] == typed_words or words[:n] == typed_words


def company_matches(company: str, typed: str) -> bool:
    """The booked company contains what was typed ("Analytical" finds "Analytical
    Engines"), or what was typed contains it ("Analytical Engines Ltd")."""
    booked, given = _squash(company), _squash(typed)
    if not booked or len(given) < 2:
        return False
    return given in booked or (len(booked) >= 3 and booked in given)


def phone_matches(phone: str, last4: str) -> bool:
    digits = "".join(c for c in unicodedata.normalize("NFKC", phone or "") if c.isdigit())
    return len(digits) >= 4 and digits.endswith(last4)


def matches(visit: Visit, query: Query) -> bool:
    person = visit.visitor
    if not surname_matches(person.name, query.surname):
        return False
    if query.company and not company_matches(person.company, query.company):
        return False
    return not query.phone_last4 or phone_matches(person.phone, query.phone_last4)


def _only(visits: list[Visit], query: Query) -> Visit | None:
    found = [v for v in visits if matches(v, query)]
    return found[0] if len(found) == 1 else None


def find_booking(surname, company=None, phone_last4=None) -> Visit | None:
    """Today's one expected visit matching, or None (nobody, or more than one).
    Invalid entries raise ValidationError (see ``parse``)."""
    query = parse(surname, company, phone_last4)
    start, end = clock.today_bounds()
    candidates = db.session.scalars(
        select(Visit).where(
            Visit.status == "expected", Visit.expected_at >= start, Visit.expected_at < end
        )
    )
    return _only(list(candidates.unique()), query)


def parse_leaving(surname, phone_last4=None) -> Query:
    """ "I'm leaving": the surname and the phone's last four digits, both required
    (``fields`` codes: ``required``, ``too_long``, ``four_digits``, ``phone_required``)."""
    phone = phone_last4 if isinstance(phone_last4, str) else ""
    if not phone.strip():
        try:  # the surname's own problems too, all at once
            parse(surname, "-")
        except ValidationError as e:
            raise ValidationError(
                "invalid_lookup", e.message, fields={**e.fields, "phone_last4": "phone_required"}
            ) from None
        raise ValidationError(
            "invalid_lookup",
            "phone_last4: phone_required",
            fields={"phone_last4": "phone_required"},
        )
    query = parse(surname, None, phone)
    return Query(query.surname, "", query.phone_last4)


def find_onsite(surname, phone_last4=None, **_ignored) -> Visit | None:
    """The one visitor in the building now with this surname and phone, or None (a
    company is not enough: anyone can read it off a badge). Invalid or missing
    entries raise ValidationError (see ``parse_leaving``)."""
    query = parse_leaving(surname, phone_last4)
    candidates = db.session.scalars(select(Visit).where(Visit.status == "checked_in"))
    return _only(list(candidates.unique()), query)


def mask_name(name: str) -> str:
    """Enough of a name to recognise oneself, not enough to learn someone else's:
    "Ada Lovelace" -> "Ada L.", "张伟" -> "张*", "欧阳娜娜" -> "欧***", "Plato" -> "P."."""
    name = " ".join((name or "").split())
    if not name:
        return ""
    if _CJK.match(name):
        compact = name.replace(" ", "")
        return compact[0] + "*" * min(len(compact) - 1, 3)
    words = name.split(" ")
    if len(words) == 1:
        return words[0][0] + "."
    return f"{words[0]} {words[-1][0]}."


def mask_company(company: str) -> str:
    """The first letter of each word, the rest dots: "Analytical Engines" ->
    "A••••••••• E••••••", "华为技术" -> "华•••" (a visitor recognises their company;
    someone trying names learns nothing from it)."""
    words = (company or "").split()
    return " ".join(w[0] + "•" * (len(w) - 1) for w in words)


def masked_identity(visit: Visit) -> dict:
    """What the confirm screen shows: visitor, company and host, each masked."""
    return {
        "name": mask_name(visit.visitor.name),
        "company": mask_company(visit.visitor.company or ""),
        "host": mask_name(visit.host.name),
    }
