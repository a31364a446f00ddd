"""Badges print off the check-in path: a queued job, a worker, a loopback printer."""
import time

import zxingcpp

from server.extensions import db
from server.models import PrintJob
from server.services import checkin, devices, printing
from server.services.printing import PrintWorker
from tests.conftest import free_port
from tests.loopback_printer import LoopbackPrinter


def test_queued_badge_prints_on_the_kiosk_printer_and_decodes(app, make_visit, printer):
    visit = make_visit("张伟", company="华为技术有限公司")
    checkin.check_in(visit.code)
    assert printing.drain() == 1
    job = db.session.query(PrintJob).one()
    assert job.status == "sent" and job.error == "" and job.finished_at
    [raw] = printer.wait_for_jobs(1)
    [image] = printer.images()
    assert image.width == 576
    decoded = zxingcpp.read_barcodes(image.convert("L"))
    assert [d.text for d in decoded] == [visit.code]
    # the name area (below the top band, above the QR) holds the Chinese name's ink
    name_band = image.convert("L").crop((0, 90, 576, 260))
    assert sum(name_band.histogram()[:128]) > 2000


def test_badge_goes_to_the_printer_of_the_kiosk(app, make_visit, printer):
    with LoopbackPrinter() as side:
        devices.add_printer("Side desk", side.url)
        kiosk, _ = devices.add_kiosk("Side door", printer="Side desk")
        visit = make_visit()
        checkin.check_in(visit.code, kiosk="Side door")
        printing.drain()
        assert len(side.wait_for_jobs(1)) == 1
    assert printer.jobs == []


def test_58mm_printer_gets_a_384_dot_badge(app, make_visit):
    with LoopbackPrinter() as narrow:
        devices.add_printer("Narrow", narrow.url + "?width=384")
        visit = make_visit()
        checkin.check_in(visit.code, printer="Narrow")
        printing.drain()
        narrow.wait_for_jobs(1)
        assert narrow.images()[0].width == 384


def test_unreachable_printer_fails_the_job_not_the_checkin(app, make_visit):
    devices.add_printer("Dead", f"tcp://127.0.0.1:{free_port()}")
    visit = make_visit()
    started = time.monotonic()
    result = checkin.check_in(visit.code, printer="Dead")
    assert time.monotonic() - started < 0.5  # check-in never waits on a printer
    assert result.created and result.visit.status == "checked_in"
    printing.drain()
    job = db.session.query(PrintJob).one()
    assert job.status == "failed" and job.error.startswith("unreachable")
    assert result.visit.status == "checked_in"


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
    assert db.session.query(PrintJob).one().status == "sent"


def test_a_job_is_claimed_once(app, make_visit):
    visit = make_visit()
    checkin.check_in(visit.code)
    first = printing._claim_next()
    assert first is not None and first.status == "sending"
    assert printing._claim_next() is None
