"""The materials of a reception summary (接待总结, REQUIREMENTS.md D; issue 15 item 4):
the files the host attaches after the visit — the agenda, the slides, a photo of the
welcome banner — kept with the request as ``RequestMaterial`` rows (the bytes in the
database, like expense receipts).

Contract:
- ``attach(request_id, by, data, filename)``: whoever may write the request's summary
  (its requester or an admin, as ``closure.write_summary``; anyone else who may see the
  request: ``not_yours``, 403; anyone who may not: ``unknown_request``, 404) attaches a
  file to an approved request (``not_approved``, 409). Accepted: PDF, PNG, JPEG, WebP
  and Word/Excel/PowerPoint (.docx, .xlsx, .pptx), judged by what the bytes really are
  (server/services/filetypes.py: images decoded, PDFs whole, Office files opened as ZIPs
  without extracting, macros and ZIP bombs refused), at most 20 MB each
  (``invalid_material``, 422, ``fields={"file": why}``), at most 30 per request
  (``too_many_materials``, 409; the request's row is locked, so two uploads at once
  cannot both take the 30th place). The name is kept as given (Chinese and all) minus
  any folder, control or bidi characters and the characters Windows refuses, at most
  200 characters, and ends in the extension of what the file really is (one is added
  when it does not: ``agenda.exe`` that is a PDF is kept as ``agenda.exe.pdf``). A file
  may be attached after the request closed: the archive only grows.
- ``remove(material_id, by)``: the requester or an admin removes one while the request
  is open; once it is closed (summary written, expenses settled, answers given) its
  materials are the archive an auditor reads, and removing is ``request_closed`` (409).
- ``listing(req)``: the request's materials, oldest first, without their bytes.
- ``get(material_id, user)``: one material with its bytes, for whoever may see the
  request (``hospitality.visible``); anyone else ``unknown_material`` (404, no probing).
  ``find``: the same without the bytes.
- ``download(material)``: the file as an HTTP answer: an attachment under its name
  (RFC 5987 ``filename*`` for a name like 张伟-议程.pdf, an ASCII ``filename`` beside
  it), its real type, ``X-Content-Type-Options: nosniff``, ``Content-Security-Policy:
  sandbox`` (a PDF or an image opened in the browser runs nothing and reaches no
  cookie), ``Cache-Control: private``.
Every attach and remove writes an audit entry (``request.material_attach`` /
``request.material_remove`` on the request: the material's id, name, type, size and
SHA-256, never its bytes).

Retention: materials are kept with their request, as its money records are (issue 15
item 8): ``services/retention.py`` anonymises visits and visitors and never deletes a
request or anything of it, and ``lobby visitor forget`` does not touch requests either.
"""

from __future__ import annotations

import hashlib
import unicodedata
from urllib.parse import quote

from flask import Response, request
from sqlalchemy import func, select
from sqlalchemy.orm import defer, joinedload

from server.extensions import db
from server.models import HospitalityRequest, RequestMaterial, User
from server.policy import requests as hospitality
from server.services import audit, clock, filetypes
from server.services.errors import Conflict, Forbidden, NotFound, ValidationError
from server.services.tx import write

MAX_SIZE = 20 * 1024 * 1024
MAX_PER_REQUEST = 30
MAX_NAME = 200
ACCEPTED = (filetypes.PDF, *filetypes.IMAGES, *filetypes.OFFICE)
ACCEPT_ATTR = ",".join(
    [*ACCEPTED, *(e for t in ACCEPTED for e in filetypes.EXTENSIONS[t])]
)  # the file input's ``accept``: a hint to the browser, not a check
_WINDOWS_REFUSES = set('<>:"/\\|?*')


def may_edit(req: HospitalityRequest, user: User) -> bool:
    """May ``user`` attach or remove the materials of ``req``? (the summary's writers)"""
    return req.requester_id == user.id or user.has_role("admin")


def clean_name(filename: str | None, kind: str) -> str:
    """The name a file is kept and downloaded under (see the module docstring)."""
    name = unicodedata.normalize("NFC", filename or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        "_" if ch in _WINDOWS_REFUSES else ch
        for ch in name
        if unicodedata.category(ch)[0] != "C"  # controls, bidi overrides, unassigned
    )
    name = name.strip().strip(".").strip()
    extensions = filetypes.EXTENSIONS[kind]
    stem, dot, ext = name.rpartition(".")
    if not (dot and stem and "." + ext.lower() in extensions):
        stem, ext = name, extensions[0][1:]
    stem = stem or "material"
    return stem[: MAX_NAME - len(ext) - 1].rstrip() + "." + ext


def _refuse(why: str) -> ValidationError:
    return ValidationError(
        "invalid_material", f"the file is not accepted: {why}", fields={"file": why}
    )


def check(data: bytes | None) -> str:
    """The real type of an upload we accept, else ``invalid_material`` (422)."""
    if not data:
        raise _refuse("required: a file")
    if len(data) > MAX_SIZE:
        raise ValidationError(
            "invalid_material",
            f"the file is larger than {MAX_SIZE // 2**20} MB",
            fields={"file": f"at most {MAX_SIZE // 2**20} MB"},
        )
    try:
        return filetypes.check(data, ACCEPTED)
    except filetypes.UnknownType:
        raise _refuse(
            "a PDF, a picture (PNG, JPEG, WebP) or a Word, Excel or PowerPoint file"
        ) from None
    except ValueError as e:
        raise _refuse(str(e)) from None


def _locked(session, request_id: int) -> HospitalityRequest:
    req = session.scalar(
        select(HospitalityRequest).where(HospitalityRequest.id == request_id).with_for_update()
    )
    if req is None:
        raise NotFound("unknown_request", f"no request {request_id}")
    return req


def _facts(m: RequestMaterial) -> dict:
    return {
        "material": m.id,
        "name": m.name,
        "type": m.content_type,
        "size": m.size,
        "sha256": m.sha256,
    }


def attach(request_id: int, by: User, data: bytes | None, filename: str | None) -> RequestMaterial:
    """Attach one file to the request's summary (see the module docstring). Returns the
    material, detached from the session with its bytes (nothing is read back)."""
    req = hospitality.visible(by, request_id)  # 404 for who may not see it
    if not may_edit(req, by):
        raise Forbidden("not_yours", "the requester (or an admin) attaches the materials")
    kind = check(data)
    assert data is not None
    with write() as session:
        req = _locked(session, request_id)
        if req.status != "approved":
            raise Conflict("not_approved", f"request {request_id} is {req.status}, not approved")
        count = session.scalar(
            select(func.count(RequestMaterial.id)).where(RequestMaterial.request_id == req.id)
        )
        if (count or 0) >= MAX_PER_REQUEST:
            raise Conflict(
                "too_many_materials",
                f"request {request_id} has {MAX_PER_REQUEST} materials already: "
                "remove one before attaching another",
            )
        material = RequestMaterial(
            request_id=req.id,
            name=clean_name(filename, kind),
            content_type=kind,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            data=data,
            uploaded_by_id=by.id,
        )
        session.add(material)
        session.flush()
        audit.record(
            session,
            "request.material_attach",
            actor=by,
            target_type="request",
            target_id=req.id,
            after=_facts(material),
        )
        material.uploaded_by  # noqa: B018  (loaded now: the caller reads it detached)
        session.expunge(material)  # not expired at commit: its 20 MB are not read back
    return material


def remove(material_id: int, by: User) -> dict:
    """Remove one material of an open request; returns what it was (as ``as_dict``)."""
    request_id = db.session.scalar(
        select(RequestMaterial.request_id).where(RequestMaterial.id == material_id)
    )
    if request_id is None:
        raise NotFound("unknown_material", f"no material {material_id}")
    req = _visible(by, request_id, material_id)
    if not may_edit(req, by):
        raise Forbidden("not_yours", "the requester (or an admin) removes the materials")
    with write() as session:
        req = _locked(session, request_id)
        material = session.scalar(
            select(RequestMaterial)
            .options(defer(RequestMaterial.data), joinedload(RequestMaterial.uploaded_by))
            .where(RequestMaterial.id == material_id, RequestMaterial.request_id == req.id)
        )
        if material is None:
            raise NotFound("unknown_material", f"no material {material_id}")
        if req.closed_at is not None:
            raise Conflict(
                "request_closed",
                f"request {req.id} is closed: its materials are archived and stay",
            )
        gone = as_dict(material)
        audit.record(
            session,
            "request.material_remove",
            actor=by,
            target_type="request",
            target_id=req.id,
            before=_facts(material),
        )
        session.delete(material)
    return gone


def listing(req: HospitalityRequest) -> list[RequestMaterial]:
    """The request's materials, oldest first, without their bytes."""
    return list(
        db.session.scalars(
            select(RequestMaterial)
            .options(defer(RequestMaterial.data), joinedload(RequestMaterial.uploaded_by))
            .where(RequestMaterial.request_id == req.id)
            .order_by(RequestMaterial.id)
        )
    )


def _visible(user: User, request_id: int, material_id: int) -> HospitalityRequest:
    try:
        return hospitality.visible(user, request_id)
    except NotFound:
        raise NotFound("unknown_material", f"no material {material_id}") from None


def find(material_id: int, user: User) -> RequestMaterial:
    """One material without its bytes, if ``user`` may see its request; else 404."""
    request_id = db.session.scalar(
        select(RequestMaterial.request_id).where(RequestMaterial.id == material_id)
    )
    if request_id is None:
        raise NotFound("unknown_material", f"no material {material_id}")
    _visible(user, request_id, material_id)  # expires the session: load the row after
    material = db.session.scalar(
        select(RequestMaterial)
        .options(defer(RequestMaterial.data), joinedload(RequestMaterial.uploaded_by))
        .where(RequestMaterial.id == material_id)
    )
    if material is None:
        raise NotFound("unknown_material", f"no material {material_id}")
    return material


def get(material_id: int, user: User) -> RequestMaterial:
    """One material with its bytes, if ``user`` may see its request; else 404."""
    request_id = db.session.scalar(
        select(RequestMaterial.request_id).where(RequestMaterial.id == material_id)
    )
    if request_id is None:
        raise NotFound("unknown_material", f"no material {material_id}")
    _visible(user, request_id, material_id)  # expires the session: load the row after
    material = db.session.get(RequestMaterial, material_id)
    if material is None:
        raise NotFound("unknown_material", f"no material {material_id}")
    return material


def url(material: RequestMaterial) -> str:
    return f"/api/v1/materials/{material.id}"


def as_dict(material: RequestMaterial) -> dict:
    by = material.uploaded_by
    return {
        "id": material.id,
        "request": material.request_id,
        "name": material.name,
        "type": material.content_type,
        "size": material.size,
        "sha256": material.sha256,
        "url": url(material),
        "uploaded_by": {"id": by.id, "name": by.name} if by else None,
        "created_at": clock.iso(material.created_at),
    }


def content_disposition(name: str, fallback: str) -> str:
    """``attachment`` with ``name`` as RFC 6266/5987 say: ``filename*`` in UTF-8
    (percent-encoded) for every browser of this decade, and an ASCII ``filename`` for
    the rest — ``name`` itself when it is plain ASCII, else ``fallback``."""
    plain = name.isascii() and all(32 <= ord(c) < 127 and c not in '"\\%;' for c in name)
    ascii_name = name if plain else fallback
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def download(material: RequestMaterial) -> Response:
    """The material as an HTTP answer (see the module docstring)."""
    ext = filetypes.EXTENSIONS.get(material.content_type, (".bin",))[0]
    resp = Response(material.data, mimetype=material.content_type)
    resp.headers["Content-Disposition"] = content_disposition(
        material.name, f"material-{material.id}{ext}"
    )
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "sandbox"
    resp.headers["Cache-Control"] = "private, no-cache"
    resp.set_etag(material.sha256)
    resp.make_conditional(request)  # 304 for a copy the browser holds (changes resp)
    return resp
