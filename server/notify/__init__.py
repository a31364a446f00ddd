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
"""
