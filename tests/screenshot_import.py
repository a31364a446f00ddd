"""The import preview with errors for the README: ``python tests/screenshot_import.py
[OUTDIR]`` (default docs/screenshots) writes import-preview.png. Not a test. As
tests/screenshots.py: the real app in-process on a throw-away data dir with the demo
data, served over HTTP, Debian's Chromium at 1280x800; reception uploads a GB18030
CSV (as Excel in China saves it) of six guests, three of them with mistakes.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect  # noqa: E402

from tests.screenshots import demo_app, signed_in  # noqa: E402

SHEET = [
    "姓名,公司,邮箱,电话,接待人,预计到达,事由,语言",
    "张伟,华为技术有限公司,zhang.wei@example.com,138 0013 8000,li.na@lobby.local,"
    "2026-12-08 09:30,供应链合作洽谈,zh",
    "Ada Lovelace,Analytical Engines,ada@example.com,+44 20 7946 0000,grace@lobby.local,"
    "2026-12-08 10:00,Engine design review,en",
    "王芳,比亚迪,wang.fang#example.com,,li.na@lobby.local,2026-12-08 10:30,参观工厂,zh",
    "José Müller,Müller & Söhne GmbH,jose@example.com,,grace@lobbylocal,"
    "2026-12-08 11:00,Plant tour,en",
    ",阿里巴巴,,,li.na@lobby.local,2026-12-8 下午两点,,zh",
    "Minh Nguyễn,Nokia,minh@example.com,+84 24 3936 0000,grace@lobby.local,"
    "2026-12-09 14:00,Contract signing,en",
]


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app, data, _ = demo_app("lobby-shots-import-")
    sheet = data / "客户日名单.csv"
    sheet.write_bytes(("\r\n".join(SHEET) + "\r\n").encode("gb18030"))
    with signed_in(app, data, "reception@lobby.local", "demo-reception") as page:
        page.click("#nav-import")
        page.set_input_files("#file", str(sheet))
        page.click("#import-upload button[type=submit]")
        expect(page.locator("#count-invalid")).to_have_text("3")
        page.evaluate("document.fonts.ready")
        page.locator("#import-preview").scroll_into_view_if_needed()
        page.screenshot(path=str(out / "import-preview.png"), full_page=True)
        print("wrote", out / "import-preview.png")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
