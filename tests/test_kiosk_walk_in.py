"""Walk-ins at the kiosk: the form (purposes of the policy, host search by name and
department only), a visit with a host that goes on to check-in (host alerted, badge
queued), reception asked to route a walk-in with no host, one visit or request per
attempt, and every field error beside its field in the visitor's language."""

import re
import threading

import pytest

from server.extensions import db
from server.models import DeskRequest, PrintJob, Visit
from server.services import clock, people, walk_ins
from server.services.errors import ValidationError
from tests.conftest import staff_socket
from tests.kiosk_helpers import KioskClient

ATTEMPT = "attempt-key-0123456789"


def html(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


@pytest.fixture
def kiosk(app, staff):
    return KioskClient(app)


@pytest.fixture
def grace(staff):
    host = staff["host"]
    host.department = "Engineering"
    db.session.commit()
    return host


def test_purposes_are_the_policys_plus_other_in_both_languages(app, kiosk):
    assert [key for key, _ in walk_ins.PURPOSES] == [
        "operations",
        "production",
        "quality",
        "rnd",
        "negotiation",
        "other",
    ]
    en = html(kiosk.get("/kiosk/walk-in"))
    zh = html(kiosk.get("/kiosk/walk-in", lang="zh"))
    for key, label in walk_ins.PURPOSES:
        assert f'name="purpose" value="{key}"' in en and label in en
    for text in (
        "了解我公司生产体系",
        "了解我公司质量控制体系",
        "了解我公司研发体系",
        "商务洽谈",
        "其他",
    ):
        assert text in zh
    assert 'data-refresh="/kiosk/walk-in"' in en


def test_walk_in_with_a_host_is_a_visit_that_checks_in_alerts_the_host_and_prints(
    app, kiosk, grace
):
    host_socket = staff_socket(app, "grace@example.com")
    host_socket.get_received()
    page = html(
        kiosk.post(
            "/kiosk/walk-in",
            {
                "name": "Ada Lovelace",
                "company": "Analytical Engines",
                "phone": "+44 20 7946 0000",
                "purpose": "production",
                "host_id": str(grace.id),
                "attempt": ATTEMPT,
            },
        )
    )
    welcome = kiosk.skip_photo(page)
    assert 'data-outcome="welcome"' in welcome and "Grace Hopper" in welcome
    visit = db.session.query(Visit).one()
    assert visit.walk_in and visit.status == "checked_in" and visit.host_id == grace.id
    assert visit.purpose == "Learn about our production"
    assert visit.attempt_key.endswith(ATTEMPT) and visit.visitor.phone == "+44 20 7946 0000"
    start, end = clock.today_bounds()
    assert start <= visit.expected_at < end
    arrived = [m["args"][0] for m in host_socket.get_received() if m["name"] == "visitor_arrived"]
    assert [a["visit_id"] for a in arrived] == [visit.id]
    assert db.session.query(PrintJob).filter_by(visit_id=visit.id).count() == 1


def test_other_purpose_records_what_the_visitor_wrote(app, kiosk, grace):
    kiosk.post(
        "/kiosk/walk-in",
        {
            "name": "Ada",
            "purpose": "other",
            "purpose_other": "Fix the roof",
            "host_id": str(grace.id),
        },
    )
    assert db.session.query(Visit).one().purpose == "Other: Fix the roof"


def test_a_retried_submit_is_the_same_visit(app, kiosk, grace):
    form = {"name": "Ada Lovelace", "host_id": str(grace.id), "attempt": ATTEMPT}
    first = html(kiosk.post("/kiosk/walk-in", form))
    second = html(kiosk.post("/kiosk/walk-in", form))
    assert 'data-screen="photo"' in first and 'data-screen="photo"' in second
    assert db.session.query(Visit).count() == 1
    kiosk.post("/kiosk/walk-in", {**form, "attempt": "another-attempt-0123"})
    assert db.session.query(Visit).count() == 2  # a new attempt is a new visitor


def test_a_retry_racing_the_first_submit_is_still_one_visit(app, grace):
    """Parallel requests with one attempt key: the unique key decides, no error."""
    results, errors = [], []
    barrier = threading.Barrier(8)
    host_id = grace.id

    def submit():
        with app.app_context():
            try:
                barrier.wait()
                results.append(
                    walk_ins.register(
                        {"name": "Ada", "host_id": host_id}, attempt_key="k1:" + ATTEMPT
                    ).id
                )
            except Exception as e:  # reported below
                errors.append(repr(e))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    db.session.rollback()
    assert errors == []
    assert len(set(results)) == 1 and db.session.query(Visit).count() == 1


def test_walk_in_without_a_host_asks_reception_to_route_them(app, kiosk, staff):
    desk = staff_socket(app, "desk@example.com")
    desk.get_received()
    form = {
        "name": "张伟",
        "company": "华为",
        "phone": "13800001234",
        "purpose": "negotiation",
        "host_id": "",
        "attempt": ATTEMPT,
        "lang": "zh",
    }
    page = html(kiosk.post("/kiosk/walk-in", form))
    assert 'data-outcome="see_reception"' in page and 'data-reason="route_walk_in"' in page
    assert "请到前台" in page or "前台" in page
    req = db.session.query(DeskRequest).one()
    assert req.kind == "route_walk_in" and req.status == "open" and req.kiosk.name == "Front door"
    assert req.details == {
        "name": "张伟",
        "company": "华为",
        "phone": "13800001234",
        "purpose": "Business negotiation",
        "language": "zh",
    }
    events = [m["args"][0] for m in desk.get_received() if m["name"] == "desk_request"]
    assert [e["id"] for e in events] == [req.id]
    assert db.session.query(Visit).count() == 0
    html(kiosk.post("/kiosk/walk-in", form))  # a retry
    assert db.session.query(DeskRequest).count() == 1


def test_every_field_error_is_shown_beside_its_field_in_chinese_and_nothing_is_saved(app, kiosk):
    kiosk.language = "zh"
    page = html(
        kiosk.post(
            "/kiosk/walk-in",
            {
                "name": "  ",
                "company": "x" * 201,
                "phone": "call me",
                "purpose": "other",
                "purpose_other": "",
                "host_id": "999999",
            },
        )
    )
    errors = dict(re.findall(r'data-field="(\w+)" data-error="(\w+)"', page))
    assert errors == {
        "name": "required",
        "company": "too_long",
        "phone": "invalid",
        "purpose_other": "required",
        "host_id": "invalid",
    }
    for text in (
        "请输入您的姓名。",
        "内容过长。",
        "只能使用数字、空格和 + - ( )。",
        "请简要说明来访目的。",
        "请重新选择您要拜访的人。",
    ):
        assert text in page
    assert 'value="call me"' in page and 'value="other" checked' in page  # kept to correct
    assert db.session.query(Visit).count() == 0 and db.session.query(DeskRequest).count() == 0
    page = html(kiosk.post("/kiosk/walk-in", {"name": "Ada", "purpose": "lunch"}))
    assert 'data-field="purpose" data-error="invalid"' in page
    assert db.session.query(DeskRequest).count() == 0


def test_service_refuses_invalid_input_with_codes():
    with pytest.raises(ValidationError) as e:
        walk_ins.parse({"name": ["list"], "phone": "12a"})
    assert e.value.fields == {"name": "required", "phone": "invalid"}
    assert walk_ins.parse({"name": "Ada", "purpose_other": "Visit"}).purpose == "other"


def test_host_search_shows_names_and_departments_never_emails(app, kiosk, grace, staff):
    people.create_user("li.na@example.com", "李娜", ["host"], department="研发部")
    people.create_user("gone@example.com", "Grace Gone", ["host"]).active = False
    db.session.commit()
    page = html(kiosk.get("/kiosk/hosts", q="gra"))
    assert "Grace Hopper" in page and "Engineering" in page and "Grace Gone" not in page
    assert "@" not in page and "example.com" not in page
    assert f'hx-get="/kiosk/hosts/pick?host_id={grace.id}"' in page
    assert "Rita Desk" not in html(kiosk.get("/kiosk/hosts", q="rita"))  # not a host
    assert "李娜" in html(kiosk.get("/kiosk/hosts", q="研发"))  # by department
    assert "李娜" in html(kiosk.get("/kiosk/hosts", q="李"))  # one Chinese character
    # E-mail addresses are not searched, and a single letter lists nobody.
    assert "host-option" not in html(kiosk.get("/kiosk/hosts", q="example.com"))
    assert "host-option" not in html(kiosk.get("/kiosk/hosts", q="g"))
    assert "host-option" not in html(kiosk.get("/kiosk/hosts", q="%%"))


def test_host_search_lists_at_most_eight(app, kiosk, staff):
    for i in range(12):
        people.create_user(f"h{i}@example.com", f"Host Number {i:02d}", ["host"])
    page = html(kiosk.get("/kiosk/hosts", q="number"))
    assert page.count('class="host-option"') == 8


def test_tapping_a_host_sets_the_hidden_host_id_and_the_form_keeps_it(app, kiosk, grace):
    picked = html(kiosk.get("/kiosk/hosts/pick", host_id=grace.id))
    assert f'name="host_id" value="{grace.id}"' in picked and "Grace Hopper" in picked
    assert "grace@example.com" not in picked
    change = html(kiosk.get("/kiosk/hosts/pick"))
    assert 'name="host_id" value=""' in change and 'name="host_q"' in change
    # The language switch renders the form again from what was typed and chosen.
    page = html(
        kiosk.get("/kiosk/walk-in", lang="zh", name="Ada", purpose="rnd", host_id=str(grace.id))
    )
    assert 'value="Ada"' in page and 'value="rnd" checked' in page
    assert f'name="host_id" value="{grace.id}"' in page and "您要拜访谁？" in page
    searching = html(kiosk.get("/kiosk/walk-in", host_q="grace"))
    assert "Grace Hopper" in searching and 'value="grace"' in searching


def test_visitor_text_is_escaped(app, kiosk):
    page = html(kiosk.post("/kiosk/walk-in", {"name": "", "company": "<script>alert(1)</script>"}))
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page


def test_csrf_and_pairing_are_required(app, kiosk, client, grace):
    resp = kiosk.client.post("/kiosk/walk-in", data={"name": "Ada"}, headers={"HX-Request": "true"})
    assert resp.status_code == 400
    assert client.get("/kiosk/hosts?q=grace").status_code == 403
    assert client.get("/kiosk/walk-in").status_code == 403
    assert db.session.query(Visit).count() == 0
