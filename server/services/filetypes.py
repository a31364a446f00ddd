"""What an uploaded file really is: judged by its bytes, never by its name or by the
type the browser sent.

``check(data, accepted)`` returns the file's real MIME type when it is one of
``accepted`` and whole, else raises ``ValueError`` with words a person can act on
(``UnknownType``, a ValueError too, when the bytes are none of the kinds we know, so a
caller can say in its own words what it takes):

- PNG, JPEG and WebP by their magic bytes, then decoded (``images.open_image``: only
  those three decoders, at most 12 megapixels), so a renamed file or a broken image
  fails;
- PDF: ``%PDF-`` first and ``%%EOF`` in its last 2 KB (a cut-off upload fails);
- Office Open XML (Word ``.docx``, Excel ``.xlsx``, PowerPoint ``.pptx``): a ZIP from
  its very first byte (an executable with a ZIP appended is not one), opened with
  ``zipfile`` without extracting anything: its ``[Content_Types].xml`` must exist and
  name the document's main part (read, at most 256 KB, as bytes: no XML parser sees
  it), the part's folder must exist, nothing may be encrypted, named outside the
  archive, or a macro project (``vbaProject.bin``, the macro-enabled types). A ZIP
  bomb is refused from its declared sizes: at most 5,000 entries, 512 MB unpacked in
  all, and no entry over 1 MB that claims to unpack more than 100 times its packed size
  (Office XML packs about 5-20 times, pictures about once).

Used by expense receipts (server/policy/expenses.py) and the reception summary's
materials (server/policy/materials.py); each caller keeps its own size limit.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Collection

PNG, JPEG, WEBP, PDF = "image/png", "image/jpeg", "image/webp", "application/pdf"
_OOXML = "application/vnd.openxmlformats-officedocument."
DOCX = _OOXML + "wordprocessingml.document"
XLSX = _OOXML + "spreadsheetml.sheet"
PPTX = _OOXML + "presentationml.presentation"
IMAGES = (PNG, JPEG, WEBP)
OFFICE = (DOCX, XLSX, PPTX)

# The extension each type is saved under, first the one added to a name that has none of them.
EXTENSIONS = {
    PNG: (".png",),
    JPEG: (".jpg", ".jpeg"),
    WEBP: (".webp",),
    PDF: (".pdf",),
    DOCX: (".docx",),
    XLSX: (".xlsx",),
    PPTX: (".pptx",),
}
NAMES = {
    PNG: "PNG",
    JPEG: "JPEG",
    WEBP: "WebP",
    PDF: "PDF",
    DOCX: "Word (.docx)",
    XLSX: "Excel (.xlsx)",
    PPTX: "PowerPoint (.pptx)",
}

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"%PDF-", PDF),
)
_ZIP = b"PK\x03\x04"
# The main part's content type in [Content_Types].xml -> (our type, the part's folder).
_MAIN_PARTS = {
    _OOXML.encode() + b"wordprocessingml.document.main+xml": (DOCX, "word/"),
    _OOXML.encode() + b"spreadsheetml.sheet.main+xml": (XLSX, "xl/"),
    _OOXML.encode() + b"presentationml.presentation.main+xml": (PPTX, "ppt/"),
}
_MACROS = b"macroEnabled"
MAX_ENTRIES = 5000
MAX_UNPACKED = 512 * 1024 * 1024
MAX_RATIO = 100
_RATIO_FROM = 1024 * 1024
MAX_CONTENT_TYPES = 256 * 1024


class UnknownType(ValueError):
    """The bytes are none of the kinds this module knows."""


def sniff(data: bytes) -> str | None:
    """The type the first bytes announce (``application/zip`` for any ZIP), or None.
    Nothing is decoded: ``check`` says whether the file is whole."""
    kind = next((mime for magic, mime in _MAGIC if data.startswith(magic)), None)
    if kind is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        kind = WEBP
    if kind is None and data.startswith(_ZIP):
        kind = "application/zip"
    return kind


def describe(accepted: Collection[str]) -> str:
    """``accepted`` in words: "PNG, JPEG or PDF"."""
    names = [NAMES.get(a, a) for a in accepted]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def check(data: bytes, accepted: Collection[str]) -> str:
    """The real type of ``data`` if it is one of ``accepted`` and whole (see the module
    docstring); ``UnknownType`` or ``ValueError`` otherwise."""
    kind = sniff(data)
    if kind == "application/zip" and any(a in OFFICE for a in accepted):
        kind = office_type(data)
    if kind is None or kind not in accepted:
        raise UnknownType(f"not a {describe(accepted)} file")
    if kind in IMAGES:
        from server.services.images import open_image

        open_image(data).close()  # decodes: a renamed file or a broken image fails here
    elif kind == PDF and b"%%EOF" not in data[-2048:]:
        raise ValueError("not a complete PDF")
    return kind


def office_type(data: bytes) -> str:
    """DOCX, XLSX or PPTX for an Office Open XML file that passes the checks of the
    module docstring; ``UnknownType`` for a ZIP that is no Office document, ValueError
    for one refused (broken, encrypted, macros, a bomb)."""
    if not data.startswith(_ZIP):
        raise UnknownType("not a ZIP file")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise ValueError("not a readable Office file (a broken ZIP)") from e
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ValueError(f"more than {MAX_ENTRIES} parts: not accepted")
        unpacked = 0
        for info in infos:
            name = info.filename
            if info.flag_bits & 0x1:
                raise ValueError("an encrypted file: save it without a password")
            if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/"):
                raise ValueError("a part is named outside the document")
            if name.lower().endswith("vbaproject.bin"):
                raise ValueError("a document with macros: save it as .docx, .xlsx or .pptx")
            unpacked += info.file_size
            if info.file_size > _RATIO_FROM and info.file_size > MAX_RATIO * max(
                info.compress_size, 1
            ):
                raise ValueError("packed too tightly to be a document (a ZIP bomb?)")
        if unpacked > MAX_UNPACKED:
            raise ValueError(f"unpacks to more than {MAX_UNPACKED // 2**20} MB")
        names = {i.filename for i in infos}
        if "[Content_Types].xml" not in names:
            raise UnknownType("a ZIP, not an Office document")
        types = archive.getinfo("[Content_Types].xml")
        if types.file_size > MAX_CONTENT_TYPES:
            raise ValueError("not a readable Office file")
        try:
            with archive.open(types) as f:
                declared = f.read(MAX_CONTENT_TYPES + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as e:
            raise ValueError("not a readable Office file") from e
    if len(declared) > MAX_CONTENT_TYPES:
        raise ValueError("not a readable Office file")
    if _MACROS.lower() in declared.lower():
        raise ValueError("a document with macros: save it as .docx, .xlsx or .pptx")
    found = [(kind, folder) for main, (kind, folder) in _MAIN_PARTS.items() if main in declared]
    if len(found) != 1:
        raise UnknownType("a ZIP, not a Word, Excel or PowerPoint document")
    kind, folder = found[0]
    if not any(n.startswith(folder) for n in names):
        raise ValueError("not a complete Office file")
    return kind
