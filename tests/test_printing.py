"""Badges print off the check-in path: a queued job, a worker, a loopback printer."""

import time

import zxingcpp

from server.extensions import db
from server.models import PrintJob
from server.services import checkin, devices, people, printing
from server.services.printing import PrintWorker
from tests.conftest import free_port
from tests.loopback_printer import LoopbackPrinter


def test_queued_badge_prints_on_the_kiosk_printer_and_decodes(app, make_visit, printer):
    visit = make_visit("张伟", company="华为技术有限公司")
    checkin.check_in(visit.code)
    assert printing.drain() == 1
    job = db.session.query(PrintJob).one()
    assert job.status == "done" and job.error == "" and job.finished_at
    [raw] = printer.wait_for_jobs(1)
    [image] = printer.images()
    assert image.width == 576
    decoded = zxingcpp.read_barcodes(image.convert("L"))
    assert [d.text for d in decoded] == [visit.code]
    # the name area (below the top band, above the QR) holds the Chinese name's ink
    name_band = image.convert("L").crop((0, 90, 576, 260))
    assert sum(name_band.histogram()[:128]) > 2000


def test_badge_goes_to_the_printer_of_the_kiosk(app, make_visit, printer):
    with LoopbackPrinter(answer_status=True) as side:
        devices.add_printer("Side desk", side.url)
        kiosk, _ = devices.add_kiosk("Side door", printer="Side desk")
        visit = make_visit()
        checkin.check_in(visit.code, kiosk="Side door")
        printing.drain()
        assert len(side.wait_for_jobs(1)) == 1
    assert printer.jobs == []


def test_58mm_printer_gets_a_384_dot_badge(app, make_visit):
    with LoopbackPrinter(answer_status=True) as narrow:
        devices.add_printer("Narrow", narrow.url + "?width=384")
        visit = make_visit()
        checkin.check_in(visit.code, printer="Narrow")
        printing.drain()
        narrow.wait_for_jobs(1)
        assert narrow.images()[0].width == 384


def test_printer_down_never_delays_checkin_and_badge_prints_when_it_returns(app, make_visit):
    port = free_port()
    devices.add_printer("Desk", f"tcp://127.0.0.1:{port}")
    visit = make_visit()
    started = time.monotonic()
    result = checkin.check_in(visit.code, printer="Desk")
    assert time.monotonic() - started < 1.0  # check-in never waits on a printer
    assert result.created and result.visit.status == "checked_in"
    assert printing.drain() == 0
    job = db.session.query(PrintJob).one()
    assert job.status == "queued" and job.error == "waiting: unreachable"
    assert job.next_attempt_at is not None
    assert devices.printer_by_name("Desk").status == "unreachable"
    with LoopbackPrinter(answer_status=True, port=port) as back:
        job.next_attempt_at = None  # the backoff has passed
        db.session.commit()
        assert printing.drain() == 1
        assert len(back.wait_for_jobs(1)) == 1
    db.session.expire_all()
    assert db.session.query(PrintJob).one().status == "done"


def test_paper_out_keeps_jobs_queued_and_they_print_in_order_when_paper_is_back(
    app, make_visit, staff
):
    from tests.conftest import staff_socket

    with LoopbackPrinter(answer_status=True) as desk:
        devices.add_printer("Desk", desk.url)
        desk.paper_out = True
        reception = staff_socket(app, "desk@example.com")
        reception.get_received()
        names = ["First Guest", "Second Guest", "Third Guest"]
        for name in names:
            checkin.check_in(make_visit(name).code, printer="Desk")
        assert printing.drain() == 0
        jobs = db.session.query(PrintJob).order_by(PrintJob.id).all()
        assert [j.status for j in jobs] == ["queued"] * 3
        assert all(j.error == "waiting: paper_out" for j in jobs)
        assert desk.jobs == [] and desk.rejected == []  # nothing was sent into the void
        pushed = [m["args"][0] for m in reception.get_received() if m["name"] == "printer_status"]
        assert pushed and pushed[-1]["name"] == "Desk" and pushed[-1]["status"] == "paper_out"
        api = (
            app.test_client()
            .get(
                "/api/v1/printers",
                headers={"Authorization": "Bearer " + people.create_token("desk@example.com")},
            )
            .get_json()
        )
        assert api[0]["status"] == "paper_out" and api[0]["queued"] == 3
        desk.paper_out = False
        db.session.query(PrintJob).update({"next_attempt_at": None})
        db.session.commit()
        assert printing.drain() == 3
        desk.wait_for_jobs(3)
        printed = [zxingcpp.read_barcodes(img.convert("L"))[0].text for img in desk.images()]
        codes = [j.visit.code for j in db.session.query(PrintJob).order_by(PrintJob.id)]
        assert printed == codes
        pushed = [m["args"][0] for m in reception.get_received() if m["name"] == "printer_status"]
        assert pushed[-1]["status"] == "online" and pushed[-1]["last_job"]["status"] == "done"


def test_connection_dropped_mid_job_is_failed_never_done_and_can_be_reprinted(
    app, make_visit, staff
):
    with LoopbackPrinter(answer_status=True, drop_after=2000) as flaky:
        devices.add_printer("Flaky", flaky.url)
        visit = make_visit()
        checkin.check_in(visit.code, printer="Flaky")
        printing.drain()
        job = db.session.query(PrintJob).one()
        assert job.status == "failed" and job.error.startswith("dropped")
        assert flaky.wait_until(lambda printer: len(printer.dropped) == 1)  # its thread records it
        assert flaky.jobs == []
        flaky.drop_after = None
        token = people.create_token("desk@example.com")
        resp = app.test_client().post(
            f"/api/v1/visits/{visit.id}/badge",
            json={"reason": "paper jammed"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert resp.status_code == 202
        body = resp.get_json()["job"]
        assert body["reprint"] is True and body["reason"] == "paper jammed"
        assert body["requested_by"] == "Rita Desk"
        printing.drain()
        assert len(flaky.wait_for_jobs(1)) == 1


def test_reprint_needs_a_reason_and_a_visitor_on_site(app, make_visit, staff, tokens):
    visit = make_visit()
    web = app.test_client()
    h = {"Authorization": f"Bearer {tokens['reception']}"}
    resp = web.post(f"/api/v1/visits/{visit.id}/badge", json={"reason": "lost"}, headers=h)
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "not_checked_in"
    checkin.check_in(visit.code)
    resp = web.post(f"/api/v1/visits/{visit.id}/badge", json={"reason": "  "}, headers=h)
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "invalid_reason"
    assert web.post("/api/v1/visits/999/badge", json={"reason": "x"}, headers=h).status_code == 404
    host = {"Authorization": f"Bearer {tokens['host']}"}
    assert (
        web.post(f"/api/v1/visits/{visit.id}/badge", json={"reason": "x"}, headers=host).status_code
        == 403
    )
    assert db.session.query(PrintJob).count() == 1


def test_fallback_printer_takes_over_when_the_kiosk_printer_is_down(app, make_visit):
    with LoopbackPrinter(answer_status=True) as main, LoopbackPrinter(answer_status=True) as spare:
        devices.add_printer("Main", main.url)
        devices.add_printer("Spare", spare.url)
        devices.add_kiosk("Front", printer="Main", fallback="Spare")
        main.cover_open = True
        visit = make_visit()
        checkin.check_in(visit.code, kiosk="Front")
        assert printing.drain() == 1
        assert len(spare.wait_for_jobs(1)) == 1 and main.jobs == []
        job = db.session.query(PrintJob).one()
        assert job.status == "done" and job.printer.name == "Spare"
        assert job.fallback_from_id == devices.printer_by_name("Main").id


def test_printer_that_never_answers_is_unknown_not_online(app):
    with LoopbackPrinter(answer_status=False) as silent:
        devices.add_printer("Silent", silent.url)
        states = printing.poll_printers()
    assert states == {"Silent": "unknown"}


def test_starting_the_worker_starts_the_badge_process_before_any_badge(app, monkeypatch, printer):
    from printers.spool import Spooler

    spooler = Spooler()  # a fresh one: the module's may already run from other tests
    monkeypatch.setattr(printing, "spooler", spooler)
    worker = PrintWorker(app, interval=0.2).start()
    try:
        deadline = time.monotonic() + 30
        while spooler.pid is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert spooler.pid is not None  # no visit, no job: started by the worker itself
        assert printer.jobs == [] and db.session.query(PrintJob).count() == 0
    finally:
        worker.stop()
        spooler.close()


def test_worker_thread_prints_without_anyone_waiting(app, make_visit, printer):
    worker = PrintWorker(app, interval=0.2).start()
    app.extensions[printing.EXTENSION_KEY] = worker
    try:
        visit = make_visit()
        checkin.check_in(visit.code)
        assert len(printer.wait_for_jobs(1, timeout=5)) == 1
    finally:
        app.extensions.pop(printing.EXTENSION_KEY)
        worker.stop()
    db.session.rollback()
    assert db.session.query(PrintJob).one().status == "done"


def test_two_workers_draining_at_once_print_each_badge_once(app, make_visit, printer):
    import threading

    for i in range(5):
        checkin.check_in(make_visit(f"Guest {i}").code)

    def worker():
        with app.app_context():
            printing.drain()
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(printer.wait_for_jobs(5)) == 5
    time.sleep(0.3)
    assert len(printer.jobs) == 5
    db.session.rollback()
    assert [j.status for j in db.session.query(PrintJob)] == ["done"] * 5


def test_a_job_interrupted_by_a_server_stop_is_failed_never_done(app, make_visit):
    visit = make_visit()
    checkin.check_in(visit.code)
    db.session.query(PrintJob).update({"status": "sending"})  # the process died mid-job
    db.session.commit()
    worker = PrintWorker(app, interval=0.1).start()  # what the next server start does
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            db.session.rollback()
            job = db.session.query(PrintJob).one()
            if job.status != "sending":
                break
            time.sleep(0.05)
    finally:
        worker.stop()
    assert job.status == "failed" and job.error.startswith("interrupted")


def test_a_pass_takes_a_batch_of_due_jobs_in_queue_order_and_the_next_pass_the_rest(
    app, make_visit, printer
):
    codes = []
    for name in ("Ada", "Bob", "Cy"):
        visit = make_visit(name)
        checkin.check_in(visit.code)
        codes.append(visit.code)
    assert printing.drain(limit=2) == 2
    assert [s.status for s in db.session.query(PrintJob).order_by(PrintJob.id)] == [
        "done",
        "done",
        "queued",
    ]
    assert printing.drain(limit=2) == 1
    images = printer.images()
    assert [[d.text for d in zxingcpp.read_barcodes(i.convert("L"))] for i in images] == [
        [c] for c in codes
    ]


def test_a_live_workers_job_is_left_alone_and_failed_once_its_lease_has_run_out(app, make_visit):
    from datetime import timedelta

    from server.models import utcnow
    from server.services import print_leases

    checkin.check_in(make_visit().code)
    job_id = db.session.query(PrintJob.id).scalar()
    assert print_leases.claim(job_id, "other-host:4242", lease=60)
    assert not print_leases.claim(job_id, "me:1")  # held: nobody else takes it
    assert printing.recover_interrupted() == 0  # its worker is alive (lease renewed)
    db.session.expire_all()
    job = db.session.get(PrintJob, job_id)
    assert (job.status, job.leased_by) == ("sending", "other-host:4242")
    job.lease_until = utcnow() - timedelta(seconds=1)  # the worker stopped renewing: dead
    db.session.commit()
    assert printing.recover_interrupted() == 1
    db.session.expire_all()
    job = db.session.get(PrintJob, job_id)
    assert job.status == "failed" and "other-host:4242 died mid-job" in job.error


def test_heartbeat_renews_its_workers_leases_and_shows_as_last_heartbeat(app, make_visit):
    from datetime import timedelta

    from server.models import utcnow
    from server.services import print_leases

    assert printing.last_heartbeat() is None
    checkin.check_in(make_visit().code)
    job_id = db.session.query(PrintJob.id).scalar()
    print_leases.claim(job_id, "w:1", lease=1)
    alive = utcnow()
    assert print_leases.beat("w:1", alive, lease=60) == 1
    assert print_leases.beat("w:2", alive - timedelta(minutes=5), lease=60) == 0
    db.session.expire_all()
    assert db.session.get(PrintJob, job_id).lease_until > utcnow() + timedelta(seconds=50)
    assert printing.last_heartbeat() == alive
    print_leases.forget("w:1")
    assert printing.last_heartbeat() == alive - timedelta(minutes=5)


def test_a_worker_that_lost_its_lease_never_marks_the_job_done(app, make_visit, printer):
    from datetime import timedelta

    from server.models import utcnow
    from server.services import print_leases

    checkin.check_in(make_visit().code)
    job_id = db.session.query(PrintJob.id).scalar()
    print_leases.claim(job_id, "slow:1", lease=60)
    db.session.query(PrintJob).update({"lease_until": utcnow() - timedelta(seconds=1)})
    db.session.commit()
    assert printing.recover_interrupted() == 1  # another worker took it for dead
    printing._send(job_id, "slow:1")  # ... but it was only slow, and finishes now
    db.session.expire_all()
    assert db.session.get(PrintJob, job_id).status == "failed"


def test_a_pass_records_which_worker_sent_each_job_and_stops_when_told(app, make_visit, printer):
    for name in ("Ada", "Bob"):
        checkin.check_in(make_visit(name).code)
    asked = []

    def keep_going():
        asked.append(1)
        return len(asked) == 1  # stop after the first job

    assert printing.drain(worker="desk-pc:7", keep_going=keep_going) == 1
    jobs = db.session.query(PrintJob).order_by(PrintJob.id).all()
    assert [(j.status, j.leased_by) for j in jobs] == [("done", "desk-pc:7"), ("queued", "")]
    assert jobs[0].lease_until is None
