"""Screenshots for the README: ``python tests/screenshots.py [OUTDIR]`` (default
docs/screenshots). Not a test. Runs the real app in-process on a throw-away data dir
with the demo data and an ``emulator://`` printer, serves it over HTTP + Socket.IO,
drives Debian's Chromium at 1280x800, and copies two printed badges beside the pages:

kiosk-start.png (1280x800, English, the demo's branding), kiosk-start-zh.png (portrait
1080x1920, Chinese), kiosk-rules-zh.png (signing the site rules), kiosk-walk-in-zh.png
(a walk-in choosing a host), kiosk-welcome.png (Ada Lovelace signed and welcomed),
host.png (Grace Hopper's dashboard with the arrival banner), reception.png, admin.png,
admin-kiosk.png, badge-en.png, badge-zh.png (张伟, checked in in Chinese), badge-vip.png;
and from a mid-morning desk: reception.png (a group booked together, a visitor turned
away at the kiosk), reception-log.png, visit-edit.png, invitation.png, admin-users.png,
admin-kiosks.png (a kiosk just added, its pairing QR)
"""

import shutil
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from server import create_app, upgrade_database  # noqa: E402
from server.services import checkin, demo, printing  # noqa: E402
from tests.conftest import free_port, on_menu  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
PORTRAIT = {"width": 1080, "height": 1920}
TIMEOUT = 10_000


def fresh_app(prefix: str, **config):
    """An app built as the screenshots build it, on a fresh data dir at the newest
    migration (``config`` overrides); returns (app, data dir)."""
    data = Path(tempfile.mkdtemp(prefix=prefix))
    app = create_app(
        {
            "DATA_DIR": data,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data / 'lobby.db'}",
            "DEFAULT_PRINTER": f"emulator://{data / 'badges'}",
            "PRINT_WORKER": False,
            "MESSAGE_QUEUE": None,
            "SECRET_KEY": "screenshots",
            **config,
        }
    )
    upgrade_database(app)
    return app, data


def demo_app(prefix: str, **config):
    """``fresh_app`` with the demo loaded; returns (app, data dir, what ``demo.load``
    returned)."""
    app, data = fresh_app(prefix, **config)
    with app.app_context():
        info = demo.load(f"emulator://{data / 'badges'}")
    return app, data, info


@contextmanager
def signed_in(app, data: Path, email: str, password: str):
    """Serve ``app`` on loopback and yield a 1280 px Chromium page signed in as
    ``email``; the server stops and ``data`` is removed after."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            context = browser.new_context(
                base_url=f"http://127.0.0.1:{port}", viewport={"width": 1280, "height": 800}
            )
            context.set_default_timeout(TIMEOUT)
            page = context.new_page()
            page.goto("/login")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/login" not in url)
            yield page
            browser.close()
    finally:
        server.shutdown()
        shutil.rmtree(data, ignore_errors=True)


def print_queued(app, badges: Path) -> Path:
    """Print what is queued now; return the newest badge PNG the emulator saved."""
    with app.app_context():
        assert printing.drain() >= 1, "nothing was queued to print"
    return max(badges.glob("*.png"), key=lambda p: p.stat().st_mtime_ns)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # the welcome screen must stay put
    app, data, info = demo_app("lobby-shots-", KIOSK_IDLE_SECONDS=600, KIOSK_RESULT_SECONDS=600)
    badges = data / "badges"
    codes = dict(info["codes"])
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)

        def device(viewport=VIEWPORT):
            context = browser.new_context(base_url=base, viewport=viewport)
            context.set_default_timeout(TIMEOUT)
            return context.new_page()

        def staff(email, password, path):
            page = device()
            page.goto("/login")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/login" not in url)
            page.goto(path)
            expect(page.locator("#live-state")).to_have_attribute("data-state", "online")
            return page

        def shot(page, name):
            page.evaluate("document.fonts.ready")
            page.screenshot(path=str(out / name))
            print("wrote", out / name)

        def sign(page):
            pad = page.locator("#kiosk-result canvas.signature-pad")
            pad.scroll_into_view_if_needed()
            box = pad.bounding_box()
            points = [
                (0.10, 0.70),
                (0.18, 0.30),
                (0.27, 0.68),
                (0.36, 0.28),
                (0.44, 0.62),
                (0.58, 0.40),
                (0.70, 0.66),
                (0.82, 0.34),
                (0.90, 0.55),
            ]
            page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.7)
            page.mouse.down()
            for px, py in points[1:]:
                page.mouse.move(
                    box["x"] + box["width"] * px, box["y"] + box["height"] * py, steps=8
                )
            page.mouse.up()

        def chinese(page):
            page.click(".lang-switch .lang[data-lang=zh]")
            expect(page.locator("#kiosk-start h1")).to_have_text("欢迎光临")

        kiosk = device()
        kiosk.goto(info["pair_path"])
        kiosk.wait_for_url("**/kiosk/")
        shot(kiosk, "kiosk-start.png")

        # A second kiosk, portrait and in Chinese: the start, the rules, a walk-in.
        with app.app_context():
            from server.services import devices

            _, second = devices.add_kiosk("Lobby east")
        tall = device(PORTRAIT)
        tall.goto(second)
        tall.wait_for_url("**/kiosk/")
        chinese(tall)
        tall.locator("#code").blur()
        shot(tall, "kiosk-start-zh.png")
        tall.locator("#code").focus()
        tall.keyboard.type(codes["张伟"])
        tall.keyboard.press("Enter")
        expect(tall.locator("[data-screen=rules]")).to_be_visible()
        sign(tall)
        shot(tall, "kiosk-rules-zh.png")
        tall.evaluate("window.lobbyKiosk.reset()")
        chinese(tall)
        tall.click("button.way[hx-get$='/walk-in']")
        tall.fill("#walk-in-name", "王芳")
        tall.fill("#walk-in-company", "深圳光学")
        tall.locator("label.choice:has(input[value=rnd])").click()
        tall.locator("#walk-in-host_q").type("李")
        tall.locator(".host-option", has_text="李娜").click()
        expect(tall.locator(".chosen-host")).to_contain_text("李娜")
        shot(tall, "kiosk-walk-in-zh.png")

        host = staff("grace@lobby.local", "demo-host", "/host/")
        kiosk.keyboard.type(codes["Ada Lovelace"])
        kiosk.keyboard.press("Enter")
        expect(kiosk.locator("[data-screen=rules]")).to_be_visible()
        sign(kiosk)
        kiosk.click("#kiosk-result [data-action=accept-rules]")
        expect(kiosk.locator("[data-outcome=welcome]")).to_be_visible()
        shutil.copy(print_queued(app, badges), out / "badge-en.png")
        expect(kiosk.locator(".badge-state")).to_have_attribute("data-state", "printed")
        shot(kiosk, "kiosk-welcome.png")
        expect(host.locator("#banner")).to_contain_text("Ada Lovelace")
        expect(host.locator(".visit-card.state-checked_in")).to_have_count(1)
        shot(host, "host.png")
        print("wrote", out / "badge-en.png")

        with app.app_context():
            checkin.check_in(codes["张伟"], kiosk=demo.KIOSK, language="zh")
        shutil.copy(print_queued(app, badges), out / "badge-zh.png")
        print("wrote", out / "badge-zh.png")

        desk = staff("reception@lobby.local", "demo-reception", "/reception/")
        expect(desk.locator(".count.onsite b")).to_have_text("2")
        shot(desk, "reception.png")
        admin = staff("admin@lobby.local", "demo-admin", "/admin/")
        shot(admin, "admin.png")
        admin.goto("/admin/kiosk-settings")
        shot(admin, "admin-kiosk.png")
        browser.close()

    server.shutdown()
    shutil.rmtree(data, ignore_errors=True)
    vip_badge(out / "badge-vip.png")
    dashboards(out)


def dashboards(out: Path) -> None:
    """host.png and reception.png mid-morning: arrivals, tea, a tour, promised answers,
    an overdue wait, a walk-in (these replace the plainer shots taken above)."""
    from datetime import timedelta

    from server.extensions import db
    from server.models import Visit, utcnow
    from server.services import (
        clock,
        hosting,
        people,
        tasks,
        visit_changes,
        visits,
    )
    from server.services import (
        desk as desk_requests,
    )

    app, data = fresh_app("lobby-dash-")
    pw = "screenshots-only"
    with app.app_context():
        grace = people.create_user("grace@example.com", "Grace Hopper", ["host"], pw)
        linus = people.create_user("linus@example.com", "Linus Chen 陈林", ["host"], pw)
        rita = people.create_user("desk@example.com", "Rita Desk", ["receptionist"], pw)
        people.create_user("admin@example.com", "Alex Admin", ["admin"], pw)
        for name, zh in [("Green tea", "绿茶"), ("Coffee", "咖啡"), ("Water", "水")]:
            on_menu(name, zh)
        start, end = clock.today_bounds()

        def when(minutes):
            t = min(utcnow() + timedelta(minutes=minutes), end - timedelta(seconds=60))
            return max(t, start + timedelta(seconds=60)).isoformat() + "+00:00"

        def invite(name, company, host, minutes, purpose=""):
            return visits.pre_register(
                {"name": name, "company": company}, host.email, when(minutes), purpose
            )

        kj = invite("Katherine Johnson", "NASA Langley", grace, -30, "Orbital mechanics review")
        lc = invite("Wang Fang 王芳", "Shenzhen Optics 深圳光学", grace, -20, "Supplier audit")
        invite("Margaret Hamilton", "Apollo Software", grace, 90, "Contract renewal")
        cs = invite("Claude Shannon", "Bell Labs", grace, -60, "Interview")
        at = invite("Alan Turing", "Bletchley Park", linus, -15)
        for v in (kj, lc, cs, at):
            checkin.check_in(v.code)
        hosting.acknowledge(kj.id, grace)
        tea = tasks.create(
            kj.id,
            {
                "kind": "tea",
                "items": [{"drink": "Green tea", "count": 2}, {"drink": "Coffee", "count": 1}],
                "note": "no sugar",
            },
            grace,
        )
        tasks.update(tea.id, {"status": "served"}, rita)
        tasks.create(
            kj.id,
            {"kind": "tea", "items": [{"drink": "Water", "count": 2}], "note": "one hot"},
            grace,
        )
        hosting.record_requirements(
            kj.id, "Quote for 40 guidance modules; delivery before Q3.", grace
        )
        tasks.create(
            kj.id,
            {
                "kind": "follow_up",
                "question": "Price for 40 units?",
                "deadline": when(2 * 24 * 60),
                "reply_method": "email",
            },
            grace,
        )
        tour = tasks.create(
            lc.id,
            {
                "kind": "tour",
                "title": "Plant tour",
                "stops": [
                    {"place": "Assembly hall", "department": "Production", "planned_at": when(-5)},
                    {"place": "Optics lab", "department": "R&D", "planned_at": when(15)},
                ],
            },
            grace,
        )
        tasks.update(tour.id, {"status": "in_progress"}, grace)
        hosting.farewell(cs.id, grace, "walked to the lift")
        db.session.get_one(Visit, at.id).checked_in_at = utcnow() - timedelta(minutes=9)  # overdue
        db.session.commit()
        late = invite("Ada Lovelace", "Analytical Engines", grace, 0, "Engine review").code
        # A delegation booked together, and a visitor the kiosk turned away.
        group = visits.pre_register_group(
            [
                {"name": "张伟", "company": "华为"},
                {"name": "李娜", "company": "华为"},
                {"name": "Jonas Berg", "company": "华为"},
            ],
            grace.email,
            when(60),
            "Plant tour",
            name="华为 delegation",
        )
        invitation_id = group.visits[0].id
        off = invite("Grete Sommer", "Nordlicht GmbH", linus, 30, "Demo")
        visit_changes.cancel(off.id, "Trip postponed", linus)
        desk_requests.turned_away(db.session.get_one(Visit, off.id), None, "cancelled")
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)

        def signed_in(email, path):
            page = browser.new_context(
                base_url=f"http://127.0.0.1:{port}", viewport={"width": 1280, "height": 800}
            ).new_page()
            page.goto("/login")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", pw)
            page.click("button[type=submit]")
            page.wait_for_url(f"**{path}")
            expect(page.locator("#live-state")).to_have_attribute("data-state", "online")
            return page

        host = signed_in("grace@example.com", "/host/")
        desk = signed_in("desk@example.com", "/reception/")
        with app.app_context():
            checkin.check_in(late)
        expect(host.locator("#banner")).to_contain_text("Ada Lovelace")
        expect(desk.locator("#banner")).to_contain_text("Ada Lovelace")
        host.wait_for_timeout(800)
        host.screenshot(path=str(out / "host.png"))
        print("wrote", out / "host.png")
        desk.wait_for_timeout(800)
        desk.screenshot(path=str(out / "reception.png"))
        print("wrote", out / "reception.png")
        desk.goto("/reception/log")
        desk.wait_for_timeout(300)
        desk.screenshot(path=str(out / "reception-log.png"))
        print("wrote", out / "reception-log.png")
        admin = signed_in("admin@example.com", "/admin/")
        for path, name in [
            (f"/admin/visits/{invitation_id}/edit", "visit-edit.png"),
            (f"/admin/visits/{invitation_id}/invitation", "invitation.png"),
            ("/admin/users", "admin-users.png"),
        ]:
            admin.goto(path)
            admin.evaluate("document.fonts.ready")
            admin.wait_for_timeout(300)
            admin.screenshot(path=str(out / name))
            print("wrote", out / name)
        admin.goto("/admin/kiosks")
        admin.fill("input[name=name]", "Lobby west 西门")
        admin.get_by_role("button", name="Add kiosk 添加").click()
        expect(admin.locator("img[src^='data:image/png']")).to_be_visible()
        admin.wait_for_timeout(300)
        admin.screenshot(path=str(out / "admin-kiosks.png"))
        print("wrote", out / "admin-kiosks.png")
        browser.close()
    server.shutdown()
    shutil.rmtree(data, ignore_errors=True)


def vip_badge(path: Path) -> None:
    """A 5-star client's badge with a company logo: what a designed layout looks like."""
    from PIL import Image, ImageDraw

    from printers import fonts
    from printers.badge import Badge, render_badge, visitor_type_for
    from printers.layout import default_layout

    logo = Image.new("RGB", (420, 90), "white")
    draw = ImageDraw.Draw(logo)
    for x in range(90):  # a round gradient mark, to show the dithering
        draw.ellipse((x // 3, x // 3, 90 - x // 3, 90 - x // 3), fill=(x * 2, 60 + x, 200))
    fonts.draw_text(draw, (110, 18), "ACME 精工", 48)
    layout = default_layout(576)
    layout.logo = logo
    badge = Badge(
        visitor_name="Maximiliane von Hohenzollern-Sigmaringen",
        company="Fortune 500 AG",
        host_name="李娜",
        date_text="2026-11-27 09:30",
        code="vip-sample-000000000000",
        meeting_room="Board room 董事会议室",
        valid_until="2026-11-27 23:59",
        visitor_type=visitor_type_for("visitor", 5),
        stars=5,
    )
    render_badge(badge, layout=layout).save(path)
    print("wrote", path)


def policy_pages(out: Path, only: bool = False) -> None:
    """request-form.png (a 华为技术 request being filled, its estimate), approvals.png
    (what waits on the general manager), arrangement.png (the sheet's print view, in
    Chinese with English), standards.png: issue 14's pages with real data."""
    from datetime import timedelta

    from server.policy import arrangements, organisation, rooms
    from server.policy import requests as hospitality
    from server.services import clock, people

    app, data = fresh_app("lobby-policy-")
    pw = "screenshots-only"

    def local(days: float) -> str:
        return (clock.to_local(clock.utcnow()) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")

    with app.app_context():
        people.create_user("li.na@example.com", "李娜", ["host"], pw, department="销售部 Sales")
        people.create_user("wang@example.com", "王强 Wang Qiang", ["host"], pw)
        people.create_user("zhou@example.com", "周敏 Zhou Min", ["host"], pw)
        people.create_user("gm@example.com", "陈总 Chen (GM)", ["host", "admin"], pw)
        organisation.add_department("销售部 Sales", "wang@example.com")
        organisation.add_duty("zhou@example.com", "marketing")
        organisation.add_duty("zhou@example.com", "finance")
        organisation.add_duty("gm@example.com", "gm")
        rooms.add_room("三号会议室 Room 3", 10, projector=True)
        rooms.add_room("董事会议室 Board room", 20, projector=True)
        li = people.user_by_email("li.na@example.com")
        body = {
            "client": {
                "company": "华为技术有限公司",
                "star_level": 5,
                "background": "战略客户，续签年度框架合同 Strategic account",
            },
            "visitors": [
                {"name": "张伟", "title": "副总裁 VP"},
                {"name": "刘洋", "title": "采购总监"},
                {"name": "Ada Lovelace", "title": "CTO"},
            ],
            "purpose": "合同谈判与工厂参观 Contract talks and a plant tour",
            "arrives_at": local(3),
            "departs_at": local(3.3),
            "attendees": 4,
            "items": [
                {"kind": "meal", "quantity": 14, "amount": 4200},
                {"kind": "lodging", "quantity": 3, "amount": 2700},
                {"kind": "vehicle", "quantity": 2, "amount": 1600},
                {"kind": "gift", "quantity": 3, "amount": 900},
            ],
            "materials": ["flags", "name_plates", "welcome_banner"],
        }
        req = hospitality.create(body, li)
        rid = req.id
        wang = people.user_by_email("wang@example.com")
        zhou = people.user_by_email("zhou@example.com")
        hospitality.decide(rid, wang, "approve", "同意 Agreed")
        plan = {
            "schedule": "09:30 欢迎 · 10:00 会谈 · 14:00 参观",
            "venue": "三号会议室",
            "dining": "公司贵宾餐厅",
        }
        hospitality.decide(rid, zhou, "approve", "方案见附 Plan attached", plan)
        hospitality.decide(rid, zhou, "approve", "预算内 Within budget")
        arrangements.file(
            rid,
            {
                "receiving_staff": "李娜、王强",
                "attendees": 4,
                "visitors": 3,
                "background": "战略客户，续签年度框架合同",
                "arrives_at": local(3),
                "departs_at": local(3.3),
                "room": "三号会议室 Room 3",
                "projector": {"borrowed": True, "from": local(3), "to": local(3.1)},
                "tour": [
                    {"place": "总装车间 Assembly hall", "department": "生产部", "at": local(3.15)},
                    {"place": "研发中心 R&D centre", "department": "研发部", "at": local(3.2)},
                ],
                "welcome_banner": "热烈欢迎华为技术有限公司领导莅临指导",
                "materials": ["flags", "name_plates", "welcome_banner", "room_supplies"],
            },
            li,
        )
        # Issue 15: the GM approves, money is spent past the estimate with a pre-approval,
        # the visit ends with feedback, and an auditor records a violation.
        from io import BytesIO

        from PIL import Image
        from sqlalchemy import select

        from server.extensions import db as _db
        from server.models import Feedback, Visit, utcnow
        from server.policy import expenses, violations
        from server.services import checkin

        gm_user = people.user_by_email("gm@example.com")
        hospitality.decide(rid, gm_user, "approve", "欢迎 Welcome")
        organisation.add_duty("gm@example.com", "auditor")
        receipt = BytesIO()
        Image.new("RGB", (80, 60), "white").save(receipt, format="PNG")
        png = receipt.getvalue()
        expenses.add(rid, li, "meal", 4200, local(3), "欢迎晚宴 welcome dinner", png, "dinner.png")
        expenses.add(rid, li, "lodging", 2700, local(3), "酒店 hotel", png, "hotel.png")
        inc = expenses.ask_increase(rid, li, 800, "客户临时增加一人 one more guest")
        expenses.decide_increase(inc.id, zhou, "approve", "同意")
        expenses.decide_increase(inc.id, gm_user, "approve", "同意")
        expenses.add(rid, li, "vehicle", 2300, local(3), "包车 rented car", png, "car.png")
        first_visit = _db.session.scalars(
            select(Visit).where(Visit.request_id == rid).order_by(Visit.id)
        ).first()
        assert first_visit is not None
        checkin.check_in(first_visit.code, by=gm_user, admit_reason="early")
        checkin.check_out(first_visit.code)
        _db.session.add(
            Feedback(
                visit_id=first_visit.id,
                token="screenshot",
                expires_at=utcnow(),
                submitted_at=utcnow(),
                welcome=5,
                hospitality=2,
                meeting=4,
                comment="午餐等了很久 Lunch came late",
            )
        )
        _db.session.commit()
        today = clock.to_local(clock.utcnow()).date().isoformat()
        violations.record(
            gm_user,
            "li.na@example.com",
            "major",
            today,
            "礼品超出标准 Gift above the standard",
            serious=True,
            multiplier=2,
        )
        hospitality.create(
            {
                **body,
                "client": {"company": "小米科技", "star_level": 4},
                "items": [{"kind": "meal", "quantity": 8}],
                "visitors": [{"name": "雷军"}],
                "arrives_at": local(0.6),
                "departs_at": local(0.7),
            },
            li,
        )

    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    with sync_playwright() as p, app.app_context():  # local() needs the site's zone
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)

        def signed_in(email, path):
            page = browser.new_context(base_url=base, viewport=VIEWPORT).new_page()
            page.set_default_timeout(60_000)
            page.goto("/login")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", pw)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/login" not in url)
            page.goto(path)
            page.evaluate("document.fonts.ready")
            return page

        def save(page, name, full=False):
            page.wait_for_timeout(400)
            page.screenshot(path=str(out / name), full_page=full)
            print("wrote", out / name)

        li_page = signed_in("li.na@example.com", "/requests/new")
        li_page.fill("input[name=company]", "中国石化 Sinopec")
        li_page.check("input[name=star_level][value='4']")
        li_page.fill("textarea[name=background]", "新客户，首次来访 First visit")
        li_page.fill("textarea[name=purpose]", "技术交流 Technical exchange")
        li_page.fill("input[name=arrives_at]", local(5))
        li_page.fill("input[name=departs_at]", local(5.2))
        li_page.fill("input[name=visitor-0-name]", "赵敏")
        li_page.fill("input[name=visitor-0-title]", "总工程师")
        li_page.fill("input[name=visitor-1-name]", "孙浩")
        li_page.select_option("select[name=item-0-kind]", "meal")
        li_page.fill("input[name=item-0-quantity]", "6")
        li_page.select_option("select[name=item-1-kind]", "lodging")
        li_page.fill("input[name=item-1-quantity]", "2")
        li_page.fill("input[name=item-1-amount]", "1100")
        li_page.locator("input[name=item-1-amount]").dispatch_event("change")
        expect(li_page.locator("#estimate-total")).to_be_visible()
        save(li_page, "request-form.png", full=True)
        gm = signed_in("gm@example.com", "/approvals")
        save(gm, "approvals.png")
        gm.goto(f"/requests/{rid}")
        save(gm, "request.png", full=True)
        gm.goto(f"/requests/{rid}/arrangement")
        save(gm, "arrangement.png", full=True)
        gm.goto("/admin/standards")
        save(gm, "standards.png")
        gm.goto(f"/requests/{rid}")
        gm.wait_for_timeout(400)
        gm.locator("#money").screenshot(path=str(out / "request-money.png"))
        print("wrote", out / "request-money.png")
        gm.goto("/reports/audit?month=" + clock.to_local(clock.utcnow()).strftime("%Y-%m"))
        save(gm, "audit-report.png", full=True)
        browser.close()
    server.shutdown()
    shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    if "--policy" in sys.argv[2:]:
        policy_pages(target)
    else:
        main(target)
        policy_pages(target)
