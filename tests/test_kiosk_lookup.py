"""No QR code: finding today's booking by surname plus company or phone, and leaving
by surname plus the phone's last four digits. One match shows a masked identity to
confirm; nobody and several look the same; searches are limited per kiosk; the host
hears of a departure. (More in tests/test_hardening_kiosk.py.)"""

from datetime import timedelta

import pytest

from server.extensions import db
from server.models import Event, Visit, utcnow
from server.services import checkin, lookup
from server.services.errors import ValidationError
from tests.conftest import staff_socket
from tests.kiosk_helpers import KioskClient, ticket_in

NOT_FOUND = (
    "We could not find your booking. Check the spelling, or try the last four digits of your phone."
)


def html(resp) -> str:
    assert resp.status_code in (200, 429), resp.status_code
    return resp.get_data(as_text=True)


@pytest.fixture
def kiosk(app, staff):
    return KioskClient(app)


# ---- the search itself (server/services/lookup.py) ----------------------------------


@pytest.mark.parametrize(
    "name, typed, found",
    [
        ("张伟", "张", True),
        ("张伟", "张伟", True),
        ("欧阳娜娜", "欧阳", True),
        ("张伟", "伟", False),
        ("Ada Lovelace", "lovelace", True),
        ("Ada Lovelace", "LOVELACE", True),
        ("Ada Lovelace", "Ada Lovelace", True),
        ("Ada Lovelace", "Love", False),
        ("José Müller", "muller", True),
        ("José Müller", "Müller", True),
        ("Guido van Rossum", "van rossum", True),
        ("Guido van Rossum", "Rossum", True),
        ("Zhang Wei", "zhang", True),  # pinyin, family name first
        ("Ada Lovelace", "", False),
    ],
)
def test_surname_is_the_family_name_case_and_accent_insensitive(name, typed, found):
    assert lookup.surname_matches(name, typed) is found


def test_company_matches_part_of_it_ignoring_case_spaces_and_punctuation():
    assert lookup.company_matches("Analytical Engines Ltd.", "analytical")
    assert lookup.company_matches("Analytical Engines", "Analytical Engines Ltd")
    assert lookup.company_matches("华为技术有限公司", "华为")
    assert not lookup.company_matches("Analytical Engines", "Babbage")
    assert not lookup.company_matches("Analytical Engines", "a")  # one letter finds anything


def test_phone_matches_its_last_four_digits_whatever_the_format():
    assert lookup.phone_matches("+44 (20) 7946-1234", "1234")
    assert not lookup.phone_matches("+44 20 7946 1234", "4123")
    assert not lookup.phone_matches("", "1234")


def test_entries_are_checked_with_codes_per_field():
    with pytest.raises(ValidationError) as e:
        lookup.parse("", "", "12")
    assert e.value.fields == {"surname": "required", "phone_last4": "four_digits"}
    with pytest.raises(ValidationError) as e:
        lookup.parse("Lovelace", "", "")
    assert e.value.fields == {"company": "company_or_phone"}
    with pytest.raises(ValidationError) as e:
        lookup.parse("x" * 101, "Analytical", "")
    assert e.value.fields == {"surname": "too_long"}
    assert lookup.parse(" Love  lace ", "", "１２３４").phone_last4 == "1234"  # full-width digits


def test_names_are_masked_on_the_confirm_screen():
    assert lookup.mask_name("Ada Lovelace") == "Ada L."
    assert lookup.mask_name("张伟") == "张*"
    assert lookup.mask_name("欧阳娜娜") == "欧***"
    assert lookup.mask_name("Plato") == "P."
    assert lookup.mask_name("  José   Müller ") == "José M."


def test_only_todays_expected_visits_are_found(app, make_visit):
    today = make_visit()
    assert lookup.find_booking("Lovelace", "Analytical") == today
    db.session.get(Visit, today.id).expected_at = utcnow() + timedelta(days=2)
    db.session.commit()
    assert lookup.find_booking("Lovelace", "Analytical") is None
    db.session.get(Visit, today.id).expected_at = utcnow()
    db.session.get(Visit, today.id).status = "cancelled"
    db.session.commit()
    assert lookup.find_booking("Lovelace", "Analytical") is None


def test_several_matches_are_no_match(app, make_visit):
    make_visit("张伟", "华为", phone="13800001234")
    make_visit("张丽", "华为", phone="13900005678")
    assert lookup.find_booking("张", "华为") is None
    assert lookup.find_booking("张", phone_last4="5678").visitor.name == "张丽"
    assert lookup.find_booking("张", "华为", "1234").visitor.name == "张伟"


def test_leaving_finds_only_visitors_in_the_building(app, make_visit):
    visit = make_visit(phone="+44 20 7946 1234")
    assert lookup.find_onsite("Lovelace", "1234") is None
    checkin.check_in(visit.code)
    assert lookup.find_onsite("Lovelace", "1234").id == visit.id
    assert lookup.find_booking("Lovelace", "Analytical") is None


# ---- the kiosk screens (kiosk/lookup.py) -------------------------------------------


def test_booking_found_by_surname_and_company_shows_only_a_masked_identity(app, kiosk, make_visit):
    visit = make_visit("José Müller", "Analytical Engines")
    page = html(kiosk.post("/kiosk/lookup", {"surname": "muller", "company": "analytical"}))
    assert 'data-screen="lookup-confirm"' in page
    assert "José M." in page and "A••••••••• E••••••" in page and "Meeting Grace H." in page
    assert "Müller" not in page and "Grace Hopper" not in page and "Engines" not in page
    # Yes, that's me: on to the next step, then checked in here, in the visitor's language.
    welcome = kiosk.skip_photo(
        html(kiosk.post("/kiosk/lookup/confirm", {"ticket": ticket_in(page)}))
    )
    assert 'data-outcome="welcome"' in welcome and "José Müller" in welcome
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).status == "checked_in"


def test_booking_found_by_surname_and_phone_in_chinese(app, kiosk, make_visit):
    visit = make_visit("张伟", "华为", phone="138 0000 1234")
    kiosk.language = "zh"
    page = html(kiosk.post("/kiosk/lookup", {"surname": "张", "phone_last4": "1234"}))
    assert "这是您吗？" in page and "张*" in page and "拜访 Grace H." in page and "张伟" not in page
    welcome = kiosk.skip_photo(
        html(kiosk.post("/kiosk/lookup/confirm", {"ticket": ticket_in(page)}))
    )
    assert 'data-outcome="welcome"' in welcome
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).language == "zh"


def test_nobody_and_several_give_the_same_neutral_message_and_list_no_one(app, kiosk, make_visit):
    make_visit("王芳", "华为")
    make_visit("王丽", "华为")
    nobody = html(kiosk.post("/kiosk/lookup", {"surname": "Babbage", "company": "Analytical"}))
    several = html(kiosk.post("/kiosk/lookup", {"surname": "王", "company": "华为"}))
    for page in (nobody, several):
        assert NOT_FOUND in page and 'data-screen="lookup"' in page
        assert "王芳" not in page and "王丽" not in page and "Grace" not in page
    assert 'value="Babbage"' in nobody  # what was typed stays, to correct it


def test_form_errors_are_shown_in_the_visitors_language_and_are_not_wrong_tries(
    app, kiosk, make_visit
):
    make_visit()
    kiosk.language = "zh"
    page = html(kiosk.post("/kiosk/lookup", {"surname": "", "phone_last4": "12a"}))
    assert "请输入您的姓氏。" in page and "请输入四位数字。" in page
    assert 'data-field="surname"' in page and 'aria-invalid="true"' in page
    page = html(kiosk.post("/kiosk/lookup", {"surname": "Lovelace"}))
    assert "请输入您的公司名称，或手机号码后四位。" in page
    for _ in range(app.config["KIOSK_LOOKUP_LIMIT"] + 2):
        kiosk.post("/kiosk/lookup", {"surname": ""})
    page = html(kiosk.post("/kiosk/lookup", {"surname": "Lovelace", "company": "Analytical"}))
    assert 'data-screen="lookup-confirm"' in page


def test_searches_are_limited_per_kiosk(app, staff, make_visit):
    make_visit()
    kiosk, other = KioskClient(app, "Front door"), KioskClient(app, "Side door")
    limit = app.config["KIOSK_LOOKUP_LIMIT"]
    for _ in range(limit - 1):
        assert NOT_FOUND in html(
            kiosk.post("/kiosk/lookup", {"surname": "Nobody", "company": "X Corp"})
        )
    leave = html(kiosk.post("/kiosk/leave", {"surname": "Nobody", "phone_last4": "0000"}))
    assert "We could not find your visit." in leave  # the last one of the budget (shared)
    last = html(kiosk.post("/kiosk/leave", {"surname": "Nobody", "phone_last4": "0000"}))
    assert 'data-reason="too_many_lookups"' in last and "Too many tries" in last
    # Now even the right answer is refused here, and the form is too ...
    right = {"surname": "Lovelace", "company": "Analytical"}
    assert 'data-reason="too_many_lookups"' in html(kiosk.post("/kiosk/lookup", right))
    assert 'data-reason="too_many_lookups"' in html(kiosk.get("/kiosk/lookup"))
    # ... but not at another kiosk.
    assert 'data-screen="lookup-confirm"' in html(other.post("/kiosk/lookup", right))


def test_found_visitors_count_against_the_limit_too(app, kiosk, make_visit):
    make_visit()
    right = {"surname": "Lovelace", "company": "Analytical"}
    for _ in range(app.config["KIOSK_LOOKUP_LIMIT"]):
        assert 'data-screen="lookup-confirm"' in html(kiosk.post("/kiosk/lookup", right))
    assert 'data-reason="too_many_lookups"' in html(kiosk.post("/kiosk/lookup", right))


def test_no_goes_back_to_the_form_with_what_was_typed(app, kiosk, make_visit):
    make_visit()
    page = html(kiosk.post("/kiosk/lookup", {"surname": "Lovelace", "company": "Analytical"}))
    back = html(kiosk.get("/kiosk/lookup", surname="Lovelace", company="Analytical"))
    assert 'hx-get="/kiosk/lookup?surname=Lovelace&amp;company=Analytical' in page
    assert (
        'data-screen="lookup"' in back
        and 'value="Lovelace"' in back
        and 'value="Analytical"' in back
    )
    assert NOT_FOUND not in back


def test_language_switch_renders_the_confirm_screen_again(app, kiosk, make_visit):
    make_visit()
    page = html(kiosk.post("/kiosk/lookup", {"surname": "Lovelace", "company": "Analytical"}))
    again = html(
        kiosk.get(
            "/kiosk/lookup/confirm",
            ticket=ticket_in(page),
            lang="zh",
            surname="Lovelace",
            company="Analytical",
        )
    )
    assert "这是您吗？" in again and "Ada L." in again and 'value="Lovelace"' in again


def test_a_booking_ticket_cannot_check_anyone_out_nor_work_at_another_kiosk(app, staff, make_visit):
    visit = make_visit()
    kiosk, other = KioskClient(app, "Front door"), KioskClient(app, "Side door")
    page = html(kiosk.post("/kiosk/lookup", {"surname": "Lovelace", "company": "Analytical"}))
    ticket = ticket_in(page)
    assert 'data-reason="ticket_invalid"' in html(
        kiosk.post("/kiosk/leave/confirm", {"ticket": ticket})
    )
    assert 'data-reason="ticket_invalid"' in html(
        other.post("/kiosk/lookup/confirm", {"ticket": ticket})
    )
    assert 'data-reason="ticket_missing"' in html(kiosk.post("/kiosk/lookup/confirm", {}))
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).status == "expected"


def test_confirm_sent_twice_checks_in_once(app, kiosk, make_visit):
    visit = make_visit()
    app.config["KIOSK_RESULT_SECONDS"] = 12
    page = html(kiosk.post("/kiosk/lookup", {"surname": "Lovelace", "company": "Analytical"}))
    ticket = ticket_in(page)
    first = kiosk.skip_photo(html(kiosk.post("/kiosk/lookup/confirm", {"ticket": ticket})))
    second = html(kiosk.post("/kiosk/lookup/confirm", {"ticket": ticket}))
    assert 'data-outcome="welcome"' in first and 'data-outcome="welcome"' in second
    arrivals = db.session.query(Event).filter_by(kind="visitor_arrived").all()
    assert [e.payload["visit_id"] for e in arrivals] == [visit.id]


def test_csrf_is_required(app, kiosk, make_visit):
    make_visit()
    resp = kiosk.client.post(
        "/kiosk/lookup",
        data={"surname": "Lovelace", "company": "Analytical"},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 400


def test_an_unpaired_browser_cannot_look_anyone_up(app, client, make_visit):
    make_visit()
    assert client.get("/kiosk/lookup").status_code == 403
    assert client.post("/kiosk/leave", data={"surname": "Lovelace"}).status_code in (400, 403)


# ---- leaving by name ---------------------------------------------------------------


def test_leaving_by_name_checks_out_says_goodbye_in_their_language_and_tells_the_host(
    app, kiosk, make_visit
):
    visit = make_visit("张伟", "华为", phone="13800001234")
    checkin.check_in(visit.code, language="zh")
    host = staff_socket(app, "grace@example.com")
    host.get_received()
    page = html(kiosk.post("/kiosk/leave", {"surname": "张", "phone_last4": "1234"}))
    assert 'data-screen="leave-confirm"' in page and "张*" in page and "Yes, check me out" in page
    bye = html(kiosk.post("/kiosk/leave/confirm", {"ticket": ticket_in(page)}))
    assert 'data-outcome="goodbye"' in bye and "感谢" in bye and "张伟" in bye  # their language
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).status == "checked_out"
    left = [m["args"][0] for m in host.get_received() if m["name"] == "visitor_left"]
    assert [m["visit_id"] for m in left] == [visit.id]
    # The same confirm again (a retry) says goodbye again and tells nobody twice.
    again = html(kiosk.post("/kiosk/leave/confirm", {"ticket": ticket_in(page)}))
    assert 'data-outcome="goodbye"' in again
    assert [m for m in host.get_received() if m["name"] == "visitor_left"] == []


def test_leaving_does_not_find_someone_who_has_not_arrived(app, kiosk, make_visit):
    make_visit(phone="+44 20 7946 1234")
    page = html(kiosk.post("/kiosk/leave", {"surname": "Lovelace", "phone_last4": "1234"}))
    assert "We could not find your visit." in page and 'data-screen="leave"' in page


def test_leave_form_fills_in_again_for_the_language_switch(app, kiosk):
    page = html(kiosk.get("/kiosk/leave", surname="Lovelace", phone_last4="1234", lang="zh"))
    assert "要离开了吗？" in page and 'value="Lovelace"' in page and 'value="1234"' in page
    assert 'data-refresh="/kiosk/leave"' in page
