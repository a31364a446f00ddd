"""``Server-Timing: app;dur=<ms>`` on every kiosk response: the server's own processing
time (from the start of the request's dispatch, before the kiosk's checks, to the
response leaving the kiosk's views). ``bench/kiosk.py`` reads it to hold each kiosk step
under 100 ms of server time; a browser's devtools show it too.
"""

import time

from flask import g, request_started

from kiosk import bp


def _started(sender, **extra):
    g.kiosk_timing_start = time.perf_counter()


@bp.record_once
def _connect(state):
    # A signal, not a before_request: it fires before every before_request function of
    # the blueprint (the paired-kiosk check), whatever the order they were registered in.
    request_started.connect(_started, state.app)


@bp.after_request
def _server_timing(resp):
    start = g.pop("kiosk_timing_start", None)
    if start is not None:
        ms = (time.perf_counter() - start) * 1000
        resp.headers.add("Server-Timing", f"app;dur={ms:.1f}")
    return resp
