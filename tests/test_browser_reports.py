"""Issue 15 items 7 and 9 in a real browser (Debian's Chromium via Playwright against
the real app over HTTP): reception opens /reports for a week, sees every chart drawn
(with its tooltips and both languages), a host's name that is markup stays text, the
range form answers a bad range with its reason, and the page's export links download
files that the csv module and openpyxl read back, formula cells neutralised."""

import csv
import io
import re

import openpyxl
import pytest
from playwright.sync_api import expect

from server.policy import reports
from server.services import people
from tests.conftest import PASSWORD
from tests.test_browser import XSS, browser, device  # noqa: F401 - pytest fixtures
from tests.test_reports import DAY, RANGE, arrived, at
from tests.warm_fonts import fonts_built  # noqa: F401 - pytest fixture


def sign_in(device, email):  # noqa: F811
    page = device("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def download(page, link) -> bytes:
    with page.expect_download() as info:
        link.click()
    path = info.value.path()
    with open(path, "rb") as f:
        return f.read()


@pytest.mark.browser
def test_reception_reads_the_charts_and_downloads_the_exports(
    device, staff, make_visit, fonts_built
):  # noqa: F811
    people.create_user("bob@example.com", XSS, ["host"], PASSWORD, department="R&D 研发部")
    arrived(make_visit, name="=CMD|' /C calc'!A0", arrived=at(DAY, 9), ack=at(DAY, 9, 6))
    arrived(make_visit, host="bob@example.com", arrived=at(DAY, 10), ack=at(DAY, 10, 2))
    arrived(make_visit, name="张伟", company="华为技术", arrived=at(DAY, 14), walk_in=True)

    page = sign_in(device, "desk@example.com")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"/reports?{RANGE}")
    expect(page.locator("h1")).to_contain_text("Reports 报表")
    charts = page.locator("svg.report-chart")
    expect(charts).to_have_count(len(reports.PAGE_REPORTS))
    for name in reports.PAGE_REPORTS:
        chart = page.locator(f"#chart-{name}")
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 90, (name, box)
    # Drawn: the hours chart has a bar of height > 0 at 09, 10 and 14 o'clock, with tooltips.
    tips = page.locator("#chart-hours rect title").all_text_contents()
    assert "09 · Arrivals 到达人次: 1" in tips and "14 · Arrivals 到达人次: 1" in tips
    tall = page.locator("#chart-hours rect").evaluate_all(
        "rs => rs.filter(r => r.getBBox().height > 1).length"
    )
    assert tall == 3
    expect(page.locator("#chart-daily")).to_contain_text("Day 日期")
    expect(page.locator("#chart-waits")).to_contain_text("Minutes 分钟")
    expect(page.locator("#report-waits")).to_contain_text(XSS)  # shown as text
    assert page.locator("#report-waits img").count() == 0 and dialogs == []

    # The page's links: the daily report as XLSX, the visit log as CSV.
    book = openpyxl.load_workbook(
        io.BytesIO(download(page, page.locator("#report-daily a", has_text="XLSX")))
    )
    daily = {r[0].date(): r[1:] for r in book.active.iter_rows(min_row=2, values_only=True)}
    assert daily[DAY] == (3, 3, 1) and len(daily) == 8
    text = download(page, page.locator("#export-visits-csv")).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    assert [r[2] for r in rows[1:]] == ["'=CMD|' /C calc'!A0", "Ada Lovelace", "张伟"]
    assert rows[2][4] == XSS and rows[1][10] == "6.0"

    # Another range from the form; a range that ends before it starts says why.
    page.fill("input[name=from]", "2026-03-02")
    page.fill("input[name=to]", "2026-03-02")
    page.locator("#report-range button").click()
    page.wait_for_url(re.compile(r"from=2026-03-02&to=2026-03-02"))
    expect(page.locator("#report-kinds tbody tr").first).to_contain_text("2")
    page.fill("input[name=from]", "2026-03-05")
    page.locator("#report-range button").click()
    expect(page.locator(".field-error")).to_contain_text("must not be before from")
    expect(page.locator("svg.report-chart")).to_have_count(0)
