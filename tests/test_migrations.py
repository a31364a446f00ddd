"""Migrations: the schema comes from Alembic, matches the models, and runs on
PostgreSQL too, where parallel check-ins of one code still give one check-in."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server import create_app, upgrade_database
from server.extensions import db
from server.models import Base, Event, PrintJob
from server.services import people, visits
from tests.conftest import parallel_checkins


def test_migrations_match_the_models(app):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], "models changed without a migration: run `flask db migrate`"


def test_upgrading_twice_keeps_every_row(app, staff):
    before = people.hosts()
    upgrade_database(app)
    assert [u.email for u in people.hosts()] == [u.email for u in before]


@pytest.mark.postgres
def test_postgres_fifty_parallel_checkins_give_one(pg_app):
    people.create_user("grace@example.com", "Grace Hopper", ["host"], "pw")
    code = visits.pre_register({"name": "Ada"}, "grace@example.com").code
    results = parallel_checkins(pg_app, code, 50)
    assert sorted(results) == [False] * 49 + [True]
    assert db.session.query(PrintJob).count() == 1
    assert db.session.query(Event).filter_by(kind="visitor_arrived").count() == 1


def test_upgrading_an_old_database_keeps_its_rows(tmp_path, printer):
    """A database made by the first release is upgraded to the newest schema with every
    visit, user and print job intact (and old job states mapped to new ones)."""
    from flask_migrate import upgrade

    from server import MIGRATIONS

    url = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": tmp_path,
            "PRINT_WORKER": False,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "t",
            "DEFAULT_PRINTER": printer.url,
        }
    )
    with app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="a1dc3256b4c4")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO users (id, email, name, roles, active, created_at) "
                "VALUES (1, 'grace@example.com', 'Grace', 'host', 1, '2026-01-01')"
            )
            conn.exec_driver_sql(
                "INSERT INTO visitors "
                "(id, name, company, title, email, phone, language, created_at) "
                "VALUES (1, '张伟', '华为', '', '', '', '', '2026-01-01')"
            )
            conn.exec_driver_sql(
                "INSERT INTO visits "
                "(id, code, visitor_id, host_id, purpose, status, meeting_room, created_at) "
                "VALUES (1, 'old-code-0000000000', 1, 1, '', 'checked_in', '', '2026-01-01')"
            )
            conn.exec_driver_sql(
                "INSERT INTO printers (id, name, url, created_at) "
                "VALUES (1, 'desk', 'tcp://x:9100', '2026-01-01')"
            )
            conn.exec_driver_sql(
                "INSERT INTO print_jobs "
                "(id, visit_id, printer_id, printer_url, status, error, attempts, reason, "
                "created_at) "
                "VALUES (1, 1, 1, 'tcp://x:9100', 'sent', '', 1, 'check-in', '2026-01-01')"
            )
        upgrade(directory=str(MIGRATIONS))
        from server.models import Printer, Visit

        visit = db.session.get(Visit, 1)
        assert (visit.visitor.name, visit.status, visit.kind) == ("张伟", "checked_in", "visitor")
        assert db.session.get(Printer, 1).status == "unknown"
        assert db.session.get(PrintJob, 1).status == "done"
        db.session.remove()
        db.engine.dispose()
