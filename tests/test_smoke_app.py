"""The app starts on a migrated database and answers health checks."""


def test_healthz_answers_ok_when_database_is_up(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "database": "ok"}


def test_front_door_sends_strangers_to_login(client):
    resp = client.get("/")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/login")
