"""The words of an alert (``compose``): a title and a few lines, plain text, in English
or Chinese, for each topic alerts.py sends (``arrival``, ``arrivals``: several at once,
``waiting``, ``tea``, ``tour``, ``test``). Senders (channels.py) escape them for each
vendor; nothing here is markup. ``WEBHOOK_EVENTS`` names each topic's webhook event.
"""

from datetime import UTC, datetime

from server.services import clock


def _who(visitor: dict, lang: str) -> str:
    name, company = visitor.get("name") or "?", visitor.get("company") or ""
    if not company:
        return name
    return f"{name}（{company}）" if lang == "zh" else f"{name} ({company})"


def _hhmm(iso_ts: str | None) -> str:
    if not iso_ts:
        return ""
    ts = datetime.fromisoformat(iso_ts)
    return clock.to_local(ts.astimezone(UTC).replace(tzinfo=None)).strftime("%H:%M")


def _drinks(items: list, lang: str) -> str:
    names = {}
    if lang == "zh":
        from server.services import tasks

        names = {d.name: d.name_zh for d in tasks.menu(active_only=False) if d.name_zh}
    return ", ".join(
        f"{i.get('count', 1)} × {names.get(i.get('drink'), i.get('drink'))}" for i in items
    )


def compose(topic: str, data: dict, lang: str) -> dict:
    """The alert (``title`` and ``lines``, plain text) for ``topic`` in ``lang``."""
    zh = lang == "zh"
    who = _who(data.get("visitor") or {}, lang)
    sp = "" if who.endswith("）") else " "  # 中文: no space after a full-width bracket
    host = (data.get("host") or {}).get("name", "")
    lines: list[str] = []
    if topic == "arrival":
        title = f"{who}{sp}已到达" if zh else f"{who} is here"
        lines.append(f"来访：{host}" if zh else f"To see {host}")
        delegate = (data.get("delegate") or {}).get("name")
        if delegate:  # the host is away (services/away.py): the delegate meets them
            lines.append(
                f"{host} 不在，由 {delegate} 接待"
                if zh
                else f"{host} is away: {delegate} meets them"
            )
        if data.get("kiosk"):
            lines.append(f"签到终端：{data['kiosk']}" if zh else f"Checked in at {data['kiosk']}")
        if data.get("room"):
            lines.append(f"会面地点：{data['room']}" if zh else f"Meet in {data['room']}")
    elif topic == "arrivals":  # several at once (a group): one line each
        arrivals = data.get("arrivals") or []
        title = f"{len(arrivals)} 位访客已到达" if zh else f"{len(arrivals)} visitors are here"
        for one in arrivals:
            one_who = _who(one.get("visitor") or {}, lang)
            one_host = (one.get("host") or {}).get("name", "")
            lines.append(f"{one_who}，来访：{one_host}" if zh else f"{one_who}, to see {one_host}")
    elif topic == "waiting":
        minutes = data.get("minutes")
        if minutes is not None:
            title = (
                f"{who}{sp}已等候 {minutes} 分钟" if zh else f"{who} has waited {minutes} minutes"
            )
        else:
            title = f"{who}{sp}仍在等候" if zh else f"{who} is still waiting"
        lines.append(f"来访：{host}" if zh else f"To see {host}")
        delegate = (data.get("delegate") or {}).get("name")
        if delegate:
            lines.append(
                f"{host} 不在，由 {delegate} 接待"
                if zh
                else f"{host} is away: {delegate} meets them"
            )
        if data.get("by"):
            lines.append(
                f"前台 {data['by']} 再次通知" if zh else f"Reception ({data['by']}) asks again"
            )
    elif topic == "tea":
        details = (data.get("task") or {}).get("details") or {}
        title = f"为 {who}{sp}备茶" if zh else f"Drinks for {who}"
        lines.append(_drinks(details.get("items") or [], lang))
        if details.get("note"):
            lines.append(f"备注：{details['note']}" if zh else f"Note: {details['note']}")
        lines.append(f"接待人：{host}" if zh else f"Host: {host}")
    elif topic == "tour":
        task = data.get("task") or {}
        what = (task.get("details") or {}).get("title") or ("参观" if zh else "Tour")
        at = _hhmm(task.get("starts_at"))
        title = f"{who}{sp}的参观“{what}”{at} 开始" if zh else f"Tour “{what}” for {who} at {at}"
        lines.append("请确认参观安排" if zh else "Please confirm the tour")
        stops = [s.get("place", "") for s in task.get("stops") or []]
        if stops:
            lines.append(("路线：" if zh else "Route: ") + " → ".join(stops))
    else:  # a test
        title = "Lobby 测试消息" if zh else "Test message from Lobby"
        lines.append("通知渠道设置正确。" if zh else "This channel works.")
    return {"title": title, "lines": lines, "language": "zh" if zh else "en"}


WEBHOOK_EVENTS = {
    "arrival": "visitor_arrived",
    "arrivals": "visitors_arrived",  # chat only: a webhook gets each arrival
    "waiting": "visitor_waiting",
    "tea": "tea_requested",
    "tour": "tour_reminder",
    "test": "test",
}
