"""Fonts shipped with the portal, and what they can draw.

Pillow's built-in bitmap font has no "É": every text of the card is drawn with DejaVu Sans (regular and bold), shipped
in ``fonts/`` with its licence. DejaVu Sans covers Latin-1, Latin Extended-A and B and the typographic punctuation
(’ « » – — …), i.e. every letter a French name can carry.

Fonts are opened on first use and cached (one object per size): nothing is read at import time.
"""

from __future__ import annotations

import functools
import os
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
# Glyph coverage, from the font's own character map ('cmap' table), read by fontTools.
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
    """Code points that the font maps to a real glyph (not ".notdef"), from its best Unicode 'cmap' subtable."""
    # cold start: fontTools 10 ms over Pillow (a dependency of fpdf2), paid by the first card drawn rather than by the
    # image function's start (bench/coldstart.py)
    from fontTools.ttLib import TTFont

    with TTFont(font_path, lazy=True) as font:
        return frozenset(code for code, glyph in font.getBestCmap().items() if glyph != ".notdef")


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
