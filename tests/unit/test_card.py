"""The card preview: ID-1 JPEG drawn as the card's description says (docs/cards.md, « The card »), every French letter
drawn (no missing-glyph box), long names kept inside the card."""

import datetime
import io
import os
import subprocess
import sys
import time

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from chalicelib.imaging import card as card_module
from chalicelib.imaging import typography
from chalicelib.imaging.card import (PHOTO_BOX, PREVIEW_SIZE, CardData, layout_card, missing_glyphs,
                                     render_card_preview)
from chalicelib.imaging.photo import normalize_photo
from tests.unit import photo_corpus as corpus

# Every letter that a French name may carry, in both cases, with both apostrophes and hyphens.
FRENCH_LETTERS = "ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆàâäçéèêëîïôöùûüÿœæ"


def make_card(**overrides) -> CardData:
    fields = dict(
        last_name="Lefèvre-Œuvray d’Ÿvoire",
        first_name="Élodie Ève-Maëlle",
        function_label="Adjointe au maire",
        commune_name="Saint-Étienne-de-Crossey",
        department_label="Isère (38)",
        mandate_start=datetime.date(2026, 3, 15),
        card_number="SPÉCIMEN",
        photo_jpeg=None,
    )
    fields.update(overrides)
    return CardData(**fields)


ACCENTED_CARDS = {
    "accents": make_card(),
    "ligatures": make_card(last_name="Bœuf-Lætitia", first_name="Æsa Ïlona Ÿvette Çécile Ëve Êmma Èric",
                           commune_name="L'Haÿ-les-Roses", department_label="Val-de-Marne (94)",
                           function_label="Maire déléguée"),
    "every letter": make_card(last_name=FRENCH_LETTERS, first_name=FRENCH_LETTERS, commune_name=FRENCH_LETTERS),
    "apostrophes": make_card(last_name="d'Orléans d’Hérouville", first_name="Jean-Noël",
                             commune_name="Villeneuve-d'Ascq", department_label="Nord (59)",
                             function_label="Maire d’arrondissement"),
}

LONG = "Marie-Christine Françoise Bénédicte Anne-Sophie Éléonore Ægidia Hermengarde Philomène"
LONG_CARDS = {
    "long compound names": make_card(
        last_name="de La Rochefoucauld-Montmorency-Laval-Bourbon-Condé d'Hautefeuille-Saint-Aignan",
        first_name=LONG,
        function_label="Maire déléguée de la commune déléguée de Saint-Germain-sur-Avre-et-Bois",
        commune_name="Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson",
        department_label="Seine-Saint-Denis (93)",
        card_number="2026-000123456789-ABCDEFGH"),
    "one endless word everywhere": make_card(
        last_name="W" * 200, first_name="M" * 200, function_label="Œ" * 200, commune_name="É" * 200,
        department_label="Ÿ" * 200, card_number="0" * 200),
    "many short words": make_card(last_name=" ".join(["Lé"] * 80), first_name=" ".join(["Ïa"] * 80),
                                  function_label=" ".join(["de"] * 80), commune_name=" ".join(["Ça"] * 80)),
    "empty and blank": make_card(last_name="", first_name="   ", function_label="", commune_name="\t",
                                 department_label="", card_number=""),
}


@pytest.fixture(scope="module")
def pattern_photo() -> bytes:
    """A normalised 413 x 531 photo of the asymmetric pattern (red top, blue bottom-left, green bottom-right)."""
    return normalize_photo(corpus.oriented_pattern_jpeg(1), corpus.full_crop((700, 900)))


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data), formats=["JPEG"])
    im.load()
    return im


def drawn_text(card: CardData) -> str:
    return "\n".join(item.text for item in layout_card(card))


def overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


# ----------------------------------------------------------------------------------------------------------------------
# Format
# ----------------------------------------------------------------------------------------------------------------------

def test_preview_is_an_id1_jpeg_without_metadata(pattern_photo):
    data = render_card_preview(make_card(photo_jpeg=pattern_photo))
    im = decode(data)
    assert PREVIEW_SIZE == (1011, 638)
    assert (im.format, im.size, im.mode) == ("JPEG", PREVIEW_SIZE, "RGB")
    for key in ("exif", "icc_profile", "comment", "xmp"):
        assert key not in im.info
    assert {m for m in corpus.jpeg_markers(data) if 0xFFE0 <= m <= 0xFFEF or m == 0xFFFE} <= {0xFFE0}


def test_printed_fields():
    card = make_card(function_label="Adjointe au maire", mandate_start=datetime.date(2026, 3, 5))
    lines = drawn_text(card).split("\n")
    for expected in ("RÉPUBLIQUE", "FRANÇAISE", "CARTE D’IDENTITÉ", "LEFÈVRE-ŒUVRAY D’ŸVOIRE", "Élodie Ève-Maëlle",
                     "Adjointe au maire", "Saint-Étienne-de-Crossey — Isère (38)", "Mandat depuis le 05/03/2026",
                     "N° SPÉCIMEN"):
        assert expected in lines


BLEU, BLANC, ROUGE = (0x00, 0x00, 0x91), (0xFF, 0xFF, 0xFF), (0xE1, 0x00, 0x0F)


def near(actual, expected, tolerance=14) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected))


def band_samples(im: Image.Image) -> list:
    """The colour in the middle of each stripe of the band, from the corner inwards, and of the corner outside it."""
    width = PREVIEW_SIZE[0]
    samples = []
    for distance in [card_module.BAND_START // 2] + [card_module.BAND_START + card_module.BAND_STRIPE * index
                                                     + card_module.BAND_STRIPE // 2 for index in range(3)]:
        # The point of the stripe's middle line (x - y = width - distance) halfway between the edges.
        samples.append(im.getpixel((width - distance // 2 - 1, distance // 2)))
    return samples


def test_tricolour_band_across_the_upper_right_corner():
    im = decode(render_card_preview(make_card()))
    corner, red, white, blue = band_samples(im)
    assert near(red, ROUGE) and near(white, BLANC) and near(blue, BLEU), (red, white, blue)
    assert near(corner, BLANC)  # the card's corner, outside the band
    # bleu, blanc, rouge from the card's inside to its corner, as the flag reads from the hoist
    assert card_module.BAND_COLOURS == ("#E1000F", "#FFFFFF", "#000091")
    # In the upper corner: the band leaves the top edge and the right edge within the header's height.
    assert card_module.BAND_END < PREVIEW_SIZE[1] / 3
    # The rest of the right edge, below the band, is the card's white.
    assert near(im.getpixel((PREVIEW_SIZE[0] - 20, card_module.BAND_END + 30)), BLANC)


# ----------------------------------------------------------------------------------------------------------------------
# The card's description (docs/cards.md), field by field
# ----------------------------------------------------------------------------------------------------------------------

DPI = 300
MM = DPI / 25.4  # pixels per millimetre


def fields_of(card: CardData) -> dict:
    """The text drawn under each label of the identity column, and the footer's two texts, with their boxes."""
    items = layout_card(card)
    column = [item for item in items if item.xy[0] == card_module.COLUMN_LEFT]
    fields, label = {}, None
    for item in column:
        if item.fill == card_module.GREY_LABEL:
            label = item.text
            fields[label] = {"label": item, "lines": []}
        else:
            fields[label]["lines"].append(item)
    footer = [item for item in items if item.bbox[1] > card_module.FOOTER_TOP]
    return {"column": fields, "footer": footer, "header": [i for i in items if i.bbox[3] < card_module.HEADER_RULE_Y]}


def test_the_preview_is_drawn_as_the_cards_description_field_by_field(pattern_photo):
    card = make_card(last_name="Dupont-Lhôte", first_name="Anne-Sophie", function_label="Maire déléguée",
                     commune_name="Saint-Étienne-de-Crossey", department_label="Isère (38)",
                     mandate_start=datetime.date(2026, 3, 1), card_number="2026-0000123", photo_jpeg=pattern_photo)
    drawn = fields_of(card)
    # ISO/IEC 7810 ID-1, 85.60 x 53.98 mm at 300 dpi.
    assert PREVIEW_SIZE == (round(85.60 * MM), round(53.98 * MM))
    # « République française » in the header, on the left, with the title.
    header = [item.text for item in drawn["header"]]
    assert header[:2] == ["RÉPUBLIQUE", "FRANÇAISE"] and "CARTE D’IDENTITÉ" in header
    assert max(item.bbox[2] for item in drawn["header"][:2]) < PREVIEW_SIZE[0] / 3
    # The identity column, in the description's order: surname (capitals), given name, function (feminised by the
    # caller), commune and département.
    column = drawn["column"]
    assert list(column) == ["NOM", "PRÉNOM(S)", "FONCTION", "COMMUNE"]
    values = {label: " ".join(line.text for line in field["lines"]) for label, field in column.items()}
    assert values == {"NOM": "DUPONT-LHÔTE", "PRÉNOM(S)": "Anne-Sophie", "FONCTION": "Maire déléguée",
                      "COMMUNE": "Saint-Étienne-de-Crossey — Isère (38)"}
    tops = [field["label"].bbox[1] for field in column.values()]
    assert tops == sorted(tops)
    for field in column.values():  # each value right under its label
        assert field["label"].bbox[3] <= field["lines"][0].bbox[1] <= field["label"].bbox[3] + 20
    # Then the mandate's start and the card number, in the footer, in that order.
    assert [item.text for item in drawn["footer"]] == ["Mandat depuis le 01/03/2026", "N° 2026-0000123"]
    assert drawn["footer"][0].bbox[2] < drawn["footer"][1].bbox[0]
    # The photo: on the left, beside the column, 35:45 like the ID photo, 23.7 x 30.5 mm (two thirds of 35 x 45 mm).
    left, top, right, bottom = PHOTO_BOX
    assert (right - left) * 45 == (bottom - top) * 35
    assert (round((right - left) / MM, 1), round((bottom - top) / MM, 1)) == (23.7, 30.5)
    assert left == card_module.MARGIN and right < card_module.COLUMN_LEFT
    assert card_module.HEADER_RULE_Y < top and bottom < card_module.FOOTER_TOP
    # What is drawn where the layout says: the photo's pixels in its box, the band's colours in the corner, and the
    # text's ink in each field's box.
    im = decode(render_card_preview(card))
    area = im.crop(PHOTO_BOX)
    expected = decode(pattern_photo).resize(area.size, Image.Resampling.LANCZOS)
    assert max(ImageStat.Stat(ImageChops.difference(area, expected)).mean) < 6
    _, red, white, blue = band_samples(im)
    assert near(red, ROUGE) and near(white, BLANC) and near(blue, BLEU)
    grey = im.convert("L")
    for field in column.values():
        for item in [field["label"]] + field["lines"]:
            assert ImageStat.Stat(grey.crop(item.bbox)).extrema[0][0] < 120, item  # ink where the text is
    function = column["FONCTION"]["lines"][0]
    ink = [pixel for pixel in im.crop(function.bbox).get_flattened_data() if sum(pixel) < 300]
    assert ink and all(b > r + 40 and b > g + 40 for r, g, b in ink[len(ink) // 4:: 7])  # the function in blue


# ----------------------------------------------------------------------------------------------------------------------
# Glyphs
# ----------------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("card", ACCENTED_CARDS.values(), ids=ACCENTED_CARDS.keys())
def test_no_missing_glyph_in_any_text_drawn(card):
    items = layout_card(card)
    for item in items:
        assert missing_glyphs(item.text, item.font_path) == set(), item
    drawn = "".join(item.text for item in items)
    # Drawn as given, not replaced: every special letter of the input is on the card.
    for char in set(card.last_name.upper() + card.first_name + card.commune_name) - set(" "):
        assert char in drawn, char
    render_card_preview(card)


def test_fonts_cover_latin_1_and_latin_extended_a():
    letters = [chr(code) for code in range(0xA0, 0x180)]
    for path in (typography.REGULAR_FONT, typography.BOLD_FONT):
        assert missing_glyphs("".join(letters) + "’‘«»–—…€", path) == set(), path


def test_missing_glyphs_finds_what_the_font_lacks():
    assert missing_glyphs("中\ue000É\n") == {"中", "\ue000", "\n"}
    assert missing_glyphs("") == set()


def test_missing_glyphs_agrees_with_what_pillow_draws():
    """Cross-check of the 'cmap' reading: a character is missing iff Pillow draws it as the .notdef box."""
    pillow_font = typography.font(False, 40)

    def drawn(char: str) -> bytes:
        im = Image.new("L", (80, 80))
        ImageDraw.Draw(im).text((10, 10), char, font=pillow_font, fill=255)
        return im.tobytes()

    notdef = drawn("\ue000")
    assert notdef.strip(b"\x00"), "the .notdef glyph of DejaVu is a visible box"
    sample = ([chr(code) for code in range(0x21, 0x7F)] + [chr(code) for code in range(0xA1, 0x250)]
              + list("中文字\ue001\ue123ᐁ᠀"))
    for char in sample:
        drawn_as_box = drawn(char) == notdef
        assert (char in missing_glyphs(char)) == drawn_as_box, (char, hex(ord(char)))


def test_text_is_cleaned_before_drawing():
    card = make_card(last_name="Le\u0301ger\u200b", first_name="Jean\tPierre\n", commune_name="中村 Ville")
    lines = drawn_text(card).split("\n")
    assert "LÉGER" in lines  # NFD "E + combining acute" drawn as the single glyph É; zero-width space dropped
    assert "Jean Pierre" in lines
    assert "?? Ville — Isère (38)" in lines  # no box: an unknown character is visibly replaced
    for item in layout_card(card):
        assert missing_glyphs(item.text, item.font_path) == set()


def test_default_bitmap_font_is_never_used():
    source = open(card_module.__file__, encoding="utf-8").read() + open(typography.__file__, encoding="utf-8").read()
    assert "load_default" not in source
    for path in (typography.REGULAR_FONT, typography.BOLD_FONT):
        assert os.path.isfile(path)
    assert os.path.isfile(os.path.join(typography.FONTS_DIR, "LICENSE.txt"))


def test_fonts_are_loaded_lazily():
    code = ("import chalicelib.imaging.card, chalicelib.imaging.photo; from chalicelib.imaging import typography;"
            "assert typography.font.cache_info().currsize == 0;"
            "assert typography._character_map.cache_info().currsize == 0;"
            "assert chalicelib.imaging.card._blank_card.cache_info().currsize == 0")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)


# ----------------------------------------------------------------------------------------------------------------------
# Long names
# ----------------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("card", list(LONG_CARDS.values()) + list(ACCENTED_CARDS.values()),
                         ids=list(LONG_CARDS.keys()) + list(ACCENTED_CARDS.keys()))
def test_text_stays_in_its_place(card):
    items = layout_card(card)
    width, height = PREVIEW_SIZE
    margin = card_module.MARGIN
    for item in items:
        left, top, right, bottom = item.bbox
        assert margin <= left and right <= width - margin and 0 < top and bottom < height, item
        assert not overlaps(item.bbox, PHOTO_BOX) or item.text == "PHOTO", item
        assert missing_glyphs(item.text, item.font_path) == set(), item
        assert right + card_module.BAND_GAP <= card_module.band_inner_x(top), item  # left of the band
    # The identity column ends above the footer band.
    column = [item for item in items if item.xy[0] == card_module.COLUMN_LEFT]
    assert column and max(item.bbox[3] for item in column) <= card_module.COLUMN_BOTTOM
    for index, a in enumerate(items):
        for b in items[index + 1:]:
            assert not overlaps(a.bbox, b.bbox), (a, b)


@pytest.mark.parametrize("card", LONG_CARDS.values(), ids=LONG_CARDS.keys())
def test_rendered_ink_stays_inside_the_margins(card):
    im = decode(render_card_preview(card)).convert("L")
    width, height = PREVIEW_SIZE
    margin = card_module.MARGIN
    # Right margin of the body and of the footer: no text ink there (text is #161616; the light card edge and
    # JPEG ringing stay far above 160).
    for box in ((width - margin + 3, card_module.BAND_END + 5, width - 3, card_module.FOOTER_TOP - 5),
                (width - margin + 3, card_module.FOOTER_TOP + 5, width - 3, height - 3),
                (card_module.COLUMN_LEFT, card_module.COLUMN_BOTTOM + 2, width - 3, card_module.FOOTER_TOP - 2)):
        assert ImageStat.Stat(im.crop(box)).extrema[0][0] >= 160, box


def test_long_names_are_shrunk_then_wrapped():
    short = {item.text: item for item in layout_card(make_card(last_name="Dupont"))}
    longer = {item.text: item for item in layout_card(make_card(last_name="Dupont-Lajoie-Montmorency"))}
    assert longer["DUPONT-LAJOIE-MONTMORENCY"].size < short["DUPONT"].size
    lines = [item.text for item in layout_card(LONG_CARDS["long compound names"])]
    # Wrapped at spaces rather than inside "Anne-Sophie" when that is enough...
    assert "Marie-Christine Françoise Bénédicte Anne-Sophie" in lines
    # ... and after a hyphen when a compound word must break.
    assert "DE LA ROCHEFOUCAULD-" in lines
    # Too long even on two lines: the end is replaced by an ellipsis, so the cut is visible.
    assert any(line.startswith("MONTMORENCY-LAVAL") and line.endswith("…") for line in lines)


def test_absurdly_long_text_is_laid_out_quickly():
    card = make_card(last_name="Ÿ" * 20000, first_name="a " * 20000, function_label="-" * 20000,
                     commune_name="É-" * 20000)
    started = time.perf_counter()
    items = layout_card(card)
    assert time.perf_counter() - started < 1.0
    assert all(item.bbox[2] <= PREVIEW_SIZE[0] - card_module.MARGIN for item in items)


# ----------------------------------------------------------------------------------------------------------------------
# Caches (constant part of the card, text measures and masks)
# ----------------------------------------------------------------------------------------------------------------------

def drawn_plainly(card: CardData) -> bytes:
    """The card drawn the plain way, every time from scratch: blank card, band, background, photo, then every text with
    ImageDraw.text; the same JPEG settings."""
    image = Image.new("RGB", PREVIEW_SIZE, card_module.WHITE)
    draw = ImageDraw.Draw(image)
    card_module._draw_band(image)
    card_module._draw_background(draw)
    card_module._draw_edge(draw)
    card_module._draw_photo(image, draw, card.photo_jpeg)
    for item in layout_card(card):
        draw.text(item.xy, item.text, font=typography.font(item.bold, item.size), fill=item.fill, anchor="la")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=card_module.JPEG_QUALITY)
    return out.getvalue()


@pytest.mark.parametrize("card", list(ACCENTED_CARDS.values()) + list(LONG_CARDS.values()),
                         ids=list(ACCENTED_CARDS.keys()) + list(LONG_CARDS.keys()))
def test_cached_drawing_gives_the_very_same_card(card, pattern_photo):
    for variant in (card, CardData(**{**card.__dict__, "photo_jpeg": pattern_photo})):
        render_card_preview(variant)  # warm: the second card of a container draws from the caches
        assert render_card_preview(variant) == drawn_plainly(variant)


def test_cards_drawn_one_after_another_do_not_leak_into_each_other():
    first, second = make_card(last_name="Dupont"), make_card(last_name="Martin", first_name="Jean", photo_jpeg=None)
    render_card_preview(first)
    assert render_card_preview(second) == drawn_plainly(second)
    typography.clear_caches()
    assert render_card_preview(first) == drawn_plainly(first)


def test_text_caches_are_bounded():
    for cached in (typography.text_bbox, typography.text_mask, typography.line_height, typography.font):
        assert cached.cache_info().maxsize is not None


# ----------------------------------------------------------------------------------------------------------------------
# Photo
# ----------------------------------------------------------------------------------------------------------------------

def test_photo_area_shows_the_photo(pattern_photo):
    im = decode(render_card_preview(make_card(photo_jpeg=pattern_photo)))
    area = im.crop(PHOTO_BOX)
    assert area.size[0] * 45 == area.size[1] * 35  # 35:45, not distorted
    expected = decode(pattern_photo).resize(area.size, Image.Resampling.LANCZOS)
    difference = ImageStat.Stat(ImageChops.difference(area, expected)).mean
    assert max(difference) < 6, difference
    w, h = area.size
    assert_colour = lambda box, colour: all(  # noqa: E731
        abs(a - e) <= 15 for a, e in zip(ImageStat.Stat(area.crop(box)).mean, colour))
    assert assert_colour((10, 10, w - 10, h // 2 - 10), corpus.TOP)
    assert assert_colour((10, h // 2 + 10, w // 2 - 10, h - 10), corpus.BOTTOM_LEFT)
    assert assert_colour((w // 2 + 10, h // 2 + 10, w - 10, h - 10), corpus.BOTTOM_RIGHT)


def test_without_photo_a_placeholder_is_drawn():
    im = decode(render_card_preview(make_card(photo_jpeg=None)))
    left, top, right, bottom = PHOTO_BOX
    corner = ImageStat.Stat(im.crop((left + 10, top + 10, left + 60, top + 60))).mean
    assert all(abs(channel - 0xEE) <= 6 for channel in corner)
    assert "PHOTO" in drawn_text(make_card(photo_jpeg=None)).split("\n")
