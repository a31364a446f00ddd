"""Issue 16 item 3: bulk pre-registration from CSV (UTF-8, UTF-8 with BOM, GB18030) and
XLSX — through the service, ``lobby visits import`` and the /admin/import pages (real
forms with CSRF, the import in its background thread), on a real SQLite file."""

import io
import time
from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from server.cli import main
from server.extensions import db
from server.models import AuditEntry, Event, Visit, Visitor
from server.models.notify import OutboxMessage
from server.notify import invitations
from server.services import audit, people, visit_import, visit_sheet
from server.services.errors import ValidationError
from tests.conftest import PASSWORD, csrf_from, login, pg_app  # noqa: F401
from tests.test_browser import browser  # noqa: F401  (headless Chromium)

HEADER = "name,company,email,phone,host,expected_at,purpose,language"
GOOD = [
    "Ada Lovelace,Analytical Engines,ada@example.com,+44 20 7946 0000,grace@example.com,"
    "2026-12-02 09:30,Engine review,en",
    "张伟,示例公司,,138 0013 8000,linus@example.com,2026-12-03T14:00+08:00,季度评审,zh",
]


def sheet(*rows: str, header: str = HEADER) -> str:
    return "\r\n".join([header, *rows]) + "\r\n"


def count(model) -> int:
    db.session.commit()  # a fresh snapshot: other connections may have written
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    ws = book.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- reading the file ------------------------------------------------------------


def test_utf8_csv_previews_every_row_and_imports_them(staff):
    result = visit_import.preview(sheet(*GOOD).encode("utf-8"), "guests.csv")
    assert (result.valid, result.invalid, result.ok) == (2, 0, True)
    ids = visit_import.run(result, staff["admin"])
    ada, zhang = (db.session.get(Visit, i) for i in ids)
    assert (ada.visitor.name, ada.host.email, ada.purpose) == (
        "Ada Lovelace",
        "grace@example.com",
        "Engine review",
    )
    assert (zhang.visitor.name, zhang.visitor.company, zhang.visitor.language) == (
        "张伟",
        "示例公司",
        "zh",
    )
    assert zhang.expected_at == datetime(2026, 12, 3, 6, 0)  # 14:00 +08:00 in UTC
    assert ada.status == "expected" and ada.created_by_id == staff["admin"].id
    assert len(ada.code) >= 32 and ada.code != zhang.code
    nul = visit_import.preview(sheet("A\x00da,,,,grace@example.com,,,").encode(), "n.csv")
    assert nul.rows[0].visitor["name"] == "Ada"  # PostgreSQL text cannot hold a NUL


def test_local_times_are_in_the_site_zone(app, staff):
    app.config["TIMEZONE"] = "Asia/Shanghai"
    rows = [
        "A,,,,grace@example.com,2026-12-02 09:30,,",
        "B,,,,grace@example.com,2026/12/2 9:30,,",  # as Excel shows it after a save
    ]
    result = visit_import.preview(sheet(*rows).encode(), "t.csv")
    assert result.ok, result.errors
    assert [r.when for r in result.rows] == [datetime(2026, 12, 2, 1, 30)] * 2


def test_utf8_with_bom_and_chinese_headers(staff):
    text = sheet(
        "张伟,示例公司,zhang@example.com,,grace@example.com,2026-12-02 09:30,参观,中文",
        header="姓名,公司,邮箱,电话,接待人,预计到达,事由,语言",
    )
    result = visit_import.preview(("\ufeff" + text).encode("utf-8"), "名单.csv")
    assert result.ok, result.errors
    row = result.rows[0]
    assert row.visitor["name"] == "张伟"  # not "\ufeff张伟" nor a missing name column
    assert row.visitor["language"] == "zh" and row.purpose == "参观"


def test_gb18030_as_excel_in_china_saves_it(staff):
    data = sheet(*GOOD).encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the test is real: this is not UTF-8
    result = visit_import.preview(data, "guests.csv")
    assert result.ok, result.errors
    assert [r.visitor["name"] for r in result.rows] == ["Ada Lovelace", "张伟"]


def test_xlsx_dates_numbers_and_formulas_are_cells_as_text(staff):
    data = xlsx(
        [
            HEADER.split(","),
            ["张伟", "示例", "z@example.com", 13800138000, "grace@example.com",
             datetime(2026, 12, 2, 9, 30), "=1+1", "zh"],
            [None] * 8,  # a blank row: skipped, but it keeps its number
            ["Bob", None, None, None, "GRACE@example.com", "2026-12-04 10:00", None, None],
        ]
    )  # fmt: skip
    result = visit_import.preview(data, "guests.xlsx")
    assert result.ok, result.errors
    first, second = result.rows
    assert first.visitor["phone"] == "13800138000"  # not 13800138000.0 nor 1.38E+10
    assert first.when == datetime(2026, 12, 2, 9, 30)  # UTC site: local == UTC
    assert first.purpose == "=1+1"  # a formula is never evaluated: it is text
    assert second.number == 4 and second.host is not None
    # Known by its bytes, whatever the name says.
    assert visit_import.preview(xlsx([["name", "host"], ["Ada", "grace@example.com"]]), "up").ok


# --- what is refused -------------------------------------------------------------


def test_row_errors_name_the_row_the_user_sees_and_the_field(staff):
    staff["other_host"].active = False  # a host who left is no host
    db.session.commit()
    rows = [
        GOOD[0],
        ",Nobody Ltd,,,grace@example.com,2026-12-02 09:30,,",  # row 3: no name
        "",  # row 4: blank
        "Eve,,not-an-email,call me,nobody@example.com,next tuesday,,fr",  # row 5
        GOOD[1],
    ]
    result = visit_import.preview(sheet(*rows).encode(), "g.csv")
    assert (result.valid, result.invalid) == (1, 3)
    got = {(e.row, e.field): e.reason for e in result.errors}
    assert got == {
        (6, "host"): "no such host",  # linus@example.com, disabled
        (3, "name"): "required",
        (5, "email"): "not an email address",
        (5, "phone"): "digits, spaces and + - ( ) only",
        (5, "host"): "no such host",
        (5, "expected_at"): visit_import.DATE_REASON,
        (5, "language"): "zh or en",
    }


def test_one_bad_row_means_nothing_is_written(staff):
    before = (count(Visit), count(Visitor), count(OutboxMessage), count(AuditEntry))
    rows = [GOOD[0]] * 50 + ["Zed,,,,no-such-host@example.com,2026-12-02 09:30,,"]
    result = visit_import.preview(sheet(*rows).encode(), "g.csv")
    assert (result.valid, result.invalid) == (50, 1)
    with pytest.raises(ValidationError) as refused:
        visit_import.run(result, staff["admin"])
    assert refused.value.code == "invalid_rows"
    assert refused.value.fields == {"row 52.host": "no such host"}
    after = (count(Visit), count(Visitor), count(OutboxMessage), count(AuditEntry))
    assert after == before


FILE_PROBLEMS = [
    (b"\xff\xfe\x00bad", "bad_encoding"),
    (b"PK\x03\x04 not really a zip", "bad_file"),
    (b"name,company\nAda,Acme\n", "missing_columns"),
    (HEADER.encode() + b"\n\n,,,\n", "empty_file"),
    (b"", "empty_file"),
]


def test_a_file_that_cannot_be_imported_says_why(app):
    for data, code in FILE_PROBLEMS:  # one app for all: no row gets as far as a host
        with pytest.raises(ValidationError) as refused:
            visit_import.preview(data, "x.csv")
        assert refused.value.code == code, data


def test_size_and_row_limits(staff, monkeypatch):
    with pytest.raises(ValidationError) as big:
        visit_import.preview(b"x" * (visit_sheet.MAX_BYTES + 1), "big.csv")
    assert big.value.code == "file_too_large"
    monkeypatch.setattr(visit_sheet, "MAX_UNPACKED", 2000)  # an XLSX unpacks to more
    with pytest.raises(ValidationError) as bomb:
        visit_import.preview(xlsx([["name", "host"], ["Ada", "grace@example.com"]]), "b.xlsx")
    assert bomb.value.code == "bad_file" and "unpacks" in bomb.value.message
    monkeypatch.setattr(visit_sheet, "MAX_ROWS", 3)
    ok = sheet(*["A,,,,grace@example.com,,,"] * 3).encode()
    assert len(visit_import.preview(ok, "x.csv").rows) == 3
    with pytest.raises(ValidationError) as many:
        visit_import.preview(sheet(*["A,,,,grace@example.com,,,"] * 4).encode(), "x.csv")
    assert many.value.code == "too_many_rows"


# --- what an import writes besides the visits -------------------------------------


def test_invitations_are_queued_for_rows_with_an_email_as_pre_register_does(staff):
    result = visit_import.preview(sheet(*GOOD).encode(), "g.csv")
    ada_id, zhang_id = visit_import.run(result, staff["admin"])
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert [(m.visit_id, m.recipient, m.status) for m in rows] == [
        (ada_id, "ada@example.com", "queued")
    ]
    message = rows[0]
    ada = db.session.get(Visit, ada_id)
    assert message.payload == {"invitation": {"visit_id": ada_id, "kind": "new", "sequence": 0}}
    assert message.dedupe_key == f"invitation:{ada_id}:0"
    assert message.subject == invitations.subject_of(ada, "new")
    # The worker builds the message from that row later: it is a real invitation.
    built = invitations.build(ada, "new", 0)
    assert built["To"] == "ada@example.com" and ada.code in built.as_string()
    # Imported with invitations off: none queued, and the visits say so.
    ids = visit_import.run(result, staff["admin"], invite=False)
    assert count(OutboxMessage) == 1
    assert db.session.get(Visit, ids[0]).invite is False


def test_the_import_is_one_audit_entry_and_one_event_per_host(staff):
    audit_before, events_before = count(AuditEntry), count(Event)
    rows = [GOOD[0]] * 30 + [GOOD[1]] * 20
    ids = visit_import.run(
        visit_import.preview(sheet(*rows).encode(), "customer-day.csv"), staff["reception"]
    )
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()[audit_before:]
    assert [(e.action, e.actor, e.target_id) for e in entries] == [
        ("visit.import", "desk@example.com", f"{ids[0]}-{ids[-1]}")
    ]
    assert entries[0].after["file"] == "customer-day.csv" and entries[0].after["rows"] == 50
    events = db.session.scalars(select(Event).order_by(Event.seq)).all()[events_before:]
    assert sorted((e.payload["host"]["name"], e.payload["count"]) for e in events) == [
        ("Grace Hopper", 30),
        ("Linus T", 20),
    ]
    assert all(e.kind == "visit_updated" and e.payload["change"] == "imported" for e in events)
    assert all("reception" in e.rooms for e in events)


@pytest.mark.postgres
def test_import_on_postgresql_keeps_each_row_with_its_visitor(pg_app):  # noqa: F811
    people.create_user("grace@example.com", "Grace Hopper", ["host"], PASSWORD)
    people.create_user("linus@example.com", "Linus T", ["host"], PASSWORD)
    rows = [GOOD[0].replace("Ada Lovelace", f"Guest {i}") for i in range(1500)] + [GOOD[1]]
    ids = visit_import.run(visit_import.preview(sheet(*rows).encode(), "g.csv"))
    assert len(ids) == 1501  # two INSERT batches: the ids follow the rows
    first, last = db.session.get(Visit, ids[0]), db.session.get(Visit, ids[-1])
    assert (first.visitor.name, last.visitor.name, last.host.email) == (
        "Guest 0",
        "张伟",
        "linus@example.com",
    )
    assert count(OutboxMessage) == 1500
    assert audit.verify(db.session) is None


def test_the_templates_import_as_they_are(staff):
    csv_bytes = visit_sheet.template_csv()
    assert csv_bytes.startswith(b"\xef\xbb\xbf")  # the BOM: Excel opens 张伟 as 张伟
    assert "张伟" in csv_bytes.decode("utf-8-sig")
    host_row = visit_sheet.TEMPLATE_ROW["host"]
    fixed = csv_bytes.decode("utf-8-sig").replace(host_row, "grace@example.com").encode()
    assert visit_import.preview(fixed, "template.csv").ok
    book = load_workbook(io.BytesIO(visit_sheet.template_xlsx()))
    ws = book.active
    assert ws is not None
    assert [c.value for c in ws[1]] == list(visit_sheet.COLUMNS)
    assert ws["A2"].value == "张伟"


# --- the command line ----------------------------------------------------------------


@pytest.fixture
def cli_env(app, staff, monkeypatch):
    monkeypatch.setenv("LOBBY_DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("LOBBY_DATA_DIR", str(app.config["DATA_DIR"]))
    db.session.commit()


def test_cli_imports_and_says_how_many(cli_env, tmp_path, capsys):
    path = tmp_path / "guests.csv"
    path.write_bytes(sheet(*GOOD).encode("gb18030"))
    assert main(["visits", "import", str(path)]) == 0
    out = capsys.readouterr()
    assert "Imported 2 visits (1 invitation queued)" in out.out
    assert "Importing" in out.err  # the progress bar
    assert count(Visit) == 2
    assert db.session.scalars(select(AuditEntry.actor).order_by(AuditEntry.id.desc())).first() == (
        "cli"
    )


def test_cli_bad_rows_exit_nonzero_listing_them_and_write_nothing(cli_env, tmp_path, capsys):
    path = tmp_path / "guests.xlsx"
    path.write_bytes(
        xlsx([HEADER.split(","), GOOD[0].split(","), ["Eve", "", "", "", "x@example.com"]])
    )
    assert main(["visits", "import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "row 3, host: no such host" in err
    assert err.strip().splitlines()[-1] == ("lobby: 1 of 2 rows have errors; nothing was imported")
    assert count(Visit) == 0


def test_cli_dry_run_writes_nothing_and_an_unreadable_file_is_one_line(cli_env, tmp_path, capsys):
    path = tmp_path / "guests.csv"
    path.write_text(sheet(*GOOD), encoding="utf-8")
    assert main(["visits", "import", str(path), "--dry-run"]) == 0
    assert "all 2 rows are valid; nothing was written" in capsys.readouterr().out
    assert count(Visit) == 0
    path.write_bytes(b"name,company\nAda,Acme\n")  # a file that is no sheet of visits
    assert main(["visits", "import", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("lobby: row 1: the header has no host column")


# --- the pages -------------------------------------------------------------------------


def upload(client, data: bytes, filename: str, token: str | None = None, invite=True):
    page = client.get("/admin/import").get_data(as_text=True)
    form = {"csrf_token": token or csrf_from(page), "file": (io.BytesIO(data), filename)}
    if invite:
        form["invite"] = "y"
    return client.post("/admin/import", data=form, content_type="multipart/form-data")


def wait_done(client, path: str) -> str:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        html = client.get(path, headers={"HX-Request": "true"}).get_data(as_text=True)
        if 'data-phase="done"' in html or 'data-phase="failed"' in html:
            return html
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def test_page_upload_preview_then_import_with_progress(client, staff):
    login(client, "desk@example.com")  # a receptionist may import
    resp = upload(client, sheet(*GOOD).encode("gb18030"), "guests.csv")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'id="count-valid">2<' in html and 'id="count-invalid">0<' in html
    assert "张伟" in html and "Import 2 visits" in html
    assert count(Visit) == 0  # a preview writes nothing
    confirm_token = csrf_from(html.split('id="import-confirm"', 1)[1])
    upload_token = html.split('name="token" type="hidden" value="', 1)[1].split('"', 1)[0]
    resp = client.post(
        "/admin/import/confirm",
        data={"csrf_token": confirm_token, "token": upload_token, "invite": "1"},
    )
    assert resp.status_code == 303
    progress = resp.headers["Location"]
    page = client.get(progress).get_data(as_text=True)
    assert 'id="import-progress"' in page
    done = wait_done(client, progress)
    assert "Imported 2 visits" in done and "1 invitation queued" in done
    assert "hx-trigger" not in done  # polling stops
    assert "/reception/log?from=2026-12-02&amp;to=2026-12-03" in done
    assert count(Visit) == 2 and count(OutboxMessage) == 1
    # The same upload cannot be imported twice (nor its file reused).
    again = client.post(
        "/admin/import/confirm",
        data={"csrf_token": confirm_token, "token": upload_token, "invite": "1"},
    )
    assert again.status_code in (404, 409) and count(Visit) == 2


def test_page_preview_with_errors_marks_them_offers_no_import_and_escapes(client, staff):
    login(client, "admin@example.com")
    evil = '<script>alert("x")</script>'
    rows = [GOOD[0], f'"{evil}",,bad-email,,grace@example.com,soon,,']
    html = upload(client, sheet(*rows).encode(), "g.csv").get_data(as_text=True)
    assert 'id="count-invalid">1<' in html
    assert 'id="import-confirm"' not in html and 'id="import-blocked"' in html
    assert evil not in html and "&lt;script&gt;" in html
    bad_row = html.split('data-row="3"', 1)[1].split("</tr>", 1)[0]
    assert 'data-field="email"' in bad_row and "not an email address" in bad_row
    assert 'data-field="expected_at"' in bad_row
    assert 'data-field="name"' not in bad_row


def test_page_needs_the_csrf_token_and_says_what_is_wrong_with_a_file(client, staff):
    login(client, "admin@example.com")
    resp = upload(client, sheet(*GOOD).encode(), "g.csv", token="forged")
    assert resp.status_code == 400
    resp = client.post("/admin/import/confirm", data={"token": "x" * 22, "invite": "1"})
    assert resp.status_code == 400 and count(Visit) == 0
    # A file that cannot be imported at all is said so on the page, not a 500.
    resp = upload(client, b"name,company\nAda,Acme\n", "g.csv")
    assert resp.status_code == 422
    assert "the header has no host column" in resp.get_data(as_text=True)


def test_hosts_may_not_import_and_another_users_upload_is_not_found(client, app, staff):
    login(client, "grace@example.com")
    assert client.get("/admin/import").status_code == 403
    assert client.get("/admin/import/template.csv").status_code == 403
    other = app.test_client()
    login(other, "admin@example.com")
    html = upload(other, sheet(*GOOD).encode(), "g.csv").get_data(as_text=True)
    token = html.split('name="token" type="hidden" value="', 1)[1].split('"', 1)[0]
    desk = app.test_client()
    login(desk, "desk@example.com")
    assert desk.get(f"/admin/import/{token}").status_code == 404
    page = desk.get("/admin/import").get_data(as_text=True)
    resp = desk.post(
        "/admin/import/confirm",
        data={"csrf_token": csrf_from(page), "token": token, "invite": "1"},
    )
    assert resp.status_code == 404 and count(Visit) == 0


def test_templates_download_with_bom_and_as_xlsx(client, staff):
    login(client, "admin@example.com")
    resp = client.get("/admin/import/template.csv")
    assert resp.data.startswith(b"\xef\xbb\xbf" + HEADER.encode())
    assert "attachment" in resp.headers["Content-Disposition"]
    resp = client.get("/admin/import/template.xlsx")
    assert resp.data[:4] == b"PK\x03\x04"


@pytest.mark.browser
def test_import_preview_with_errors_then_import_in_chromium(browser, live_server, staff, tmp_path):  # noqa: F811
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=email]", "desk@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    page.click("#nav-import")
    path = tmp_path / "guests.csv"
    path.write_bytes(
        sheet(GOOD[0], "Eve,,not-an-email,,nobody@example.com,2026-13-40 25:00,,").encode("gb18030")
    )
    page.set_input_files("#file", str(path))
    page.click("#import-upload button[type=submit]")
    bad = page.locator('tr[data-row="3"] td.bad')
    assert bad.count() == 3  # email, host, expected_at
    assert page.locator("#count-invalid").inner_text() == "1"
    assert page.locator("#import-confirm").count() == 0
    page.screenshot(path=str(tmp_path / "import-preview.png"), full_page=True)
    # Fixed: the import runs and the page follows it (htmx polling) to the end.
    path.write_bytes(sheet(*GOOD).encode("gb18030"))
    page.set_input_files("#file", str(path))
    page.click("#import-upload button[type=submit]")
    page.click("#import-confirm button[type=submit]")
    page.wait_for_selector("#import-done")
    assert "Imported 2 visits" in page.locator("#import-done").inner_text()
    page.screenshot(path=str(tmp_path / "import-done.png"))
    context.close()
    assert count(Visit) == 2
