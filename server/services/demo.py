"""Demo data for ``lobby run --demo``: staff with known passwords, a kiosk, a printer,
the kiosk's branding and site rules, and visitors expected today (Latin and Chinese
names)."""

from datetime import timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import Kiosk, Printer, User, Visit, utcnow
from server.services import clock, devices, kiosk_settings, people, rules, tasks, visits
from server.services.tx import write

LOGINS = [
    ("admin@lobby.local", "Alex Admin", ["admin"], "demo-admin", None),
    ("reception@lobby.local", "Rita Reception", ["receptionist"], "demo-reception", None),
    ("grace@lobby.local", "Grace Hopper", ["host"], "demo-host", "Sales"),
    ("li.na@lobby.local", "李娜", ["host"], "demo-host", "Production"),
    ("gm@lobby.local", "陈总 Chen (GM)", ["host"], "demo-gm", None),
]
DRINKS = [("Green tea", "绿茶"), ("Black tea", "红茶"), ("Coffee", "咖啡"), ("Water", "矿泉水")]
GUESTS = [
    ("Ada Lovelace", "Analytical Engines", "grace@lobby.local", 0, "Engine design review"),
    ("张伟", "华为技术有限公司", "li.na@lobby.local", 1, "供应链合作洽谈"),
    ("José Müller", "Müller & Söhne GmbH", "grace@lobby.local", 2, "Plant tour"),
]
COMPANY = "Analytical Engines Ltd. 分析机械有限公司"
WELCOME = ("Thank you for visiting us. Please check in below.", "感谢您的来访，请在下方签到。")
RULES_EN = """Site rules for visitors

1. Wear your visitor badge where it can be seen, and return it when you leave.
2. Stay with your host; do not enter production areas alone.
3. No photos or video in the plant without written permission.
4. What you see and hear here about our products, processes and plans is confidential: \
do not share it.
5. In an alarm, follow your host to the assembly point."""
RULES_ZH = """访客须知

1. 请佩戴访客证并保持可见，离开时交还前台。
2. 请全程由接待人陪同，勿单独进入生产区域。
3. 未经书面许可，厂区内禁止拍照或录像。
4. 您在此了解到的产品、工艺及计划信息均属保密，请勿外传。
5. 如遇警报，请随接待人前往集合点。"""
KIOSK = "Front door kiosk"
PRINTER = "Front desk printer"


def load(printer_url: str) -> dict:
    """Create what is missing; returns logins, the kiosk pairing path and visit codes."""
    for email, name, roles, password, department in LOGINS:
        if db.session.scalar(select(User).where(User.email == email)) is None:
            people.create_user(email, name, roles, password=password, department=department)
    on_menu = {d.name for d in tasks.menu(active_only=False)}
    for name, name_zh in DRINKS:
        if name not in on_menu:
            tasks.add_drink(name, name_zh)
    printer = db.session.scalar(select(Printer).where(Printer.name == PRINTER))
    if printer is None:
        devices.add_printer(PRINTER, printer_url)
    else:
        with write():
            db.session.get_one(Printer, printer.id).url = printer_url
    if db.session.scalar(select(Kiosk).where(Kiosk.name == KIOSK)) is None:
        _, pair_path = devices.add_kiosk(KIOSK, printer=PRINTER)
    else:
        pair_path = devices.new_pairing(KIOSK)
    if rules.current() is None:  # the kiosk asks visitors to sign these
        admin = db.session.scalar(select(User).where(User.email == LOGINS[0][0]))
        rules.publish(RULES_EN, RULES_ZH, admin)
    if not kiosk_settings.get().company_name:
        kiosk_settings.save(company_name=COMPANY, welcome_en=WELCOME[0], welcome_zh=WELCOME[1])
    codes = []
    start, end = clock.today_bounds()
    for name, company, host, hours, purpose in GUESTS:
        # later today, but never tomorrow: the demo must check in whatever the hour
        when = min(utcnow() + timedelta(hours=hours), end - timedelta(minutes=10 - hours))
        existing = db.session.scalar(
            select(Visit).where(
                Visit.status == "expected",
                Visit.visitor.has(name=name),
                Visit.expected_at >= start,
                Visit.expected_at < end,
            )
        )
        visit = existing or visits.pre_register(
            {"name": name, "company": company}, host, when.isoformat() + "+00:00", purpose
        )
        codes.append((name, visit.code))
    _policy()
    return {"logins": LOGINS, "pair_path": pair_path, "codes": codes}


def _policy() -> None:
    """The reception policy's side (README "Hospitality requests"): departments and
    their heads, duties, two rooms, and two requests — one waiting on the general
    manager, one arriving tomorrow without its arrangement sheet (overdue)."""
    from server.models import HospitalityRequest
    from server.policy import organisation, rooms
    from server.policy import requests as hospitality

    if db.session.scalar(select(HospitalityRequest.id).limit(1)) is not None:
        return
    for name, head in (("Sales", "grace@lobby.local"), ("Production", "grace@lobby.local")):
        if organisation.department(name) is None:
            organisation.add_department(name, head)
    for email, duty in (
        ("admin@lobby.local", "marketing"),
        ("admin@lobby.local", "finance"),
        ("gm@lobby.local", "gm"),
        ("gm@lobby.local", "auditor"),
        ("gm@lobby.local", "president_office"),
    ):
        organisation.add_duty(email, duty)
    for room, seats, projector in (
        ("Room 3 三号会议室", 8, True),
        ("Board room 董事会议室", 20, True),
    ):
        if rooms.room_by_name(room) is None:
            rooms.add_room(room, seats, projector)
    local_now = clock.to_local(utcnow())
    li = people.user_by_email("li.na@lobby.local")
    grace = people.user_by_email("grace@lobby.local")
    admin = people.user_by_email("admin@lobby.local")
    big = hospitality.create(
        {
            "client": {"company": "华为技术有限公司", "star_level": 5, "background": "战略客户"},
            "visitors": [
                {"name": "张伟", "title": "副总裁"},
                {"name": "刘洋", "title": "采购总监"},
            ],
            "purpose": "合同谈判与工厂参观 Contract talks and a plant tour",
            "arrives_at": (local_now + timedelta(days=3)).replace(hour=9, minute=30).isoformat(),
            "departs_at": (local_now + timedelta(days=3)).replace(hour=16, minute=0).isoformat(),
            "attendees": 4,
            "items": [
                {"kind": "meal", "quantity": 12, "amount": 3600},
                {"kind": "vehicle", "quantity": 2, "amount": 1200},
            ],
            "materials": ["flags", "name_plates", "welcome_banner"],
        },
        li,
    )
    hospitality.decide(big.id, grace, "approve", "同意 Agreed")
    plan = {
        "schedule": "09:30 欢迎 · 10:00 会谈 · 14:00 参观",
        "venue": "Room 3",
        "dining": "贵宾餐厅",
    }
    hospitality.decide(big.id, admin, "approve", "", plan)
    hospitality.decide(big.id, admin, "approve", "Within budget 预算内")
    hospitality.create(
        {
            "client": {"company": "Analytical Engines", "star_level": 4},
            "visitors": [{"name": "Charles Babbage", "title": "CTO"}],
            "purpose": "Engine design review",
            "arrives_at": (local_now + timedelta(hours=20)).isoformat(),
            "departs_at": (local_now + timedelta(hours=23)).isoformat(),
            "attendees": 2,
            "items": [{"kind": "meal", "quantity": 3}],
        },
        grace,
    )
