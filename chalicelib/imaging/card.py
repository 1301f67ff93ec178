"""The mayor's ID card, drawn from its description (docs/cards.md, « The card »): the preview the town hall
acknowledges before ordering, and the very same drawing, numbered, in the card maker's print files
(``services/photos.py: render_order_cards``, zipped by ``services/print_files.py``).

ISO/IEC 7810 ID-1 (85.60 x 53.98 mm) at 300 dpi: 1011 x 638 px. Pure Pillow, bytes out (JPEG, no metadata).

Layout (pixels at 300 dpi, 1 mm = 11.8 px), the fields in the description's order::

    +-------------------------------------------------------------//////+
    | RÉPUBLIQUE                       CARTE D’IDENTITÉ          ////// |
    | FRANÇAISE                          D’ÉLU MUNICIPAL     //////     |   tricolour band across the upper
    |--------------------------------------------------------//////     |   right corner: bleu #000091,
    | +---------+  NOM                                                  |   blanc, rouge #E1000F (the
    | |         |  DUPONT-MARTIN                (surname, capitals)     |   State's brand colours)
    | |  photo  |  PRÉNOM(S)                                            |
    | | 35 : 45 |  Élodie                                               |
    | | 23.7 x  |  FONCTION                                             |
    | | 30.5 mm |  Adjointe au maire            (feminised by sex)      |
    | +---------+  COMMUNE                                              |
    |              Saint-Martin-d'Hères — Isère (38)  (and département) |
    |-------------------------------------------------------------------|
    | Mandat depuis le 15/03/2026                          N° SPÉCIMEN  |
    +-------------------------------------------------------------------+

The photo keeps the 35 x 45 mm proportions of the ID photo at two thirds of its size (280 x 360 px, 23.7 x 30.5 mm):
a 45 mm photo would leave 9 mm of a 54 mm card for the State's header and the footer.

Every text is fitted into its own box (smaller font, then two lines, then an ellipsis), so no name, however long,
leaves the card or covers the photo; ``layout_card`` returns every text with its box so tests can check that.
"""

from __future__ import annotations

import datetime
import functools
import io
import re
from dataclasses import dataclass

from PIL import Image, ImageDraw

from chalicelib.imaging import resampling
from chalicelib.imaging.typography import (BOLD_FONT, REGULAR_FONT, line_height, missing_glyphs, printable,
                                           text_bbox, text_mask)

__all__ = ["PREVIEW_SIZE", "PHOTO_BOX", "CardData", "TextItem", "layout_card", "render_card_preview",
           "missing_glyphs"]

PREVIEW_SIZE = (1011, 638)
JPEG_QUALITY = 88

# Colours of the French State's identity (Système de design de l'État).
BLUE_FRANCE = "#000091"
RED_MARIANNE = "#E1000F"
WHITE = "#FFFFFF"
TEXT = "#161616"
GREY_LABEL = "#666666"
RULE = "#DDDDDD"
FOOTER_BACKGROUND = "#F6F6F6"

MAX_TEXT_LENGTH = 250  # characters of one field considered for fitting; far more than two lines can hold

MARGIN = 40
HEADER_TOP = 32
# The tricolour band across the upper right corner: three stripes parallel to the corner's diagonal, each cutting
# BAND_STRIPE px off the top and the right edges, from BAND_START px off the corner (a white corner is left outside
# the band, clear of the card's rounded corner) to BAND_END. Outermost first: rouge, blanc, bleu.
BAND_STRIPE = 34
BAND_START = 76
BAND_END = BAND_START + 3 * BAND_STRIPE
BAND_COLOURS = (RED_MARIANNE, WHITE, BLUE_FRANCE)
BAND_GAP = 24  # between the band and any text or rule
HEADER_RULE_Y = 116
FOOTER_TOP = 560
# The photo, reduced from 413 x 531 to 280 x 360 (same 35:45 aspect).
PHOTO_BOX = (MARGIN, 140, MARGIN + 280, 140 + 360)
# Right column: from 32 px right of the photo to the right margin, down to 12 px above the footer.
COLUMN_LEFT = PHOTO_BOX[2] + 32
COLUMN_RIGHT = PREVIEW_SIZE[0] - MARGIN
COLUMN_BOTTOM = FOOTER_TOP - 12


def band_inner_x(y: int) -> int:
    """Where the band's inner edge (the blue stripe's) crosses the line ``y``: text and rules stay left of it."""
    return PREVIEW_SIZE[0] - BAND_END + y


# The title ends left of the band at the header's top; the header's rule stops before the band.
TITLE_RIGHT = band_inner_x(HEADER_TOP) - BAND_GAP
HEADER_RULE_RIGHT = band_inner_x(HEADER_RULE_Y) - BAND_GAP


@dataclass(frozen=True)
class CardData:
    last_name: str
    first_name: str
    function_label: str  # already feminised by the caller, e.g. "Adjointe au maire"
    commune_name: str
    department_label: str  # e.g. "Ain (01)"
    mandate_start: datetime.date
    card_number: str  # "SPÉCIMEN" until the card is produced
    photo_jpeg: bytes | None = None  # the 413 x 531 normalised photo


@dataclass(frozen=True)
class TextItem:
    """One line of text as drawn: ``xy`` is its top-left (Pillow anchor "la"), ``bbox`` the pixels it covers."""
    text: str
    bold: bool
    size: int
    xy: tuple[int, int]
    fill: str
    bbox: tuple[int, int, int, int]

    @property
    def font_path(self) -> str:
        return BOLD_FONT if self.bold else REGULAR_FONT


@dataclass(frozen=True)
class _Style:
    bold: bool
    size: int  # preferred size
    min_size: int  # smallest size on one line; below it the text wraps
    fill: str = TEXT
    max_lines: int = 1  # lines allowed once wrapped (at min_size - 4 at the smallest)


LABEL = _Style(bold=False, size=17, min_size=17, fill=GREY_LABEL)
SURNAME = _Style(bold=True, size=46, min_size=32, max_lines=2)
GIVEN_NAME = _Style(bold=False, size=36, min_size=26, max_lines=2)
FUNCTION = _Style(bold=True, size=32, min_size=22, fill=BLUE_FRANCE, max_lines=2)
COMMUNE = _Style(bold=False, size=30, min_size=22, max_lines=2)
HEADER = _Style(bold=True, size=25, min_size=25)
TITLE = _Style(bold=True, size=25, min_size=16, fill=BLUE_FRANCE)
FOOTER = _Style(bold=False, size=25, min_size=16)
FOOTER_NUMBER = _Style(bold=True, size=25, min_size=14)


# ----------------------------------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------------------------------

def render_card_preview(card: CardData) -> bytes:
    """The card preview: a 1011 x 638 JPEG (quality 88) with no metadata."""
    # What every card has (background, flag, the State's header) is drawn once per container and copied; the texts
    # that repeat from card to card (labels, commune, dates) are rendered once too (``typography.text_mask``).
    # The pixels are those of drawing everything on a blank card: the header does not touch the photo's box.
    image = _blank_card().copy()
    draw = ImageDraw.Draw(image)
    _draw_photo(image, draw, card.photo_jpeg)
    for item in _body(card):
        _draw_text(draw, item)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def layout_card(card: CardData) -> list[TextItem]:
    """Every line of text of the card, fitted and placed. Pure computation: nothing is drawn."""
    return list(_header()) + _body(card)


def _body(card: CardData) -> list[TextItem]:
    """The lines that depend on the card (everything but the header)."""
    items = _identity_column(card)
    items += _footer(card)
    if card.photo_jpeg is None:
        items += _photo_placeholder()
    return items


# ----------------------------------------------------------------------------------------------------------------------
# Text blocks
# ----------------------------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _header() -> tuple[TextItem, ...]:
    """The same on every card (a tuple: callers cannot alter the cached value)."""
    return tuple(_header_items())


def _header_items() -> list[TextItem]:
    # "Bloc marque" of the State: RÉPUBLIQUE / FRANÇAISE in bold capitals on two lines (the band is the colours).
    republique = _placed(["RÉPUBLIQUE"], HEADER, (MARGIN, HEADER_TOP))[0]
    francaise = _placed(["FRANÇAISE"], HEADER, (MARGIN, republique.bbox[3] + 8))[0]
    items = [republique, francaise]
    # The title, right-aligned on the same two lines, between the bloc marque and the band.
    width = TITLE_RIGHT - (republique.bbox[2] + 40)
    for text, beside in (("CARTE D’IDENTITÉ", republique), ("D’ÉLU MUNICIPAL", francaise)):
        size, lines = _fit(text, TITLE, width)
        x = TITLE_RIGHT - _width(lines[0], TITLE.bold, size)
        items += _placed(lines, _sized(TITLE, size), (x, beside.xy[1]))
    return items


def _identity_column(card: CardData) -> list[TextItem]:
    width = COLUMN_RIGHT - COLUMN_LEFT
    blocks = [
        ("NOM", card.last_name.upper(), SURNAME),
        ("PRÉNOM(S)", card.first_name, GIVEN_NAME),
        ("FONCTION", card.function_label, FUNCTION),
        ("COMMUNE", _commune_line(card.commune_name, card.department_label), COMMUNE),
    ]
    items: list[TextItem] = []
    y = PHOTO_BOX[1] - 4  # the first label's top aligns with the photo (glyph side bearing)
    for label, value, style in blocks:
        items += _placed([label], LABEL, (COLUMN_LEFT, y))
        y = items[-1].xy[1] + _line_height(LABEL.bold, LABEL.size) + 2
        size, lines = _fit(value, style, width)
        items += _placed(lines, _sized(style, size), (COLUMN_LEFT, y))
        y = items[-1].xy[1] + _line_height(style.bold, size) + 14
    return items


def _photo_placeholder() -> list[TextItem]:
    text = "PHOTO"
    x = (PHOTO_BOX[0] + PHOTO_BOX[2] - _width(text, LABEL.bold, LABEL.size)) // 2
    y = (PHOTO_BOX[1] + PHOTO_BOX[3] - _line_height(LABEL.bold, LABEL.size)) // 2
    return _placed([text], LABEL, (x, y))


def _commune_line(commune: str, department: str) -> str:
    commune, department = printable(commune), printable(department)
    return f"{commune} — {department}" if department else commune


def _footer(card: CardData) -> list[TextItem]:
    """The mandate's start on the left, then the card number on the right: the description's order."""
    top = FOOTER_TOP + 22
    date = card.mandate_start
    mandate = f"Mandat depuis le {date.day:02d}/{date.month:02d}/{date.year:04d}"
    size, lines = _fit(mandate, FOOTER, 480)
    mandate_items = _placed(lines, _sized(FOOTER, size), (MARGIN, top))
    number_left = mandate_items[0].bbox[2] + 40
    size, lines = _fit(f"N° {card.card_number}", FOOTER_NUMBER, COLUMN_RIGHT - number_left)
    number_items = _placed(lines, _sized(FOOTER_NUMBER, size),
                           (COLUMN_RIGHT - _width(lines[0], FOOTER_NUMBER.bold, size), top))
    return mandate_items + number_items


# ----------------------------------------------------------------------------------------------------------------------
# Fitting text into a width
# ----------------------------------------------------------------------------------------------------------------------

def _fit(text: str, style: _Style, width: int) -> tuple[int, list[str]]:
    """The largest size and the lines that fit ``width``: one line from ``size`` down to ``min_size``, then up to
    ``max_lines`` lines down to ``min_size - 4``, and at last an ellipsis on the last line."""
    # Two lines never hold MAX_TEXT_LENGTH characters: the excess is cut before measuring (an ellipsis shows it),
    # so that an absurd input costs no more time than a long name.
    if len(text) > MAX_TEXT_LENGTH:
        text = text[:MAX_TEXT_LENGTH] + "…"
    text = printable(text, BOLD_FONT if style.bold else REGULAR_FONT)
    for size in range(style.size, style.min_size - 1, -1):
        if _width(text, style.bold, size) <= width:
            return size, [text]
    smallest = style.min_size - 4 if style.max_lines > 1 else style.min_size
    for size in range(style.min_size, smallest - 1, -1):
        lines = _wrap(text, style.bold, size, width, style.max_lines)
        if len(lines) <= style.max_lines:
            return size, lines
    # Still too long: keep the first lines and put all the rest on the last one, cut with an ellipsis.
    lines = _wrap(text, style.bold, smallest, width, style.max_lines)[:style.max_lines - 1]
    rest = text[_end_of(lines, text):].strip()
    return smallest, lines + [_ellipsize(rest, style.bold, smallest, width)]


def _end_of(lines: list[str], text: str) -> int:
    """Where ``lines`` (wrapped from ``text``, in order, only spaces dropped) end in ``text``."""
    position = 0
    for line in lines:
        position = text.index(line, position) + len(line)
    return position


def _wrap(text: str, bold: bool, size: int, width: int, max_lines: int) -> list[str]:
    """Greedy wrap, at spaces if that is enough, else also after hyphens ("Marie-" / "Christine")."""
    lines = _wrap_at(r"\S+|\s+", text, bold, size, width)
    if len(lines) <= max_lines and all(_width(line, bold, size) <= width for line in lines):
        return lines
    return _wrap_at(r"\S+?-|\S+|\s+", text, bold, size, width)


def _wrap_at(pieces: str, text: str, bold: bool, size: int, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for piece in re.findall(pieces, text):
        if piece.isspace():
            if line:
                line += " "
            continue
        candidate = line + piece
        if _width(candidate.rstrip(), bold, size) <= width or not line:
            line = candidate
        else:
            lines.append(line.rstrip())
            line = piece
        # A single word wider than the box is cut anywhere: it will be visibly broken, not hidden.
        while _width(line.rstrip(), bold, size) > width and len(line) > 1:
            cut = _longest_prefix(line, bold, size, width)
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _longest_prefix(text: str, bold: bool, size: int, width: int, suffix: str = "") -> int:
    """Length of the longest start of ``text`` that fits ``width`` followed by ``suffix`` (at least 1).

    Binary search: widths grow with the prefix, and a long text must not cost one measure per character."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if _width(text[:middle] + suffix, bold, size) <= width:
            low = middle
        else:
            high = middle - 1
    return low


def _ellipsize(line: str, bold: bool, size: int, width: int) -> str:
    """The longest start of ``line`` that fits with "…" after it (called only when ``line`` does not fit)."""
    return line[:_longest_prefix(line, bold, size, width, suffix="…")].rstrip(" -") + "…"


def _width(text: str, bold: bool, size: int) -> int:
    # The ink box, not the advance: a bold "É" or an italic overhang must stay inside.
    left, _, right, _ = text_bbox(text, bold, size)
    return right - min(0, left)


def _line_height(bold: bool, size: int) -> int:
    return line_height(bold, size)


def _sized(style: _Style, size: int) -> _Style:
    return _Style(style.bold, size, size, style.fill, style.max_lines)


def _placed(lines: list[str], style: _Style, xy: tuple[int, int]) -> list[TextItem]:
    """Lines stacked from ``xy`` down, each with its ink box."""
    x, y = xy
    items = []
    for line in lines:
        left, top, right, bottom = text_bbox(line, style.bold, style.size)
        items.append(TextItem(line, style.bold, style.size, (x, y), style.fill,
                              (x + left, y + top, x + right, y + bottom)))
        y += _line_height(style.bold, style.size)
    return items


# ----------------------------------------------------------------------------------------------------------------------
# Graphics
# ----------------------------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _blank_card() -> Image.Image:
    """Background, band and header: what is the same on every card. Built on first use (never at import); callers
    draw on a copy."""
    image = Image.new("RGB", PREVIEW_SIZE, WHITE)
    draw = ImageDraw.Draw(image)
    _draw_band(image)  # first: it pastes its square of white and colours
    _draw_background(draw)
    _draw_edge(draw)
    for item in _header():
        _draw_text(draw, item)
    return image


def _draw_text(draw: ImageDraw.ImageDraw, item: TextItem) -> None:
    """``draw.text(item.xy, item.text, anchor="la")`` with the item's font and colour, from the cached mask."""
    rendered = text_mask(item.text, item.bold, item.size)
    if rendered is not None:
        mask, (left, top) = rendered
        draw.bitmap((item.xy[0] + left, item.xy[1] + top), mask, fill=item.fill)


def _draw_background(draw: ImageDraw.ImageDraw) -> None:
    width, height = PREVIEW_SIZE
    draw.rectangle((0, FOOTER_TOP, width, height), fill=FOOTER_BACKGROUND)
    draw.line((MARGIN, HEADER_RULE_Y, HEADER_RULE_RIGHT, HEADER_RULE_Y), fill=BLUE_FRANCE, width=3)
    draw.line((0, FOOTER_TOP, width, FOOTER_TOP), fill=RULE, width=2)


def _draw_edge(draw: ImageDraw.ImageDraw) -> None:
    # ID-1 corners are rounded (r = 3.18 mm = 37 px): a thin outline shows the card's edge on a white page.
    width, height = PREVIEW_SIZE
    draw.rounded_rectangle((0, 0, width - 1, height - 1), radius=37, outline=RULE, width=2)


def band_stripes() -> list[tuple[str, list[tuple[int, int]]]]:
    """Each stripe of the band, outermost first: its colour and its polygon (a quadrilateral cut off the corner)."""
    width = PREVIEW_SIZE[0]
    stripes = []
    for index, colour in enumerate(BAND_COLOURS):
        near, far = BAND_START + index * BAND_STRIPE, BAND_START + (index + 1) * BAND_STRIPE
        stripes.append((colour, [(width - near, 0), (width - far, 0), (width, far), (width, near)]))
    return stripes


SUPERSAMPLING = 4


def _draw_band(image: Image.Image) -> None:
    """The band, drawn 4 times larger on the card's white and averaged down (``Image.reduce``), so that its diagonal
    edges are smooth; 1 ms, once per container with the rest of the blank card."""
    left, bottom = PREVIEW_SIZE[0] - BAND_END - 2, BAND_END + 2
    large = Image.new("RGB", ((PREVIEW_SIZE[0] - left) * SUPERSAMPLING, bottom * SUPERSAMPLING), WHITE)
    draw = ImageDraw.Draw(large)
    for colour, polygon in band_stripes():
        draw.polygon([((x - left) * SUPERSAMPLING, y * SUPERSAMPLING) for x, y in polygon], fill=colour)
    image.paste(large.reduce(SUPERSAMPLING), (left, 0))


def fitted_photo(photo_jpeg: bytes) -> Image.Image:
    """The official's photo at the size of the card's photo box, RGB.

    The photo was normalised by chalicelib.imaging.photo (413 x 531 sRGB); any other size is fitted to the box.
    Decoded and resampled by libvips, as the photo pipeline is (Pillow's decode and LANCZOS took 3.5 ms a card).
    """
    photo = resampling.decode_resized(photo_jpeg, (PHOTO_BOX[2] - PHOTO_BOX[0], PHOTO_BOX[3] - PHOTO_BOX[1]))
    return photo if photo.mode == "RGB" else photo.convert("RGB")


def _draw_photo(image: Image.Image, draw: ImageDraw.ImageDraw, photo_jpeg: bytes | None) -> None:
    if photo_jpeg is None:
        draw.rectangle(PHOTO_BOX, fill="#EEEEEE", outline=RULE, width=2)
        return
    image.paste(fitted_photo(photo_jpeg), PHOTO_BOX[:2])
    draw.rectangle((PHOTO_BOX[0] - 1, PHOTO_BOX[1] - 1, PHOTO_BOX[2], PHOTO_BOX[3]), outline=RULE, width=1)
