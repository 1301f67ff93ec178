"""The site refuses, before any upload, what the image function would refuse, in the image function's own words."""
import re
from pathlib import Path

from chalicelib.imaging import photo

PAGE = (Path(__file__).resolve().parents[2] / "site" / "js" / "pages" / "elu-nouveau.js").read_text(encoding="utf-8")
FRAMING = (Path(__file__).resolve().parents[2] / "site" / "js" / "recadrage.js").read_text(encoding="utf-8")


def refusals_block() -> str:
    return PAGE[PAGE.index("const REFUSALS = {"):PAGE.index("};", PAGE.index("const REFUSALS = {"))]


def test_the_file_refusals_are_the_image_functions_words():
    block = refusals_block()
    for code in ("empty_file", "not_jpeg", "too_large_file"):
        assert f'"{photo._MESSAGES[code]}"' in block, code


def test_a_photo_too_small_is_said_as_the_image_function_says_it():
    template = re.search(r"tooSmall: \(width, height\) => (`.*?`)(?:,|\n)", refusals_block(), re.S)
    assert template
    joined = re.sub(r"`\s*\+\s*`", "", refusals_block()[template.start(1):]).split("`")[1]
    # The minimum is the ID photo's size, from js/constants.js (written from photo.OUTPUT_SIZE by scripts/build_site.py,
    # checked in tests/unit/test_site_build.py), not a copy.
    assert 'import { PHOTO_ASPECT_TOLERANCE, PHOTO_SIZE } from "./constants.js";' in FRAMING
    assert "export const MIN_CROP = PHOTO_SIZE;" in FRAMING
    width, height = (str(size) for size in photo.OUTPUT_SIZE)
    said = (joined.replace("${width}", "300").replace("${height}", "400")
            .replace("${MIN_CROP.width}", width).replace("${MIN_CROP.height}", height))
    assert said == photo.too_small_message(300, 400)


def test_the_server_refuses_a_whole_photo_smaller_than_the_id_photo():
    from io import BytesIO

    import pytest
    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (300, 400), (180, 170, 160)).save(buffer, "JPEG")
    with pytest.raises(photo.PhotoRejected) as refused:
        photo.normalize_photo(buffer.getvalue(), {"x": 0, "y": 0, "width": 300, "height": 386})
    assert refused.value.code == "image_too_small"
    assert refused.value.message == photo.too_small_message(300, 400)
