"""QR codes for staff pages (a walk-in's code to scan at the kiosk, an invitation, a
kiosk's pairing link): a PNG, or a data: URI to put straight into an <img>."""

import base64
import io

import qrcode


def png(text: str, box_size: int = 8, border: int = 4) -> bytes:
    """``text`` as a black-on-white QR PNG (error correction M: survives a smudge; a
    quiet zone of four modules, as scanners expect)."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border
    )
    code.add_data(text)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(out)
    return out.getvalue()


def data_uri(text: str, box_size: int = 8) -> str:
    """The QR of ``text`` as ``data:image/png;base64,...``: drawn inline, so a printed
    or saved page needs nothing else from the server, and a secret (a pairing link)
    never sits in a URL of its own."""
    return "data:image/png;base64," + base64.b64encode(png(text, box_size)).decode()
