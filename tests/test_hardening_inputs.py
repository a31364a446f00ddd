"""Issue 13, item 1: hostile input gets a 4xx with a stable code, never a 500, never a
leak: uploads only in PNG/JPEG/WebP with their pixels counted before decoding, bodies
bounded before they are read, lists bounded, digits that are not ASCII, deep JSON,
dates past year 9999, lone surrogates, odd farewell bodies, a replay past 64 bits;
a reused rules signature shown only to staff who may see the visit it was made on;
event rooms that are names, never parsed out of a string."""

import io
import os
import struct
import subprocess
import sys
import time
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from server.extensions import db
from server.models import Signature, Visit, utcnow
from server.services import checkin, kiosk_settings, people, photos, rules, tasks
from server.services.clock import iso
from server.services.errors import ValidationError
from tests.conftest import PASSWORD, auth, csrf_from, login, on_menu, staff_socket
from tests.kiosk_helpers import KioskClient

ROOT = Path(__file__).resolve().parent.parent
EPS = (
    b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n"
    b"newpath 0 0 moveto 100 100 lineto stroke\nshowpage\n%%EOF\n"
)


def png_bomb(side: int = 13000) -> bytes:
    """A real RGBA PNG of ``side`` x ``side`` black pixels: ~660 KB on disk, 676 MB
    decoded (the issue's upload)."""
    row = b"\x00" * (1 + side * 4)
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    path.write_bytes(png_bomb())
    return path


MEASURE = """
import resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))  # never eat the machine


def peak_mb():  # this process's own high-water mark (ru_maxrss keeps the parent's over exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024


from server.services import images, photos
data = open(sys.argv[1], "rb").read()
before = peak_mb()
started = time.monotonic()
try:
    if sys.argv[2] == "photo":
        photos.normalise(data)
    else:
        images.open_image(data)
    outcome = "accepted"
except Exception as e:
    outcome = type(e).__name__ + ": " + str(e)
print(outcome)
print(round(time.monotonic() - started, 3), peak_mb() - before)
"""


def measure(path: Path, how: str = "image", env: dict | None = None) -> tuple[str, float, int]:
    """Decode ``path`` in a fresh process: (outcome, seconds, peak RSS growth in MB)."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), how],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    lines = done.stdout.strip().splitlines()
    assert len(lines) >= 2, done.stderr[-2000:]
    seconds, mb = lines[-1].split()
    return lines[-2], float(seconds), int(mb)


def signed_in(app, email):
    web = app.test_client()
    login(web, email)
    return web


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


# ---- uploads ----------------------------------------------------------------------


def test_an_eps_upload_never_reaches_ghostscript_and_is_refused_fast(tmp_path):
    """A ``gs`` on the PATH that would take 5 s and leave a mark: never run."""
    fake = tmp_path / "bin"
    fake.mkdir()
    mark = tmp_path / "gs-ran"
    (fake / "gs").write_text(f"#!/bin/sh\ntouch {mark}\nsleep 5\n")
    (fake / "gs").chmod(0o755)
    eps = tmp_path / "logo.eps"
    eps.write_bytes(EPS)
    outcome, seconds, _ = measure(eps, env={"PATH": f"{fake}:{os.environ['PATH']}"})
    assert outcome == "ValueError: not a PNG, JPEG or WebP image"
    assert seconds < 1 and not mark.exists()


def test_an_eps_photo_or_logo_is_refused_with_a_clear_error(app, staff):
    with pytest.raises(ValidationError) as e:
        photos.normalise(EPS)
    assert e.value.code == "invalid_photo" and "PNG, JPEG or WebP" in e.value.fields["photo"]
    web = signed_in(app, "admin@example.com")
    token = csrf_from(web.get("/admin/kiosk-settings").get_data(as_text=True))
    started = time.monotonic()
    resp = web.post(
        "/admin/kiosk-settings",
        data={"csrf_token": token, "rules_valid_days": "30", "logo": (io.BytesIO(EPS), "l.eps")},
    )
    assert resp.status_code == 422 and time.monotonic() - started < 2
    assert "not a PNG or JPEG image" in resp.get_data(as_text=True)
    assert kiosk_settings.get().logo_png is None


def test_a_13000_square_png_is_refused_before_decoding_in_little_memory(bomb):
    assert 500_000 < bomb.stat().st_size < 800_000  # the 657 KB upload
    outcome, seconds, grew_mb = measure(bomb)
    assert outcome.startswith("ValueError: 13000x13000 pixels is too large"), outcome
    print(f"13000x13000 PNG refused in {seconds} s, peak RSS grew {grew_mb} MB")
    assert seconds < 1 and grew_mb < 20


def test_the_largest_photo_accepted_stays_within_a_bounded_memory(tmp_path):
    """4000x3000 RGBA PNG (12 MP, the most accepted) through the photo path."""
    path = tmp_path / "big.png"
    Image.linear_gradient("L").resize((4000, 3000)).convert("RGBA").save(path)
    assert path.stat().st_size < photos.MAX_BYTES
    outcome, seconds, grew_mb = measure(path, "photo")
    print(f"12 MP RGBA PNG photo re-encoded in {seconds} s, peak RSS grew {grew_mb} MB")
    assert outcome == "accepted" and grew_mb < 250


def test_a_huge_logo_upload_is_refused_on_the_form(app, staff, bomb):
    web = signed_in(app, "admin@example.com")
    token = csrf_from(web.get("/admin/kiosk-settings").get_data(as_text=True))
    resp = web.post(
        "/admin/kiosk-settings",
        data={
            "csrf_token": token,
            "rules_valid_days": "30",
            "logo": (io.BytesIO(bomb.read_bytes()), "logo.png"),
        },
    )
    assert resp.status_code == 422
    assert "at most 12 megapixels" in resp.get_data(as_text=True)


def test_png_jpeg_and_webp_photos_are_taken(app):
    for fmt in ("PNG", "JPEG", "WEBP"):
        out = io.BytesIO()
        Image.new("RGB", (1200, 900), (200, 30, 30)).save(out, format=fmt)
        jpeg = Image.open(io.BytesIO(photos.normalise(out.getvalue())))
        assert jpeg.format == "JPEG" and max(jpeg.size) == photos.MAX_SIDE, fmt
    gif = io.BytesIO()
    Image.new("RGB", (40, 40)).save(gif, format="GIF")
    with pytest.raises(ValidationError):
        photos.normalise(gif.getvalue())


# ---- sizes ------------------------------------------------------------------------


def test_an_oversize_body_is_a_413_before_it_is_read(app, client, tokens):
    big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    resp = client.post("/login", data={"email": "a@b.c", "blob": (io.BytesIO(big), "b.bin")})
    assert resp.status_code == 413
    api = client.post(
        "/api/v1/visits",
        data=b'{"a": "' + big + b'"}',
        content_type="application/json",
        headers=auth(tokens["host"]),
    )
    assert api.status_code == 413 and api.get_json()["error"]["code"] == "too_large"


def test_uploads_may_be_larger_than_other_bodies(app, staff, make_visit):
    """A photo (as a data URL) and a logo above the 1 MB body limit are taken."""
    kiosk_settings.save(photo_enabled=True)
    kiosk = KioskClient(app)
    visit = make_visit()
    ticket = _ticket(kiosk.scan(visit.code).get_data(as_text=True))
    noise = io.BytesIO()
    Image.effect_noise((1400, 1000), 60).convert("RGB").save(noise, format="JPEG", quality=98)
    import base64

    url = "data:image/jpeg;base64," + base64.b64encode(noise.getvalue()).decode()
    assert 1024 * 1024 < len(url) < photos.MAX_BYTES
    resp = kiosk.post("/kiosk/photo", {"ticket": ticket, "photo_data": url})
    assert resp.status_code == 200
    assert photos.get(visit.id) is not None
    web = signed_in(app, "admin@example.com")
    token = csrf_from(web.get("/admin/kiosk-settings").get_data(as_text=True))
    logo = io.BytesIO()
    Image.effect_noise((700, 700), 90).convert("RGB").save(logo, format="PNG")
    assert 1024 * 1024 < len(logo.getvalue()) < kiosk_settings.MAX_LOGO_BYTES
    resp = web.post(
        "/admin/kiosk-settings",
        data={
            "csrf_token": token,
            "rules_valid_days": "30",
            "logo": (io.BytesIO(logo.getvalue()), "l.png"),
        },
    )
    assert resp.status_code == 303 and kiosk_settings.get().logo_png


def _ticket(html: str) -> str:
    from tests.kiosk_helpers import ticket_in

    return ticket_in(html)


@pytest.fixture
def arrived(app, staff, make_visit):
    on_menu("Green tea", "绿茶")
    visit = make_visit()
    checkin.check_in(visit.code)
    return visit


def test_lists_a_client_sends_are_bounded_with_the_field_named(client, tokens, arrived):
    url = f"/api/v1/visits/{arrived.id}/tasks"
    stops = [{"place": f"Hall {i}"} for i in range(tasks.MAX_STOPS + 1)]
    resp = client.post(
        url, headers=auth(tokens["host"]), json={"kind": "tour", "starts_at": "", "stops": stops}
    )
    assert resp.status_code == 422 and "stops" in resp.get_json()["error"]["fields"]
    items = [{"drink": "Green tea", "count": 1}] * (tasks.MAX_ITEMS + 1)
    resp = client.post(url, headers=auth(tokens["host"]), json={"kind": "tea", "items": items})
    assert resp.status_code == 422 and "items" in resp.get_json()["error"]["fields"]
    odd = client.post(
        url, headers=auth(tokens["host"]), json={"kind": "tea", "items": [{"drink": ["x"]}]}
    )
    assert odd.status_code == 422


# ---- the listed 500s --------------------------------------------------------------

SUPER_TWO = "\u00b2"  # "²": str.isdigit() is True, int() refuses it


def test_a_superscript_desk_request_id_on_a_desk_walk_in_writes_nothing(app, staff):
    desk = signed_in(app, "desk@example.com")
    token = csrf_from(desk.get("/reception/").get_data(as_text=True))
    before = count(Visit)
    resp = desk.post(
        "/reception/walk-ins",
        data={
            "csrf_token": token,
            "name": "Mallory",
            "host_id": str(staff["host"].id),
            "desk_request_id": SUPER_TWO,
        },
    )
    assert resp.status_code == 422
    assert count(Visit) == before
    resp = desk.post(
        "/reception/walk-ins", data={"csrf_token": token, "name": "M", "host_id": SUPER_TWO}
    )
    assert resp.status_code == 422 and count(Visit) == before


def test_superscript_digits_in_ids_cookies_and_fields_are_never_a_500(
    app, client, staff, tokens, make_visit
):
    kiosk = KioskClient(app)
    resp = kiosk.post(
        "/kiosk/walk-in", {"name": "M", "company": "", "phone": "", "host_id": SUPER_TWO}
    )
    assert resp.status_code == 200
    intruder = app.test_client()
    intruder.set_cookie("lobby_kiosk", f"{SUPER_TWO}.secret")
    assert intruder.get("/kiosk/").status_code < 500
    found = client.get(f"/api/v1/visits?host={SUPER_TWO}", headers=auth(tokens["reception"]))
    assert found.status_code == 200
    admin = signed_in(app, "admin@example.com")
    assert admin.get(f"/admin/rules?published={SUPER_TWO}").status_code == 200
    visit = make_visit()
    grace = signed_in(app, "grace@example.com")
    token = csrf_from(grace.get("/host/").get_data(as_text=True))
    tour = grace.post(
        f"/host/visits/{visit.id}/tour",
        data={"csrf_token": token, "starts_at": f"{SUPER_TWO}{SUPER_TWO}:{SUPER_TWO}0"},
    )
    assert tour.status_code < 500
    edit = grace.post(
        f"/host/visits/{visit.id}/edit",
        data={"csrf_token": token, "name": "Ada", "stars": SUPER_TWO},
    )
    assert edit.status_code < 500
    with pytest.raises(ValidationError):
        people.resolve_fallback(db.session, SUPER_TWO)
    with pytest.raises(ValidationError):
        people.resolve_fallback(db.session, "9" * 30)


def test_json_nested_fifty_thousand_deep_is_a_422(client, tokens):
    body = "[" * 50_000 + "]" * 50_000
    for wrapped in (body, '{"visitor": ' + body + "}"):
        resp = client.post(
            "/api/v1/visits",
            data=wrapped,
            content_type="application/json",
            headers=auth(tokens["host"]),
        )
        assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "invalid_json"


def test_a_time_past_year_9999_in_utc_is_a_422(client, tokens, make_visit):
    body = {
        "visitor": {"name": "Ada"},
        "host": "grace@example.com",
        "expected_at": "9999-12-31T23:59:59-14:00",
    }
    resp = client.post("/api/v1/visits", json=body, headers=auth(tokens["host"]))
    assert resp.status_code == 422 and "expected_at" in resp.get_json()["error"]["fields"]
    visit = make_visit()
    patch = client.patch(
        f"/api/v1/visits/{visit.id}",
        json={"expected_at": "0001-01-01T00:00:00+14:00"},
        headers=auth(tokens["host"]),
    )
    assert patch.status_code == 422


def test_a_lone_surrogate_is_never_stored(app, client, tokens, staff):
    raw = '{"visitor": {"name": "\\ud800"}, "host": "grace@example.com"}'
    before = count(Visit)
    resp = client.post(
        "/api/v1/visits", data=raw, content_type="application/json", headers=auth(tokens["host"])
    )
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "invalid_json"
    assert count(Visit) == before
    errors: dict = {}
    from server.services.visits import text_field

    assert text_field({"name": "a\ud800"}, "name", errors, 100) == ""
    assert errors == {"name": "not valid text"}


@pytest.mark.parametrize("extra", ['"request": 36813471617264310550528', '"x": NaN', '"x": 1e999'])
def test_numbers_no_database_takes_are_a_422(client, tokens, extra):
    """A booking's ``request`` id past 64 bits was a 500 (the fuzzer's find)."""
    resp = client.post(
        "/api/v1/rooms/1/bookings",
        data="{" + extra + "}",
        content_type="application/json",
        headers=auth(tokens["reception"]),
    )
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("body", ["[1, 2]", '"bye"', "42", '{"note": ["x"]}'])
def test_a_farewell_body_that_is_not_an_object_is_a_422(client, tokens, arrived, body):
    resp = client.post(
        f"/api/v1/visits/{arrived.id}/farewell",
        data=body,
        content_type="application/json",
        headers=auth(tokens["host"]),
    )
    assert resp.status_code == 422
    assert resp.get_json()["error"]["code"] in ("invalid_json", "invalid_field")


def test_a_farewell_without_a_body_still_works(client, tokens, arrived):
    resp = client.post(f"/api/v1/visits/{arrived.id}/farewell", headers=auth(tokens["host"]))
    assert resp.status_code == 200


def test_replay_since_past_64_bits_answers_invalid_since(app, staff):
    grace = staff_socket(app, "grace@example.com")
    for since in (2**63, 2**64, 10**40):
        ack = grace.emit("replay", {"since": since}, callback=True)
        assert ack["error"]["code"] == "invalid_since", since
    assert "last_seq" in grace.emit("replay", {"since": 2**63 - 1}, callback=True)


def test_an_unexpected_error_on_the_api_is_json_internal_error_without_a_traceback(app):
    @app.get("/api/v1/_boom")
    def boom():
        raise RuntimeError("secret detail")

    resp = app.test_client().get("/api/v1/_boom")
    assert resp.status_code == 500
    assert resp.get_json() == {
        "error": {"code": "internal_error", "message": "something went wrong; it has been logged"}
    }
    assert "secret detail" not in resp.get_data(as_text=True)


# ---- signatures -------------------------------------------------------------------


def _signature_png() -> bytes:
    from PIL import ImageDraw

    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).line(
        [(40, 150), (120, 40), (200, 160), (320, 50), (480, 140)], fill=(16, 24, 40, 255), width=4
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_a_host_cannot_read_another_hosts_visitors_signature_by_reusing_her_email(
    app, staff, make_visit
):
    published = rules.publish("Rules", "须知", staff["admin"])
    theirs = make_visit(host="linus@example.com", email="eve@example.com")
    rules.sign(theirs, published.id, "en", _signature_png())
    signed = db.session.scalar(select(Signature))
    checkin.check_in(theirs.code)
    # Grace books "someone" with Eve's email: the kiosk would not ask Eve to sign again.
    mine = make_visit(name="Whoever", email="eve@example.com")
    assert rules.needs_signature(mine) is None

    grace = signed_in(app, "grace@example.com")
    assert grace.get(f"/reception/visits/{mine.id}/signature.png").status_code == 404
    page = grace.get("/host/").get_data(as_text=True)
    assert "Signed site rules v1 on an earlier visit" in page
    when = signed.signed_at.strftime("%H:%M")
    card = page[page.index("Whoever") :]
    assert "signature.png" not in card and "English" not in card
    assert f"· {when}" not in card.split("Signed site rules v1 on an earlier visit")[1][:40]

    # Reception, and the host of the visit it was signed on, still see it all.
    desk = signed_in(app, "desk@example.com")
    assert desk.get(f"/reception/visits/{mine.id}/signature.png").status_code == 200
    linus_next = make_visit(name="Eve", email="eve@example.com", host="linus@example.com")
    linus = signed_in(app, "linus@example.com")
    assert linus.get(f"/reception/visits/{linus_next.id}/signature.png").status_code == 200


# ---- rooms ------------------------------------------------------------------------


def _events(sock, name):
    return [m["args"][0] for m in sock.get_received() if m["name"] == name]


def test_a_department_is_one_room_name_never_split(app, staff, arrived):
    """A stop's department "x host:N" reaches nobody in host:N; "R and D" reaches the
    user whose department is "R and D" (live and on replay)."""
    people.create_user("rd@example.com", "Rae D", ["host"], PASSWORD, department="R and D")
    other = staff["other_host"]
    linus = staff_socket(app, "linus@example.com")
    rd = staff_socket(app, "rd@example.com")
    since = [m for m in rd.get_received() if m["name"] == "hello"][0]["args"][0]["last_seq"]
    linus.get_received()
    soon = utcnow() + timedelta(minutes=30)
    tasks.create(
        arrived.id,
        {
            "kind": "tour",
            "starts_at": iso(soon),
            "stops": [
                {"place": "Lab", "department": f"x host:{other.id}"},
                {"place": "Bench", "department": "R and D"},
            ],
        },
        staff["host"],
    )
    assert tasks.send_tour_reminders() == 1
    assert _events(linus, "task_updated") == [] and linus.get_received() == []
    got = rd.get_received()
    assert [m["name"] for m in got] == ["task_updated", "tour_reminder"]
    ack = rd.emit("replay", {"since": since}, callback=True)
    replayed = [m["name"] for m in rd.get_received()]
    assert replayed == ["task_updated", "tour_reminder"] and ack["last_seq"] > since
    linus.emit("replay", {"since": since}, callback=True)
    assert linus.get_received() == []
