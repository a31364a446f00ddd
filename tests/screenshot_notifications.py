"""A host's notification settings for the README: ``python
tests/screenshot_notifications.py [OUTDIR]`` (default docs/screenshots) writes
host-notifications.png. Not a test. As tests/screenshots.py: the real app in-process
on a throw-away data dir with the demo data, served over HTTP, Debian's Chromium at
1280x800. Grace Hopper adds a WeCom group robot on the page, has a DingTalk robot and
her own email; Ada Lovelace checks in and the worker's alerts pass queues the arrival
to each. The vendors are not called from here (no network): their answers are
stood in for at ``post`` (WeCom ``errcode 0``; DingTalk ``310000``, a wrong secret),
so the page shows a sent message and a failing one with the vendor's reason.
"""

import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect  # noqa: E402

from server.models import utcnow  # noqa: E402
from server.notify import alerts, outbox  # noqa: E402
from server.notify import channels as senders  # noqa: E402
from server.services import away, channels, checkin, clock, people  # noqa: E402
from tests.screenshots import demo_app, signed_in  # noqa: E402

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=6f1b0c3e"


def vendor_answer(url: str, body: bytes, headers=None) -> tuple[int, bytes]:
    if "dingtalk" in url:
        return 200, b'{"errcode":310000,"errmsg":"sign not match"}'
    return 200, b'{"errcode":0,"errmsg":"ok"}'


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    senders.post = vendor_answer  # no network from here
    app, data, info = demo_app("lobby-shots-notify-", SMTP_URL=None)
    with app.app_context():
        grace = people.user_by_email("grace@lobby.local")
        channels.add("grace-dingtalk", "dingtalk", DINGTALK, "SECwrong0000000000", grace)
        channels.add("grace-mail", "email", "grace.hopper@example.com", "", grace, ["waiting"])
        until = clock.to_local(utcnow() + timedelta(days=1)).strftime("%Y-%m-%d 18:00")
        away.set_away(grace.id, away_until=until, delegate="li.na@lobby.local")
    with signed_in(app, data, "grace@lobby.local", "demo-host") as page:
        page.click("#nav-notifications")
        page.select_option("select[name=kind]", "wecom")
        page.fill("input[name=url]", WECOM)
        page.fill("input[name=name]", "sales-team-wecom")
        page.check("input[name=events][value=arrival]")
        page.check("input[name=events][value=tea]")
        page.click("#add-channel button[type=submit]")
        expect(page.locator("#settings-notice")).to_be_visible()
        with app.app_context():
            ada = dict(info["codes"])["Ada Lovelace"]
            checkin.check_in(ada)
            alerts.run()
            outbox.send_due()
        page.goto("/host/settings")
        expect(page.locator('[data-channel="sales-team-wecom"] .last-message')).to_have_attribute(
            "data-status", "sent"
        )
        page.evaluate("document.fonts.ready")
        page.screenshot(path=str(out / "host-notifications.png"), full_page=True)
        print("wrote", out / "host-notifications.png")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
