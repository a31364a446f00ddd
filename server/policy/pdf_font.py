"""A TrueType subset of Noto Sans SC for a PDF's text (fpdf2 embeds it).

Noto Sans SC ships as OpenType with CFF outlines; fpdf2 embeds those with a custom
encoding CMap that text extractors (pypdf, pdfminer) cannot read back, so copy and
search in the PDF fail. ``ttf_subset(text)`` keeps only the glyphs ``text`` needs
(fontTools' subsetter) and converts their cubic outlines to TrueType quadratics
(fontTools' cu2qu pen), giving a small ``glyf`` font that fpdf2 embeds as Identity-H
with a proper ToUnicode map. About 0.8 s for a page of text (the subsetter reads the
16 MB font), a few KB embedded.
"""

from __future__ import annotations

import io

from printers.fonts import font_path

_MAXP_ZERO = (
    "maxPoints",
    "maxContours",
    "maxCompositePoints",
    "maxCompositeContours",
    "maxTwilightPoints",
    "maxStorage",
    "maxFunctionDefs",
    "maxInstructionDefs",
    "maxStackElements",
    "maxSizeOfInstructions",
    "maxComponentElements",
    "maxComponentDepth",
)


def ttf_subset(text: str) -> bytes:
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = TTFont(str(font_path(cjk=True)), lazy=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text + " ")
    subsetter.subset(font)

    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    for table in ("CFF ", "VORG"):
        if table in font:
            del font[table]
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in _MAXP_ZERO:
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    maxp.numGlyphs = len(order)
    font["maxp"] = maxp
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"
    out = io.BytesIO()
    font.save(out)  # recalculates maxp, loca and the bounding boxes
    return out.getvalue()
