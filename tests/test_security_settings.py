"""The security settings the README names are read from the environment."""

from server import config


def test_login_limits_and_session_length_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LOBBY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LOBBY_LOGIN_LIMIT_ACCOUNT", "3/minute")
    monkeypatch.setenv("LOBBY_LOGIN_LIMIT_ADDRESS", "9/minute")
    monkeypatch.setenv("LOBBY_LOGIN_SESSION_HOURS", "8")
    loaded = config.load({})
    assert loaded["LOGIN_LIMIT_ACCOUNT"] == "3/minute"
    assert loaded["LOGIN_LIMIT_ADDRESS"] == "9/minute"
    assert loaded["LOGIN_SESSION_HOURS"] == 8.0


def test_defaults_are_the_documented_ones(monkeypatch, tmp_path):
    for name in (
        "LOBBY_LOGIN_LIMIT_ACCOUNT",
        "LOBBY_LOGIN_LIMIT_ADDRESS",
        "LOBBY_LOGIN_SESSION_HOURS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOBBY_DATA_DIR", str(tmp_path))
    loaded = config.load({})
    assert (
        loaded["LOGIN_LIMIT_ACCOUNT"],
        loaded["LOGIN_LIMIT_ADDRESS"],
        loaded["LOGIN_SESSION_HOURS"],
    ) == (
        "5/minute;20/hour",
        "30/minute",
        12.0,
    )
