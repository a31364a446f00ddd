"""Issue 15 item 7 (and 9): /reports draws each report as an SVG chart with its table,
and every report exports to CSV and XLSX from its page and from
/api/v1/reports/<report>.csv|.xlsx. Exports are read back with the csv module and
openpyxl; text cells that would start a formula carry a leading '."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import openpyxl
from sqlalchemy import update

from server.extensions import db
from server.models import Task, Visit
from server.policy import organisation, reports
from server.services import checkin, people, tasks, visits
from tests.conftest import PASSWORD, auth, login, make_visit, on_menu, pg_app, staff, tokens  # noqa: F401
from tests.test_policy_expenses import approved, spend
from tests.test_policy_requests import office  # noqa: F401  (fixture)

DAY = date(2026, 3, 2)  # a Monday
RANGE = "from=2026-03-01&to=2026-03-08"
STOPS = [{"place": "Plant 工厂", "department": "Ops"}]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A naive UTC time (the app's zone is UTC unless a test says otherwise)."""
    return datetime(day.year, day.month, day.day, hour, minute)


def arrived(make_visit, name="Ada Lovelace", company="Analytical Engines", host=None, **when):  # noqa: F811
    """A visit checked in for real, then moved to the given times (arrived, ack, left)."""
    visit = make_visit(name=name, company=company, host=host or "grace@example.com")
    checkin.check_in(visit.code)
    values = {"expected_at": when.get("arrived") or when.get("expected")}
    values.update(
        {k: when[k] for k in ("checked_in_at", "acknowledged_at", "checked_out_at") if k in when}
    )
    if "arrived" in when:
        values["checked_in_at"] = when["arrived"]
    if "ack" in when:
        values["acknowledged_at"] = when["ack"]
    if when.get("walk_in"):
        values["walk_in"] = True
    db.session.execute(update(Visit).where(Visit.id == visit.id).values(**values))
    db.session.commit()
    return visit


def csv_rows(resp) -> list[list[str]]:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    text = resp.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def xlsx_rows(resp) -> list[tuple]:
    assert resp.status_code == 200
    assert resp.mimetype.endswith("spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(resp.get_data()))
    return list(book.active.iter_rows(values_only=True))


def test_waits_give_median_and_p90_per_host_and_department(client, staff, tokens, make_visit):  # noqa: F811
    people.create_user("ops@example.com", "Olga Ops", ["host"], PASSWORD, department="Ops")
    for minutes in range(1, 11):  # Grace (no department): 1..10 minutes
        arrived(make_visit, arrived=at(DAY, 9), ack=at(DAY, 9, minutes))
    for minutes in (4, 30):  # Olga (Ops): 4 and 30
        arrived(make_visit, host="ops@example.com", arrived=at(DAY, 10), ack=at(DAY, 10, minutes))
    arrived(make_visit, arrived=at(DAY, 11))  # never acknowledged: not a wait
    rows = csv_rows(
        client.get(f"/api/v1/reports/waits.csv?{RANGE}", headers=auth(tokens["reception"]))
    )
    assert rows[0][3:] == [
        "Visits 人次",
        "Median (min) 中位数（分钟）",
        "90th percentile (min) 第90百分位（分钟）",
    ]
    by = {(r[0].split()[0], r[1]): r[3:] for r in rows[1:]}
    assert by[("Host", "Grace Hopper")] == ["10", "5.5", "9.0"]
    assert by[("Host", "Olga Ops")] == ["2", "17.0", "30.0"]
    assert by[("Department", "Ops")] == ["2", "17.0", "30.0"]
    assert by[("Department", "—")] == ["10", "5.5", "9.0"]


def test_daily_hours_and_kinds_count_in_the_sites_time_zone(app, client, tokens, make_visit):  # noqa: F811
    app.config["TIMEZONE"] = "Asia/Shanghai"  # UTC+8
    arrived(make_visit, arrived=at(DAY, 17, 30))  # 01:30 on 3 March in Shanghai
    arrived(make_visit, arrived=at(DAY, 2, 0), walk_in=True)  # 10:00 on 2 March
    arrived(make_visit, arrived=at(DAY, 3, 0))  # 11:00 on 2 March
    headers = auth(tokens["reception"])
    daily = {
        r[0]: r[1:]
        for r in csv_rows(client.get(f"/api/v1/reports/daily.csv?{RANGE}", headers=headers))[1:]
    }
    assert daily["2026-03-02"] == ["2", "2", "1"] and daily["2026-03-03"] == ["1", "1", "0"]
    assert len(daily) == 8  # every day of the range, empty ones too
    hours = dict(csv_rows(client.get(f"/api/v1/reports/hours.csv?{RANGE}", headers=headers))[1:])
    assert (hours["01:00"], hours["10:00"], hours["11:00"], hours["17:00"]) == ("1", "1", "1", "0")
    kinds = xlsx_rows(client.get(f"/api/v1/reports/kinds.xlsx?{RANGE}", headers=headers))
    assert kinds[1:] == [("Pre-registered 预约", 2, 2), ("Walk-in 临时到访", 1, 1)]
    weekly = xlsx_rows(client.get(f"/api/v1/reports/weekly.xlsx?{RANGE}", headers=headers))
    assert [(r[0].date(), r[1]) for r in weekly[1:]] == [
        (date(2026, 2, 23), 0),
        (date(2026, 3, 2), 3),
    ]  # fmt: skip


def test_tea_served_and_tours_held(client, staff, tokens, make_visit):  # noqa: F811
    visit = arrived(make_visit, arrived=at(DAY, 9))
    host = staff["host"]
    on_menu("Green tea 绿茶")
    on_menu("Coffee")
    for drinks in ([{"drink": "Green tea 绿茶", "count": 2}], [{"drink": "Coffee", "count": 1}]):
        task = tasks.create(visit.id, {"kind": "tea", "items": drinks}, host)
        tasks.update(task.id, {"status": "served"}, staff["reception"])
    tasks.create(visit.id, {"kind": "tea", "items": [{"drink": "Coffee", "count": 5}]}, host)
    start = (at(DAY, 10)).isoformat() + "+00:00"
    tour = tasks.create(
        visit.id, {"kind": "tour", "title": "Plant", "starts_at": start, "stops": STOPS}, host
    )
    tasks.update(tour.id, {"status": "in_progress"}, host)
    tasks.create(
        visit.id, {"kind": "tour", "title": "Lab", "starts_at": start, "stops": STOPS}, host
    )
    served = at(DAY, 9, 30)  # the tasks ran "now": move them into the range
    db.session.execute(
        update(Task).values(done_at=served, updated_at=served, started_at=None, created_at=served)
    )
    db.session.commit()
    headers = auth(tokens["admin"])
    tea = csv_rows(client.get(f"/api/v1/reports/tea.csv?{RANGE}", headers=headers))
    assert tea[1:] == [["Green tea 绿茶", "2", "1"], ["Coffee", "1", "1"]]  # not the unserved 5
    tours = {
        r[0]: r[1:]
        for r in csv_rows(client.get(f"/api/v1/reports/tours.csv?{RANGE}", headers=headers))[1:]
    }  # noqa: E501
    assert tours["2026-03-02"] == ["1", "1", "0"]


def test_spend_against_budget_by_star_level(client, staff, office, tokens):  # noqa: F811
    rid = approved(client, office, items=[{"kind": "meal", "quantity": 6}])  # 4★, 912
    assert spend(client, office["rita"], rid, 800).status_code == 201
    wrong = spend(client, office["rita"], rid, 100).get_json()["id"]
    r = client.post(
        f"/api/v1/expenses/{wrong}/status",
        json={"status": "rejected", "reason": "duplicate"},
        headers=auth(office["fay"]),
    )
    assert r.status_code == 200, r.get_json()
    upto = (date.today() + timedelta(days=30)).isoformat()
    rows = xlsx_rows(
        client.get(
            f"/api/v1/reports/spend.xlsx?from={date.today().isoformat()}&to={upto}",
            headers=auth(tokens["admin"]),
        )
    )
    by_level = {r[0]: r[1:] for r in rows[1:]}
    assert by_level["4★"] == (1, 912, 0, 912, 800, 112, 87.7)
    assert by_level["3★"] == (0, 0, 0, 0, 0, 0, 0)


def test_exports_neutralise_formula_cells_in_csv_and_xlsx(client, staff, tokens, make_visit):  # noqa: F811
    arrived(
        make_visit, name='=HYPERLINK("http://evil","x")', company="@SUM(A1)", arrived=at(DAY, 9)
    )
    arrived(make_visit, name="-2+3", company="+1 Corp", arrived=at(DAY, 10), ack=at(DAY, 10, 4))
    arrived(make_visit, name="张伟", company="华为技术", arrived=at(DAY, 11))
    headers = auth(tokens["reception"])
    rows = csv_rows(client.get(f"/api/v1/reports/visits.csv?{RANGE}", headers=headers))
    assert rows[0][:5] == ["Visit 编号", "Day 日期", "Visitor 访客", "Company 公司", "Host 接待人"]
    assert [r[2:4] for r in rows[1:]] == [
        ['\'=HYPERLINK("http://evil","x")', "'@SUM(A1)"],
        ["'-2+3", "'+1 Corp"],
        ["张伟", "华为技术"],
    ]
    assert rows[2][10] == "4.0" and rows[2][7] == "2026-03-02 10:00"  # wait, arrival
    login(client, "desk@example.com")  # the same from the page's link
    for resp in (
        client.get(f"/api/v1/reports/visits.xlsx?{RANGE}", headers=headers),
        client.get(f"/reports/visits.xlsx?{RANGE}"),
    ):
        book = openpyxl.load_workbook(io.BytesIO(resp.get_data()))
        sheet = book.active
        assert sheet.title == "visits"
        cells = [(row[2], row[3]) for row in sheet.iter_rows(min_row=2)]
        assert [(a.value, b.value) for a, b in cells] == [
            ('\'=HYPERLINK("http://evil","x")', "'@SUM(A1)"),
            ("'-2+3", "'+1 Corp"),
            ("张伟", "华为技术"),
        ]
        assert all(c.data_type == "s" for pair in cells for c in pair)  # text, no formula
        assert sheet.cell(3, 8).value == datetime(2026, 3, 2, 10, 0)
    page_csv = csv_rows(client.get(f"/reports/visits.csv?{RANGE}"))
    assert page_csv == rows


def test_visit_log_csv_neutralises_at_and_minus_too(client, staff, make_visit):  # noqa: F811
    make_visit(name="@SUM(1+1)", company="-2+3")
    login(client, "desk@example.com")
    rows = list(
        csv.reader(io.StringIO(client.get("/reception/log.csv").get_data().decode("utf-8-sig")))
    )
    assert rows[1][5] == "'@SUM(1+1)" and rows[1][6] == "'-2+3"


def test_reports_page_draws_each_chart_with_escaped_labels(client, staff, make_visit):  # noqa: F811
    people.create_user(
        "bob@example.com", "<b>Bob</b> 鲍勃", ["host"], PASSWORD, department="R&D <i>"
    )
    arrived(make_visit, host="bob@example.com", arrived=at(DAY, 9), ack=at(DAY, 9, 3))
    login(client, "desk@example.com")
    resp = client.get(f"/reports?{RANGE}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for name in reports.PAGE_REPORTS:
        assert f'id="chart-{name}"' in html, name
        assert f"/reports/{name}.csv?from=2026-03-01&amp;to=2026-03-08" in html
        assert f"/reports/{name}.xlsx?from=2026-03-01&amp;to=2026-03-08" in html
    assert "/reports/visits.csv?" in html and "/reports/visits.xlsx?" in html
    assert html.count("<svg") == len(reports.PAGE_REPORTS)
    assert "Visits per day 每日来访" in html and "Hour of the day 时段" in html
    assert "<title>R&amp;D &lt;i&gt; · Median 中位数: 3 min</title>" in html
    assert "&lt;b&gt;Bob&lt;/b&gt; 鲍勃" in html
    assert "<b>Bob" not in html and "<i>" not in html
    default = client.get("/reports")  # the last 30 days
    assert default.status_code == 200 and f'value="{reports.today().isoformat()}"' in (
        default.get_data(as_text=True)
    )


def test_bad_input_and_roles(client, staff, tokens, make_visit):  # noqa: F811
    headers = auth(tokens["reception"])
    r = client.get("/api/v1/reports/nope.csv", headers=headers)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "unknown_report"
    r = client.get("/api/v1/reports/daily.xlsx?from=2026-13-01&to=x", headers=headers)
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert error["code"] == "invalid_range" and set(error["fields"]) == {"from", "to"}
    r = client.get("/api/v1/reports/daily.csv?from=2026-03-08&to=2026-03-01", headers=headers)
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"to"}
    r = client.get("/api/v1/reports/daily.csv?from=2020-01-01&to=2026-01-01", headers=headers)
    assert r.status_code == 422
    for edge in ("from=9999-12-31", "to=0001-01-01", "from=%00", "from=２０２６-03-01"):
        r = client.get(f"/api/v1/reports/hours.xlsx?{edge}", headers=headers)
        assert r.status_code == 422, (edge, r.status_code)
    r = client.get("/api/v1/reports/daily.csv", headers=auth(tokens["host"]))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/reports/daily.csv").status_code == 401

    organisation.add_duty("linus@example.com", "auditor")
    assert (
        client.get("/api/v1/reports/spend.csv", headers=auth(tokens["other_host"])).status_code
        == 200
    )  # noqa: E501

    login(client, "grace@example.com")  # a host: no reports
    assert client.get("/reports").status_code == 403
    assert client.get("/reports/daily.csv").status_code == 403
    client = client.application.test_client()
    login(client, "linus@example.com")  # a host with the auditor duty
    assert client.get("/reports").status_code == 200
    bad = client.get("/reports?from=2026-02-30")
    assert bad.status_code == 422 and "must be a date" in bad.get_data(as_text=True)
    assert client.get("/reports/nope.xlsx").status_code == 404
    assert client.get("/reports/daily.csv?to=nope").status_code == 422
    anonymous = client.application.test_client()
    assert anonymous.get("/reports").status_code == 302


def test_percentile_is_nearest_rank():
    assert reports.percentile([5.0], 90) == 5.0
    assert reports.percentile([float(n) for n in range(1, 21)], 90) == 18.0
    assert reports.neutralise("\tx") == "'\tx" and reports.neutralise("a=b") == "a=b"


def booked(name="Ada Lovelace", company="Analytical Engines", host="grace@example.com"):
    """``make_visit`` without its fixture (for the PostgreSQL app)."""
    soon = (datetime.now(UTC) + timedelta(minutes=5)).replace(microsecond=0).isoformat()
    return visits.pre_register({"name": name, "company": company}, host, soon, "Review")


def counts_in_local_days_and_quarter_hours(app) -> None:
    """Kolkata is UTC+5:30: a local day starts at 18:30 UTC, inside a UTC hour."""
    people.create_user("grace@example.com", "Grace Hopper", ["host"], PASSWORD, department="Ops")
    app.config["TIMEZONE"] = "Asia/Kolkata"
    arrived(booked, arrived=at(DAY, 18, 15), ack=at(DAY, 18, 25))  # 23:45 on 2 March
    arrived(booked, arrived=at(DAY, 18, 45), ack=at(DAY, 18, 49))  # 00:15 on 3 March
    arrived(booked, arrived=at(DAY, 18, 50), ack=at(DAY, 19, 20), walk_in=True)  # 00:20
    rng = reports.parse_range("2026-03-01", "2026-03-08")
    with app.test_request_context():
        daily = {r[0]: r[1:] for r in reports.build("daily", rng).rows}
        hours = dict(reports.build("hours", rng).rows)
        waits = {(r[0], r[1]): r[3:] for r in reports.build("waits", rng).rows}
        kinds = reports.build("kinds", rng).rows
        weekly = reports.build("weekly", rng).rows
    assert daily[date(2026, 3, 2)] == [1, 1, 0] and daily[date(2026, 3, 3)] == [2, 2, 1]
    assert (hours["23:00"], hours["00:00"]) == (1, 2)
    assert waits[("Department 部门", "Ops")] == [3, 10.0, 30.0]
    assert kinds == [["Pre-registered 预约", 2, 2], ["Walk-in 临时到访", 1, 1]]
    assert [r[1] for r in weekly] == [0, 3]


def test_local_days_of_a_half_hour_zone_on_sqlite(app):
    counts_in_local_days_and_quarter_hours(app)


def test_local_days_of_a_half_hour_zone_on_postgresql(pg_app):
    counts_in_local_days_and_quarter_hours(pg_app)


def test_the_navigation_links_reports_for_reception_and_auditors_only(client, staff):  # noqa: F811
    login(client, "desk@example.com")
    assert 'id="nav-reports"' in client.get("/requests").get_data(as_text=True)
    host = client.application.test_client()
    login(host, "grace@example.com")
    assert 'id="nav-reports"' not in host.get("/requests").get_data(as_text=True)
    organisation.add_duty("grace@example.com", "auditor")
    assert 'id="nav-reports"' in host.get("/requests").get_data(as_text=True)
