"""Issue 15 items 3 and 4: the client's feedback page (no login, single use, 30 days,
both languages) reached from the farewell's answer and the kiosk's goodbye, its
roll-up per host and department; the host's reception summary and what keeps a
request open; the money section of the request page (budget bar, expense form,
finance's buttons)."""

import io
import re
from datetime import timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import Feedback, Visit
from server.policy import feedback
from server.services import checkin
from tests.conftest import auth, csrf_from, login
from tests.test_policy_expenses import approved, png
from tests.test_policy_requests import office, when  # noqa: F401  (fixture)


def ended_visit(client, tokens, make_visit, name="张伟", host="grace@example.com"):
    visit = make_visit(name=name, host=host) if host else make_visit(name=name)
    checkin.check_in(visit.code)
    r = client.post(f"/api/v1/visits/{visit.id}/farewell", json={}, headers=auth(tokens["host"]))
    assert r.status_code == 200, r.get_json()
    return visit, r.get_json()


def test_feedback_from_the_farewell_link_once_and_rolled_up(app, client, tokens, staff, make_visit):
    visit, answer = ended_visit(client, tokens, make_visit)
    url = answer["feedback_url"]
    assert url and url == answer["visit"]["feedback_url"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    token = path.rsplit("/", 1)[1]
    assert token.startswith(f"{visit.id}.") and len(token.split(".")[1]) == 22

    web = app.test_client()
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9"  # the visitor's phone
    page = web.get("/" + path)
    assert page.status_code == 200 and "您对本次接待满意吗" in page.get_data(as_text=True)
    csrf = csrf_from(page.get_data(as_text=True))
    bad = web.post("/" + path, data={"csrf_token": csrf, "welcome": "9", "hospitality": "x"})
    assert bad.status_code == 422 and 'data-field="welcome"' in bad.get_data(as_text=True)
    ok = web.post(
        "/" + path,
        data={
            "csrf_token": csrf,
            "welcome": "5",
            "hospitality": "4",
            "meeting": "3",
            "comment": "茶很好",
        },
    )
    assert ok.status_code == 200 and "谢谢您" in ok.get_data(as_text=True)
    again = web.post(
        "/" + path, data={"csrf_token": csrf, "welcome": "1", "hospitality": "1", "meeting": "1"}
    )
    assert again.status_code == 409
    assert web.get("/" + path).status_code == 409
    rows = db.session.scalars(select(Feedback)).all()
    assert [(r.welcome, r.hospitality, r.meeting, r.comment) for r in rows] == [(5, 4, 3, "茶很好")]

    # A forged or altered token, and a visit not ended yet, are refused.
    assert web.get(f"/feedback/{visit.id}.AAAAAAAAAAAAAAAAAAAAAA").status_code == 404
    assert web.get("/feedback/²").status_code == 404
    other = make_visit(name="Ada Lovelace")
    assert web.get("/feedback/" + feedback.token_for(other.id)).status_code == 409

    rolled = client.get("/api/v1/feedback", headers=auth(tokens["reception"])).get_json()
    assert rolled["hosts"] == [
        {
            "id": staff["host"].id,
            "name": "Grace Hopper",
            "count": 1,
            "welcome": 5.0,
            "hospitality": 4.0,
            "meeting": 3.0,
            "overall": 4.0,
        }
    ]
    assert client.get("/api/v1/feedback", headers=auth(tokens["host"])).status_code == 403
    assert (
        client.get("/api/v1/feedback?from=2026-13-01", headers=auth(tokens["admin"])).status_code
        == 422
    )
    host_page = app.test_client()
    login(host_page, "grace@example.com")
    assert re.search(
        r'id="my-feedback">Client feedback 客户评价: <strong>4.0</strong>',
        host_page.get("/host/").get_data(as_text=True),
    )


def test_feedback_links_expire_after_thirty_days(app, client, tokens, make_visit):
    visit, answer = ended_visit(client, tokens, make_visit)
    db.session.get(Visit, visit.id).checked_out_at -= timedelta(days=31)
    db.session.commit()
    token = answer["feedback_url"].rsplit("/", 1)[1]
    assert app.test_client().get(f"/feedback/{token}").status_code == 410


def test_the_kiosk_goodbye_shows_the_feedback_qr(app, make_visit):
    import base64

    import zxingcpp
    from PIL import Image

    from server.models import utcnow
    from tests.test_kiosk import paired_kiosk, scan

    visit = make_visit(name="Ada Lovelace")
    kiosk, _ = paired_kiosk(app)
    scan(kiosk, visit.code)
    db.session.get(Visit, visit.id).checked_in_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    html = scan(kiosk, visit.code).get_data(as_text=True)
    assert 'data-outcome="goodbye"' in html
    src = re.search(r'id="feedback-qr">\s*<img src="data:image/png;base64,([^"]+)"', html).group(1)
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(base64.b64decode(src))))
    assert decoded and decoded[0].text.endswith("/feedback/" + feedback.token_for(visit.id))


def test_the_summary_closes_a_request_once_nothing_is_open(client, office, app):  # noqa: F811
    rid = approved(client, office, items=[{"kind": "meal", "quantity": 6}])
    req = client.get(f"/api/v1/requests/{rid}", headers=auth(office["rita"])).get_json()
    assert req["open"] == {
        "summary": True,
        "expenses": 0,
        "follow_ups": 0,
        "closed": False,
        "closed_at": None,
    }
    r = client.post(
        f"/api/v1/requests/{rid}/summary", json={"summary": ""}, headers=auth(office["rita"])
    )
    assert r.status_code == 422
    eid = client.post(
        f"/api/v1/requests/{rid}/expenses",
        data={
            "kind": "meal",
            "amount": "300",
            "spent_at": when(0),
            "receipt": (io.BytesIO(png()), "r.png"),
        },
        headers=auth(office["rita"]),
        content_type="multipart/form-data",
    ).get_json()["id"]
    r = client.post(
        f"/api/v1/requests/{rid}/summary",
        json={"summary": "顺利 went well", "materials": ["Company intro", "Catalogue"]},
        headers=auth(office["rita"]),
    )
    assert r.get_json()["open"]["expenses"] == 1 and r.get_json()["open"]["closed"] is False
    for status in ("approved", "paid"):
        client.post(
            f"/api/v1/expenses/{eid}/status", json={"status": status}, headers=auth(office["fay"])
        )
    done = client.get(f"/api/v1/requests/{rid}", headers=auth(office["rita"])).get_json()
    assert done["open"]["closed"] is True and done["open"]["closed_at"]
    assert done["summary"]["materials"] == ["Company intro", "Catalogue"]


def test_the_request_page_shows_the_budget_and_takes_expenses(client, office, app):  # noqa: F811
    rid = approved(client, office, items=[{"kind": "meal", "quantity": 6}])
    rita = app.test_client()
    login(rita, "rita@example.com")
    page = rita.get(f"/requests/{rid}").get_data(as_text=True)
    assert 'id="budget"' in page and "¥912.00" in page
    token = csrf_from(page)
    over = rita.post(
        f"/requests/{rid}/expenses",
        data={
            "csrf_token": token,
            "kind": "meal",
            "amount": "1000",
            "spent_at": when(0)[:16],
            "receipt": (io.BytesIO(png()), "r.png"),
        },
        content_type="multipart/form-data",
    )
    assert over.status_code == 409 and "over the budget" in over.get_data(as_text=True)
    ok = rita.post(
        f"/requests/{rid}/expenses",
        data={
            "csrf_token": token,
            "kind": "meal",
            "amount": "1000",
            "spent_at": when(0)[:16],
            "receipt": (io.BytesIO(png()), "r.png"),
        },
        content_type="multipart/form-data",
    )
    assert ok.status_code == 409
    small = rita.post(
        f"/requests/{rid}/expenses",
        data={
            "csrf_token": token,
            "kind": "meal",
            "amount": "900",
            "spent_at": when(0)[:16],
            "receipt": (io.BytesIO(png()), "r.png"),
        },
        content_type="multipart/form-data",
    )
    assert small.status_code == 303
    page = rita.get(f"/requests/{rid}").get_data(as_text=True)
    assert "98.7%" in page and 'data-expense="' in page
    fay = app.test_client()
    login(fay, "fay@example.com")
    finance = fay.get(f"/requests/{rid}").get_data(as_text=True)
    assert 'class="inline finance-actions"' in finance
    assert 'class="inline finance-actions"' not in page  # not for the host
