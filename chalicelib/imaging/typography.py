"""Fonts shipped with the portal, and what they can draw.

Pillow's built-in bitmap font has no "É": every text of the card is drawn with DejaVu Sans (regular and bold), shipped
in ``fonts/`` with its licence. DejaVu Sans covers Latin-1, Latin Extended-A and B and the typographic punctuation
(’ « » – — …), i.e. every letter a French name can carry.

Fonts are opened on first use and cached (one object per size): nothing is read at import time.
"""

from __future__ import annotations

import functools
import os
import struct
import unicodedata

from PIL import Image, ImageDraw, ImageFont

FONTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fonts")
REGULAR_FONT = os.path.join(FONTS_DIR, "DejaVuSans.ttf")
BOLD_FONT = os.path.join(FONTS_DIR, "DejaVuSans-Bold.ttf")

# Shown instead of a character the font cannot draw (it must itself be in the font).
REPLACEMENT_CHARACTER = "?"


@functools.lru_cache(maxsize=64)
def font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    # BASIC layout (no Raqm): French needs no shaping, and the same metrics everywhere (Lambda, CI, a laptop) keep
    # the text-fitting decisions, and therefore the previews, identical.
    return ImageFont.truetype(BOLD_FONT if bold else REGULAR_FONT, size, layout_engine=ImageFont.Layout.BASIC)


# The cards of an order share most of their texts (labels, commune, mandate date, functions) and the fitting of one
# text measures it at several sizes: measures and rendered masks are kept per container, bounded by an LRU.

@functools.lru_cache(maxsize=4096)
def text_bbox(text: str, bold: bool, size: int) -> tuple[int, int, int, int]:
    """The ink box of ``text`` drawn at (0, 0) with anchor "la" (``FreeTypeFont.getbbox``), cached."""
    return font(bold, size).getbbox(text, anchor="la")


@functools.lru_cache(maxsize=64)
def line_height(bold: bool, size: int) -> int:
    ascent, descent = font(bold, size).getmetrics()
    return ascent + descent


@functools.lru_cache(maxsize=128)
def text_mask(text: str, bold: bool, size: int) -> tuple[Image.Image, tuple[int, int]] | None:
    """``text`` rendered once as an 8-bit coverage mask, and where its top-left goes relative to the text's anchor
    point ("la"); None when nothing would be drawn. Drawing the mask with ``ImageDraw.bitmap`` at that offset gives
    the very pixels ``ImageDraw.text`` draws (the same FreeType rendering, the same blending).

    Cached (at most 128 masks, 2 to 40 KB each for a card's texts: a few MB at worst): the texts that repeat from
    card to card are rendered once per container; a card's own (its names, its number) are evicted first.
    """
    left, top, right, bottom = text_bbox(text, bold, size)
    if right <= left or bottom <= top:
        return None
    mask = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(mask).text((-left, -top), text, font=font(bold, size), fill=255, anchor="la")
    return mask, (left, top)


def clear_caches() -> None:
    """Forget every font, measure and mask (what a fresh container starts with)."""
    for cached in (font, text_bbox, line_height, text_mask):
        cached.cache_clear()


# ----------------------------------------------------------------------------------------------------------------------
# Glyph coverage, read from the font's own character map ('cmap' table): no dependency on fontTools.
# ----------------------------------------------------------------------------------------------------------------------

def missing_glyphs(text: str, font_path: str | os.PathLike = REGULAR_FONT) -> set[str]:
    """Characters of ``text`` that the TrueType font at ``font_path`` has no glyph for.

    Such a character would be drawn as the font's ".notdef" glyph (an empty box). Control characters such as a
    newline count as missing: they are never drawn, so the card code removes them beforehand.
    """
    covered = _character_map(os.fspath(font_path))
    return {char for char in set(text) if ord(char) not in covered}


@functools.lru_cache(maxsize=8)
def _character_map(font_path: str) -> frozenset[int]:
    """Code points that the font maps to a real glyph (glyph id != 0), from its Unicode 'cmap' subtable."""
    with open(font_path, "rb") as f:
        data = f.read()
    cmap = _table(data, b"cmap")
    subtables = {}
    _, count = struct.unpack_from(">HH", cmap, 0)
    for index in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", cmap, 4 + 8 * index)
        subtables[(platform, encoding)] = offset
    # Full-repertoire Unicode first (format 12), then the BMP one (format 4), Windows then Unicode platform IDs.
    for key in ((3, 10), (0, 4), (3, 1), (0, 3)):
        if key in subtables:
            offset = subtables[key]
            fmt = struct.unpack_from(">H", cmap, offset)[0]
            if fmt == 12:
                return _format_12(cmap, offset)
            if fmt == 4:
                return _format_4(cmap, offset)
    raise ValueError(f"{font_path}: no Unicode cmap subtable of format 4 or 12")


def _table(data: bytes, tag: bytes) -> bytes:
    count = struct.unpack_from(">H", data, 4)[0]
    for index in range(count):
        record_tag, _, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * index)
        if record_tag == tag:
            return data[offset:offset + length]
    raise ValueError(f"no {tag!r} table")


def _format_4(cmap: bytes, offset: int) -> frozenset[int]:
    seg_count = struct.unpack_from(">H", cmap, offset + 6)[0] // 2
    ends_at = offset + 14
    starts_at = ends_at + 2 * seg_count + 2  # + reservedPad
    deltas_at = starts_at + 2 * seg_count
    range_offsets_at = deltas_at + 2 * seg_count
    covered = set()
    for segment in range(seg_count):
        end = struct.unpack_from(">H", cmap, ends_at + 2 * segment)[0]
        start = struct.unpack_from(">H", cmap, starts_at + 2 * segment)[0]
        delta = struct.unpack_from(">h", cmap, deltas_at + 2 * segment)[0]
        range_offset_at = range_offsets_at + 2 * segment
        range_offset = struct.unpack_from(">H", cmap, range_offset_at)[0]
        for code in range(start, min(end, 0xFFFE) + 1):
            if range_offset == 0:
                glyph = (code + delta) & 0xFFFF
            else:
                glyph = struct.unpack_from(">H", cmap, range_offset_at + range_offset + 2 * (code - start))[0]
                glyph = (glyph + delta) & 0xFFFF if glyph else 0
            if glyph:
                covered.add(code)
    return frozenset(covered)


def _format_12(cmap: bytes, offset: int) -> frozenset[int]:
    groups = struct.unpack_from(">I", cmap, offset + 12)[0]
    covered = set()
    for index in range(groups):
        start, end, first_glyph = struct.unpack_from(">III", cmap, offset + 16 + 12 * index)
        # Glyph ids run from first_glyph upwards; only glyph 0 (.notdef) means "not covered".
        first_code = start + 1 if first_glyph == 0 else start
        covered.update(range(first_code, end + 1))
    return frozenset(covered)


# ----------------------------------------------------------------------------------------------------------------------
# Clean text for drawing
# ----------------------------------------------------------------------------------------------------------------------

def printable(text: str, font_path: str | os.PathLike = REGULAR_FONT) -> str:
    """``text`` as it can be drawn on one line with the font: no box, ever.

    - NFC: "E" + combining acute (as some systems send) becomes the one glyph "É";
    - any run of whitespace (tab, newline, no-break space...) becomes one space; control and format characters
      (zero-width space, BOM, bidi marks) are dropped;
    - a character the font still lacks is replaced by its unaccented base letter when the font has that, else by
      "?", so the agent sees something is off rather than an empty box.
    """
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(char for char in text if unicodedata.category(char) not in ("Cc", "Cf") or char.isspace())
    text = " ".join(text.split())
    missing = missing_glyphs(text, font_path)
    if not missing:
        return text
    return "".join(_substitute(char, font_path) if char in missing else char for char in text)


def _substitute(char: str, font_path) -> str:
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if base and not missing_glyphs(base, font_path):
        return base
    return REPLACEMENT_CHARACTER
