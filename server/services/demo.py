"""Demo data for ``lobby run --demo``: staff with known passwords, a kiosk, a printer
and visitors expected today (Latin and Chinese names)."""
from datetime import timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import Kiosk, Printer, User, Visit, utcnow
from server.services import clock, devices, people, tasks, visits
from server.services.tx import write

LOGINS = [
    ("admin@lobby.local", "Alex Admin", ["admin"], "demo-admin", None),
    ("reception@lobby.local", "Rita Reception", ["receptionist"], "demo-reception", None),
    ("grace@lobby.local", "Grace Hopper", ["host"], "demo-host", "Sales"),
    ("li.na@lobby.local", "李娜", ["host"], "demo-host", "Production"),
]
DRINKS = [("Green tea", "绿茶"), ("Black tea", "红茶"), ("Coffee", "咖啡"), ("Water", "矿泉水")]
GUESTS = [
    ("Ada Lovelace", "Analytical Engines", "grace@lobby.local", 0, "Engine design review"),
    ("张伟", "华为技术有限公司", "li.na@lobby.local", 1, "供应链合作洽谈"),
    ("José Müller", "Müller & Söhne GmbH", "grace@lobby.local", 2, "Plant tour"),
]
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
            db.session.get(Printer, printer.id).url = printer_url
    if db.session.scalar(select(Kiosk).where(Kiosk.name == KIOSK)) is None:
        _, pair_path = devices.add_kiosk(KIOSK, printer=PRINTER)
    else:
        pair_path = devices.new_pairing(KIOSK)
    codes = []
    start, end = clock.today_bounds()
    for name, company, host, hours, purpose in GUESTS:
        # later today, but never tomorrow: the demo must check in whatever the hour
        when = min(utcnow() + timedelta(hours=hours), end - timedelta(minutes=10 - hours))
        existing = db.session.scalar(select(Visit).where(
            Visit.status == "expected", Visit.visitor.has(name=name),
            Visit.expected_at >= start, Visit.expected_at < end))
        visit = existing or visits.pre_register({"name": name, "company": company}, host,
                                                when.isoformat() + "+00:00", purpose)
        codes.append((name, visit.code))
    return {"logins": LOGINS, "pair_path": pair_path, "codes": codes}
