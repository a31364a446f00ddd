"""Both languages: the catalog is complete, kiosk screens render in the chosen language,
and the compiled catalog ships with a regular (non-editable) install."""

import shutil
import subprocess
import sys
import zipfile

from server import catalog, i18n
from tests.kiosk_helpers import KioskClient


def test_every_marked_message_has_a_chinese_translation():
    assert catalog.missing() == []


def test_the_catalog_holds_every_message_marked_in_the_code():
    known = {m.id for m in catalog._read() if m.id}
    marked = {m.id for m in catalog._extract() if m.id}
    assert marked - known == set(), "run: python -m server.catalog update"


def test_language_codes_are_normalised():
    assert i18n.language("zh-CN") == "zh" and i18n.language("zh_Hans") == "zh"
    assert i18n.language("EN") == "en"
    assert i18n.language("fr") is None and i18n.language(None) is None


def test_the_kiosk_speaks_its_default_until_the_visitor_chooses(app):
    kiosk = KioskClient(app, language=None)
    page = kiosk.client.get("/kiosk/").get_data(as_text=True)
    assert "Scan the QR code from your invitation" in page and 'lang="en"' in page
    _set_language(app, "zh")
    page = kiosk.client.get("/kiosk/").get_data(as_text=True)
    assert "请扫描邀请函上的二维码" in page and 'lang="zh-CN"' in page
    assert "Scan the QR code" not in page
    page = kiosk.client.get("/kiosk/start?lang=en").get_data(as_text=True)
    assert "Scan the QR code from your invitation" in page
    page = kiosk.client.get("/kiosk/start?lang=xx").get_data(as_text=True)
    assert "请扫描邀请函上的二维码" in page  # unknown: the kiosk's default


def kiosk_id_of(app):
    from server.extensions import db
    from server.models import Kiosk

    return db.session.scalar(db.select(Kiosk.id))


def _set_language(app, language):
    from server.extensions import db
    from server.models import Kiosk
    from server.services.tx import write

    with write() as session:
        session.get(Kiosk, kiosk_id_of(app)).language = language
    db.session.commit()


def test_a_regular_install_carries_the_compiled_catalog(tmp_path):
    """`pip install .` builds a wheel: the .mo must be in it (compiled by setup.py)."""
    src = tmp_path / "src"
    files = subprocess.run(
        ["git", "ls-files"], capture_output=True, text=True, check=True, cwd=i18n.HERE.parent
    ).stdout.split()
    for name in files:
        if (i18n.HERE.parent / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(i18n.HERE.parent / name, src / name)
    out = tmp_path / "wheel"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(src),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    [wheel] = out.glob("lobby-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "server/translations/zh/LC_MESSAGES/messages.mo" in names
    assert "server/translations/zh/LC_MESSAGES/messages.po" in names
