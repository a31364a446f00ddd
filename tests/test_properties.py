"""Hypothesis properties of the parsers that take outside input: the code a scanner
types, the dates the API reads, and the visitor log's CSV (there is no CSV import
yet: the export is what leaves, so its round trip is the property). Derandomized:
CI sees the same cases every run."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.services import checkin, clock, visit_log, visits
from server.services.errors import CheckInError, ServiceError, ValidationError
from tests.conftest import login, make_visit, staff  # noqa: F401

SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CODES = st.from_regex(checkin.CODE_RE, fullmatch=True).filter(lambda c: not c.endswith("\n"))
# Anything a scanner, a camera or a client might send as the code.
ANY_INPUT = st.one_of(
    st.text(),
    st.text(alphabet="[]/:?#@%.-_ \t\nAbc0123456789"),
    CODES.map(lambda c: "http://[" + c + "/" + c),
    st.none(),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.lists(st.text(max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=3),
)


@SETTINGS
@given(raw=ANY_INPUT)
def test_normalise_code_gives_a_code_or_a_refusal_for_any_input(raw):
    try:
        code = checkin.normalise_code(raw)
    except CheckInError as e:
        assert e.code == "unknown_code" and e.status == 404
    except ValidationError as e:
        assert not isinstance(raw, str) and e.code == "invalid_code"
    else:
        assert checkin.CODE_RE.match(code) and code.strip() == code


@SETTINGS
@given(
    code=CODES,
    prefix=st.sampled_from(["", "  ", "\t", "https://lobby.example/i/", "/i/", "lobby/v/"]),
    suffix=st.sampled_from(["", " ", "\n", "/", "?utm=qr", "#top", "/?x=1"]),
)
def test_a_code_comes_back_from_a_url_or_padding_around_it(code, prefix, suffix):
    if not prefix.endswith("/") and suffix not in ("", " ", "\n"):
        suffix = " "  # a query or fragment only follows a URL
    assert checkin.normalise_code(prefix + code + suffix) == code


WHEN_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789-:T+Z. ", max_size=32),
    st.datetimes().map(datetime.isoformat),
)
FIXED_ZONES = st.builds(
    timezone,
    st.timedeltas(
        min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23, minutes=59)
    ),
)


@SETTINGS
@given(text=st.one_of(WHEN_TEXT, st.none(), st.integers(), st.lists(st.integers(), max_size=2)))
def test_parse_when_gives_a_utc_time_or_a_value_error(app, text):
    try:
        when = visits.parse_when(text)
    except ValueError:
        return
    assert when is None or (isinstance(when, datetime) and when.tzinfo is None)


@SETTINGS
@given(moment=st.datetimes(timezones=FIXED_ZONES), z=st.booleans())
def test_parse_when_reads_any_offset_time_as_that_instant(app, moment, z):
    """Every date-time with an offset, years 1 to 9999 included: the same instant in
    naive UTC, or a ValueError when that instant is outside the years a datetime holds."""
    text = moment.isoformat()
    if z and moment.utcoffset() == timedelta(0):
        text = text.replace("+00:00", "Z")
    try:
        utc = moment.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        utc = None
    try:
        parsed = visits.parse_when(text)
    except ValueError:
        assert utc is None, f"{text} was refused but is {utc} UTC"
        return
    assert parsed == utc


@SETTINGS
@given(text=st.one_of(WHEN_TEXT, st.dates().map(date.isoformat), st.none(), st.integers()))
def test_parse_day_gives_a_date_or_a_value_error(app, text):
    try:
        day = visits.parse_day(text)
    except ValueError:
        return
    assert day is None or isinstance(day, date)


@SETTINGS
@given(
    from_=st.one_of(WHEN_TEXT, st.dates().map(date.isoformat)),
    to=st.one_of(WHEN_TEXT, st.dates().map(date.isoformat)),
    status=st.one_of(st.text(max_size=12), st.sampled_from(visit_log.STATUSES)),
    page=st.one_of(st.text(max_size=8), st.integers()),
)
def test_log_search_answers_any_dates_with_a_page_or_invalid_query(
    app, staff, from_, to, status, page
):  # noqa: F811
    """What GET /api/v1/visits and /reception/log do with ?from=&to=&status=&page=."""
    try:
        result = visit_log.search(staff["admin"], from_=from_, to=to, status=status, page=page)
    except ValidationError as e:
        assert e.code == "invalid_query" and e.fields
        return
    assert result.page >= 1 and result.total >= 0


FORMULA = ("=", "+", "-", "@", "\t", "\r")
NAMES = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=60
).filter(lambda s: s.strip())


@settings(SETTINGS, max_examples=40)
@given(
    name=NAMES, company=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=60)
)
def test_log_csv_gives_back_each_visitors_name_and_company(app, staff, make_visit, name, company):  # noqa: F811
    """Through /reception/log.csv: each cell parses back to what was stored (quotes,
    commas, newlines and CJK intact), a cell that would start a spreadsheet formula
    is prefixed with ' and nothing else is changed."""
    try:
        visit = make_visit(name=name, company=company)
    except ServiceError:
        return  # refused at booking: nothing to export
    client = app.test_client()
    login(client, staff["reception"].email)
    resp = client.get("/reception/log.csv")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    resp.close()
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:], newline="")))
    header, data = rows[0], rows[1:]
    assert header[5].startswith("Visitor") and header[6].startswith("Company")
    for row in data:
        assert len(row) == len(header)
        for cell in row:
            assert not cell.startswith(FORMULA), f"formula cell {cell!r}"
    mine = [r for r in data if r[15] == visit.purpose and _plain(r[5]) == visit.visitor.name]
    assert mine, f"no row for {visit.visitor.name!r}"
    assert _plain(mine[0][6]) == (visit.visitor.company or "")


def _plain(cell: str) -> str:
    """A cell as stored: without the ' that keeps a formula from running."""
    return cell[1:] if cell.startswith("'") and cell[1:2] in FORMULA else cell


def test_clock_iso_and_parse_when_round_trip(app):
    """The API writes times with clock.iso and reads them with parse_when."""
    now = clock.utcnow().replace(microsecond=0)
    assert visits.parse_when(clock.iso(now)) == now
    assert re.match(r"\d{4}-\d\d-\d\dT", clock.iso(now) or "")
