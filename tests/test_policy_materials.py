"""Issue 15 item 4: the files attached to the reception summary (接待总结), on real
databases through the JSON API and the request page: judged by what the bytes really
are (a real PDF, a PNG, a real .xlsx and a hand-made .docx taken; an executable named
.pdf, a macro document, a ZIP bomb refused), at most 20 MB each and 30 per request, only
for who may see the request, downloaded as an attachment under its (Chinese) name with
nosniff and a sandbox, audited on attach and remove, kept once the request is closed
and through the retention purge."""

import hashlib
import io
import zipfile
from datetime import timedelta
from urllib.parse import unquote

import openpyxl
import pypdf
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEntry, RequestMaterial, User, utcnow
from server.policy import materials
from server.services import filetypes, retention
from server.services.errors import Conflict
from tests.conftest import PASSWORD, auth, csrf_from, login
from tests.test_browser import (
    browser,  # noqa: F401 - pytest fixture (device needs it)
    device,  # noqa: F401 - pytest fixture
    staff_page,
)
from tests.test_policy_expenses import approved, png
from tests.test_policy_requests import body, office, when  # noqa: F401  (fixture)


def pdf() -> bytes:
    """A real PDF, written by pypdf (one blank A4 page)."""
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def xlsx() -> bytes:
    """A real Excel workbook, written by openpyxl."""
    book = openpyxl.Workbook()
    book.active["A1"] = "议程 agenda"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="{main}"/></Types>'
)
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"


def office_zip(main: str = DOCX_MAIN, parts: dict | None = None, types: bool = True) -> bytes:
    """A Word-like ZIP: [Content_Types].xml naming ``main`` and word/document.xml."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        if types:
            z.writestr("[Content_Types].xml", CONTENT_TYPES.replace("{main}", main))
        z.writestr("word/document.xml", "<w:document><w:body>接待</w:body></w:document>")
        for name, data in (parts or {}).items():
            z.writestr(name, data)
    return out.getvalue()


def attach(client, token, rid, data, name):
    return client.post(
        f"/api/v1/requests/{rid}/materials",
        data={"file": (io.BytesIO(data), name)},
        headers=auth(token),
        content_type="multipart/form-data",
    )


def refusal(resp) -> tuple[int, str, str]:
    error = resp.get_json()["error"]
    return resp.status_code, error["code"], (error.get("fields") or {}).get("file", "")


def test_files_are_taken_for_what_their_bytes_are(client, office):  # noqa: F811
    rid = approved(client, office)
    rita = office["rita"]
    taken = {}
    for data, name, kind in (
        (pdf(), "agenda.pdf", filetypes.PDF),
        (png(), "banner.png", filetypes.PNG),
        (xlsx(), "budget.xlsx", filetypes.XLSX),
        (office_zip(), "minutes.docx", filetypes.DOCX),
    ):
        r = attach(client, rita, rid, data, name)
        assert r.status_code == 201, r.get_json()
        got = r.get_json()
        assert (got["name"], got["type"], got["size"]) == (name, kind, len(data))
        assert got["sha256"] == hashlib.sha256(data).hexdigest()
        assert got["url"] == f"/api/v1/materials/{got['id']}"
        assert got["uploaded_by"]["name"] == "Rita Sales"
        taken[got["id"]] = data
    listed = client.get(f"/api/v1/requests/{rid}/materials", headers=auth(rita)).get_json()
    assert [m["id"] for m in listed["materials"]] == sorted(taken)
    summary = client.get(f"/api/v1/requests/{rid}", headers=auth(rita)).get_json()["summary"]
    assert [m["name"] for m in summary["material_files"]] == [
        "agenda.pdf",
        "banner.png",
        "budget.xlsx",
        "minutes.docx",
    ]
    assert {"id", "name", "type", "size", "url"} <= set(summary["material_files"][0])
    assert summary["materials"] == []  # the names of the summary form are apart
    for mid, data in taken.items():
        assert client.get(f"/api/v1/materials/{mid}", headers=auth(rita)).get_data() == data


def test_disguised_broken_and_dangerous_files_are_refused(client, office):  # noqa: F811
    rid = approved(client, office)
    exe = b"MZ\x90\x00\x03" + b"\x00" * 400 + b"This program cannot be run in DOS mode"
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES.replace("{main}", DOCX_MAIN))
        z.writestr("word/document.xml", b"0" * (4 * 1024 * 1024))  # packs ~1000x
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as z:
        z.writestr("setup.exe", exe)
    for data, name, why in (
        (exe, "agenda.pdf", "a PDF, a picture"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 200, "photo.png", "a PDF, a picture"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "broken.png", "not a PNG"),
        (b"%PDF-1.7 cut off in the middle", "cut.pdf", "not a complete PDF"),
        (plain_zip.getvalue(), "slides.pptx", "a PDF, a picture"),
        (exe + office_zip(), "minutes.docx", "a PDF, a picture"),  # a self-extractor
        (office_zip(DOCM_MAIN), "minutes.docx", "macros"),
        (office_zip(parts={"word/vbaProject.bin": b"\x00" * 10}), "m.docx", "macros"),
        (office_zip(parts={"../../evil.sh": "rm -rf /"}), "m.docx", "outside"),
        (bomb.getvalue(), "minutes.docx", "ZIP bomb"),
        (b"", "empty.pdf", "required"),
    ):
        status, code, field = refusal(attach(client, office["rita"], rid, data, name))
        assert (status, code) == (422, "invalid_material"), name
        assert why in field, (name, field)
    listed = client.get(f"/api/v1/requests/{rid}/materials", headers=auth(office["rita"]))
    assert listed.get_json()["materials"] == []
    nothing = client.post(f"/api/v1/requests/{rid}/materials", headers=auth(office["rita"]))
    assert refusal(nothing)[:2] == (422, "invalid_material")


def test_20_mb_a_file_30_a_request_and_only_once_approved(client, office):  # noqa: F811
    pending = client.post("/api/v1/requests", json=body(), headers=auth(office["rita"]))
    r = attach(client, office["rita"], pending.get_json()["id"], png(), "early.png")
    assert refusal(r)[:2] == (409, "not_approved")
    rid = approved(client, office)
    big = b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024) + b"\n%%EOF\n"
    assert refusal(attach(client, office["rita"], rid, big, "big.pdf")) == (
        422,
        "invalid_material",
        "at most 20 MB",
    )
    huge = attach(client, office["rita"], rid, big + b"0" * (2 * 1024 * 1024), "huge.pdf")
    assert huge.status_code == 413 and huge.get_json()["error"]["code"] == "too_large"
    rita = db.session.scalar(select(User).where(User.email == "rita@example.com"))
    for n in range(materials.MAX_PER_REQUEST):
        materials.attach(rid, rita, png(), f"photo-{n}.png")
    r = attach(client, office["rita"], rid, png(), "one-more.png")
    assert refusal(r)[:2] == (409, "too_many_materials")
    try:
        materials.attach(rid, rita, png(), "and-another.png")
        raise AssertionError("a 31st file was taken")
    except Conflict as e:
        assert e.code == "too_many_materials"


def test_only_who_may_see_the_request_gets_its_files(client, office):  # noqa: F811
    rid = approved(client, office)
    mid = attach(client, office["rita"], rid, pdf(), "agenda.pdf").get_json()["id"]
    linus = office["linus"]  # another host
    assert client.get(f"/api/v1/materials/{mid}", headers=auth(linus)).status_code == 404
    assert client.delete(f"/api/v1/materials/{mid}", headers=auth(linus)).status_code == 404
    assert client.get(f"/api/v1/requests/{rid}/materials", headers=auth(linus)).status_code == 404
    assert attach(client, linus, rid, png(), "x.png").status_code == 404
    # Finance sees the request (and its files) but does not write its summary.
    assert client.get(f"/api/v1/materials/{mid}", headers=auth(office["fay"])).status_code == 200
    assert refusal(attach(client, office["fay"], rid, png(), "x.png"))[:2] == (403, "not_yours")
    gone = client.delete(f"/api/v1/materials/{mid}", headers=auth(office["fay"]))
    assert gone.status_code == 403
    assert client.get("/api/v1/materials/999999", headers=auth(office["rita"])).status_code == 404


def test_the_download_is_an_attachment_under_its_chinese_name(client, office):  # noqa: F811
    rid = approved(client, office)
    data = pdf()
    mid = attach(client, office["rita"], rid, data, "张伟-议程.pdf").get_json()["id"]
    resp = client.get(f"/api/v1/materials/{mid}", headers=auth(office["rita"]))
    assert resp.status_code == 200 and resp.get_data() == data
    assert resp.mimetype == "application/pdf"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Security-Policy"] == "sandbox"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="material-{mid}.pdf"' in disposition  # the ASCII fallback
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert encoded.isascii() and unquote(encoded, encoding="utf-8") == "张伟-议程.pdf"
    again = client.get(
        f"/api/v1/materials/{mid}",
        headers={**auth(office["rita"]), "If-None-Match": f'"{hashlib.sha256(data).hexdigest()}"'},
    )
    assert again.status_code == 304
    # A name is kept without folders, control or bidi characters, ending in its real type.
    sly = "../../etc/\u202eevil\x00.exe"
    r = attach(client, office["rita"], rid, png(), sly)
    assert r.get_json()["name"] == "evil.exe.png"
    plain = client.get(r.get_json()["url"], headers=auth(office["rita"]))
    assert 'filename="evil.exe.png"' in plain.headers["Content-Disposition"]
    assert plain.headers["Content-Security-Policy"] == "sandbox"


def test_attach_and_remove_are_audited_without_the_bytes(client, office):  # noqa: F811
    rid = approved(client, office)
    data = xlsx()
    mid = attach(client, office["rita"], rid, data, "budget.xlsx").get_json()["id"]
    removed = client.delete(f"/api/v1/materials/{mid}", headers=auth(office["rita"]))
    assert removed.status_code == 200 and removed.get_json()["name"] == "budget.xlsx"
    assert db.session.get(RequestMaterial, mid) is None
    assert client.get(f"/api/v1/materials/{mid}", headers=auth(office["rita"])).status_code == 404
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action.like("request.material_%"))
        .order_by(AuditEntry.id)
    ).all()
    facts = {
        "material": mid,
        "name": "budget.xlsx",
        "type": filetypes.XLSX,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    assert [(e.action, e.actor, e.target_type, e.target_id) for e in entries] == [
        ("request.material_attach", "rita@example.com", "request", str(rid)),
        ("request.material_remove", "rita@example.com", "request", str(rid)),
    ]
    assert entries[0].after == facts and entries[1].before == facts
    assert all("data" not in (e.after or {}) and "data" not in (e.before or {}) for e in entries)


def test_a_closed_request_keeps_its_files(client, office):  # noqa: F811
    rid = approved(client, office, arrives_at=when(0), departs_at=when(0.1))
    data = pdf()
    mid = attach(client, office["rita"], rid, data, "agenda.pdf").get_json()["id"]
    done = client.post(
        f"/api/v1/requests/{rid}/summary",
        json={"summary": "顺利 went well", "materials": ["Company intro"]},
        headers=auth(office["rita"]),
    ).get_json()
    assert done["open"]["closed"] and done["summary"]["materials"] == ["Company intro"]
    assert [m["id"] for m in done["summary"]["material_files"]] == [mid]
    r = client.delete(f"/api/v1/materials/{mid}", headers=auth(office["rita"]))
    assert refusal(r)[:2] == (409, "request_closed")
    assert attach(client, office["rita"], rid, png(), "late photo.png").status_code == 201
    retention.purge(now=utcnow() + timedelta(days=4000), actor_label="test")
    db.session.rollback()
    kept = db.session.get(RequestMaterial, mid)
    assert kept is not None and kept.data == data and kept.size == len(data)


def test_the_request_page_attaches_files_and_says_which_were_refused(client, office):  # noqa: F811
    rid = approved(client, office)
    login(client, "rita@example.com", PASSWORD)
    page = client.get(f"/requests/{rid}").get_data(as_text=True)
    assert 'id="materials-form"' in page and "Attach materials 附上材料" in page
    agenda = pdf()
    files = [
        (io.BytesIO(agenda), "张伟-议程.pdf"),
        (io.BytesIO(b"MZ" + b"\x00" * 100), "<b>tool</b>.pdf"),
    ]
    no_token = client.post(
        f"/requests/{rid}/materials", data={"files": files}, content_type="multipart/form-data"
    )
    assert no_token.status_code == 400
    files = [
        (io.BytesIO(agenda), "张伟-议程.pdf"),
        (io.BytesIO(b"MZ" + b"\x00" * 100), "<b>tool</b>.pdf"),
    ]
    r = client.post(
        f"/requests/{rid}/materials",
        data={"files": files, "csrf_token": csrf_from(page)},
        content_type="multipart/form-data",
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    errors = html.split('id="material-errors"', 1)[1].split("</ul>", 1)[0]
    assert "&lt;b&gt;tool&lt;/b&gt;.pdf" in errors and "<b>tool" not in html  # escaped
    assert "张伟-议程.pdf" not in errors
    listed = html.split('id="material-list"', 1)[1].split("</table>", 1)[0]
    assert "张伟-议程.pdf" in listed and "Rita Sales" in listed
    mid = db.session.scalars(select(RequestMaterial.id)).one()
    assert f'href="/materials/{mid}"' in listed
    download = client.get(f"/materials/{mid}")
    assert download.get_data() == agenda
    disposition = download.headers["Content-Disposition"]
    assert "filename*=UTF-8''%E5%BC%A0%E4%BC%9F-%E8%AE%AE%E7%A8%8B.pdf" in disposition
    page = client.get(f"/requests/{rid}").get_data(as_text=True)
    assert client.post(f"/materials/{mid}/remove").status_code == 400  # no CSRF token
    gone = client.post(f"/materials/{mid}/remove", data={"csrf_token": csrf_from(page)})
    assert gone.status_code == 303 and gone.headers["Location"].endswith("#materials")
    assert "No files yet. 暂无文件。" in client.get(f"/requests/{rid}").get_data(as_text=True)


@pytest.mark.browser
def test_chromium_uploads_several_files_and_saves_one_under_its_chinese_name(
    device,  # noqa: F811
    client,
    office,  # noqa: F811
    tmp_path,
):
    rid = approved(client, office)
    agenda = pdf()
    rita = staff_page(device, "rita@example.com", f"/requests/{rid}")
    rita.locator("#materials-form input[type=file]").set_input_files(
        [
            {"name": "张伟-议程.pdf", "mimeType": "application/pdf", "buffer": agenda},
            {"name": "slides.pptx", "mimeType": "application/zip", "buffer": b"MZ" * 50},
        ]
    )
    rita.locator("#materials-form button[type=submit]").click()
    expect(rita.locator("#material-errors")).to_contain_text("slides.pptx")
    row = rita.locator("#material-list tr[data-material]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Rita Sales")
    with rita.expect_download() as got:
        row.get_by_role("link", name="张伟-议程.pdf").click()
    download = got.value
    assert download.suggested_filename == "张伟-议程.pdf"
    saved = tmp_path / "saved.pdf"
    download.save_as(saved)
    assert saved.read_bytes() == agenda
    row.get_by_role("button", name="Remove 张伟-议程.pdf").click()
    expect(rita.locator("#material-list")).to_contain_text("No files yet. 暂无文件。")
