"""Messages that leave Lobby (DESIGN.md: ``server/notify/``).

- ``outbox.py``: every message is a row (``OutboxMessage``) queued inside the
  transaction that caused it; the worker claims due rows under a lease, sends them
  through the sender registered for their ``kind`` (``SENDERS``: email here, chat
  channels later), marks them ``sent``, or retries with backoff and at last marks
  them ``failed`` with the reason. Resend by hand re-queues.
- ``mail.py``: SMTP from ``LOBBY_SMTP_URL`` (standard library ``smtplib``), the
  ``email`` sender.
- ``invitations.py``: the visitor's invitation email (text and HTML, the QR inline,
  an ``.ics``), queued on pre-registration and again when the visit changes or is
  cancelled (same UID, SEQUENCE up).
- ``channels.py``: the chat and webhook senders (WeCom, DingTalk, Feishu, Slack, a
  signed webhook), each in its vendor's format and signing.
- ``alerts.py``: the worker's pass that fans the event log (arrivals, waiting too
  long, tea, tour reminders) out to people's channels and the site's defaults.
  ``alert_texts.py`` words them (English or Chinese, plain text).
"""
