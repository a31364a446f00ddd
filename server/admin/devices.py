"""/admin/printers and /admin/kiosks: devices on pages, as the ``lobby printer`` and
``lobby kiosk`` commands do them. Printers: add (URL checked now), "Test print" (a
sample badge now) and "Check now" (the printer's status now). Kiosks: add and pair
with a QR the tablet scans, re-pair (the old tablet stops working), revoke, printer,
fallback printer and language."""

from flask import redirect, render_template, request, url_for

from server.admin import bp
from server.admin.forms import KioskForm, KioskPrintersForm, PrinterForm
from server.auth import page_roles
from server.extensions import db
from server.models import PRINTABLE_STATES, Kiosk, Printer
from server.services import devices, printing, qr
from server.services.errors import ServiceError


def _apply_errors(form, error: ServiceError) -> None:
    for field, message in (error.fields or {"name": error.message}).items():
        getattr(form, field if field in form else "name").errors.append(message)


# --- printers -------------------------------------------------------------------


def _printers_page(form=None, status=200, notice=None):
    rows = [(p, printing.printer_dict(p)) for p in printing.printers()]
    return render_template(
        "admin/printers.html",
        rows=rows,
        notice=notice,
        form=form or PrinterForm(formdata=None),
        added=request.args.get("added"),
    ), status


@bp.get("/printers")
@page_roles("admin")
def printers_page():
    return _printers_page()


@bp.post("/printers")
@page_roles("admin")
def add_printer():
    """Name a printer; a URL Lobby cannot print to is refused next to the field."""
    form = PrinterForm()
    if not form.validate_on_submit():
        return _printers_page(form, 422)
    try:
        added = devices.add_printer(form.name.data, form.url.data)
    except ServiceError as e:
        _apply_errors(form, e)
        return _printers_page(form, e.status)
    return redirect(url_for("admin.printers_page", added=added.name), 303)


@bp.post("/printers/<int:printer_id>/test")
@page_roles("admin")
def test_printer(printer_id: int):
    """Print the sample badge now (as ``lobby printer test``); the outcome is shown."""
    target = db.get_or_404(Printer, printer_id)
    try:
        outcome = devices.print_sample(target.name)
    except ServiceError as e:
        return _printers_page(
            notice={"ok": False, "printer": target.name, "code": e.code, "text": e.message}
        )
    return _printers_page(
        notice={
            "ok": True,
            "printer": target.name,
            "code": outcome,
            "text": f"Sample badge sent to {target.name} ({outcome}). 测试访客证已发送。",
        }
    )


@bp.post("/printers/<int:printer_id>/check")
@page_roles("admin")
def check_printer(printer_id: int):
    """Ask the printer its status now (as ``lobby printer status``); stored and shown."""
    target = db.get_or_404(Printer, printer_id)
    status = printing.check_printer(target, target.url)
    text = f"{target.name}: {status.state}" + (f" ({status.detail})" if status.detail else "")
    return _printers_page(
        notice={
            "ok": status.state in PRINTABLE_STATES,
            "kind": "check",
            "printer": target.name,
            "code": status.state,
            "text": text,
        }
    )


# --- kiosks ---------------------------------------------------------------------


def _row_form(kiosk: Kiosk, printers, formdata=None) -> KioskPrintersForm:
    if formdata is None:
        form = KioskPrintersForm(
            formdata=None,
            prefix=f"k{kiosk.id}",
            printer=kiosk.printer.name if kiosk.printer else "",
            fallback=kiosk.fallback_printer.name if kiosk.fallback_printer else "",
            language=kiosk.language,
        )
    else:
        form = KioskPrintersForm(prefix=f"k{kiosk.id}")
    return form.set_choices(printers)


def _kiosks_page(form=None, status=200, pairing=None, row_forms=None):
    printers = printing.printers()
    kiosks = devices.kiosks()
    row_forms = row_forms or {}
    rows = [(k, row_forms.get(k.id) or _row_form(k, printers)) for k in kiosks]
    if pairing:
        link = request.host_url.rstrip("/") + pairing["path"]
        pairing = {**pairing, "link": link, "qr": qr.data_uri(link)}
    return render_template(
        "admin/kiosks.html",
        rows=rows,
        pairing=pairing,
        form=form or KioskForm(formdata=None).set_choices(printers),
        saved=request.args.get("saved"),
    ), status


@bp.get("/kiosks")
@page_roles("admin")
def kiosks_page():
    return _kiosks_page()


@bp.post("/kiosks")
@page_roles("admin")
def add_kiosk():
    """Add a kiosk and show its one-time pairing link as text and QR."""
    form = KioskForm().set_choices(printing.printers())
    if not form.validate_on_submit():
        return _kiosks_page(form, 422)
    try:
        added, path = devices.add_kiosk(
            form.name.data,
            printer=form.printer.data or None,
            fallback=form.fallback.data or None,
            language=form.language.data,
        )
    except ServiceError as e:
        _apply_errors(form, e)
        return _kiosks_page(form, e.status)
    return _kiosks_page(pairing={"kiosk": added.name, "path": path, "new": True}, status=201)


@bp.post("/kiosks/<int:kiosk_id>")
@page_roles("admin")
def save_kiosk(kiosk_id: int):
    """Change a kiosk's printer, fallback printer and language."""
    kiosk = db.get_or_404(Kiosk, kiosk_id)
    form = _row_form(kiosk, printing.printers(), formdata=request.form)
    if form.validate_on_submit():
        try:
            devices.set_kiosk_printers(
                kiosk.id, form.printer.data or None, form.fallback.data or None
            )
            devices.set_kiosk_language(kiosk.id, form.language.data)
            return redirect(url_for("admin.kiosks_page", saved=kiosk.name), 303)
        except ServiceError as e:
            _apply_errors(form, e)
    return _kiosks_page(status=422, row_forms={kiosk.id: form})


@bp.post("/kiosks/<int:kiosk_id>/pair")
@page_roles("admin")
def pair_kiosk(kiosk_id: int):
    """A new pairing link (as ``lobby kiosk pair``): the tablet paired now stops working."""
    kiosk = db.get_or_404(Kiosk, kiosk_id)
    path = devices.new_pairing(kiosk.name)
    return _kiosks_page(pairing={"kiosk": kiosk.name, "path": path, "new": False})


@bp.post("/kiosks/<int:kiosk_id>/revoke")
@page_roles("admin")
def revoke_kiosk(kiosk_id: int):
    """Lock the kiosk out at its next request (re-pairing lets a tablet in again)."""
    kiosk = db.get_or_404(Kiosk, kiosk_id)
    devices.revoke_kiosk(kiosk.name)
    return redirect(url_for("admin.kiosks_page", saved=kiosk.name), 303)
