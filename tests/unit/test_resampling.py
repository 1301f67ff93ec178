"""libvips' decode, crop and Lanczos (chalicelib.imaging.resampling), against Pillow's full decode."""

import io

import pytest
from PIL import Image, ImageChops, ImageStat

from chalicelib.imaging import resampling
from chalicelib.imaging.resampling import Box, DecodeFailed, decode_resized
from tests.unit import photo_corpus as corpus


def jpeg(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95, **options)
    return out.getvalue()


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return max(ImageStat.Stat(ImageChops.difference(a, b)).mean)


@pytest.mark.parametrize("shrink", [1, 2, 4])
def test_a_box_of_the_reduced_image_matches_pillows_lanczos_from_full_resolution(shrink):
    data = corpus.jpeg_bytes(corpus.pattern((1600, 2000)))
    full_box = (200, 240, 200 + 1000, 240 + 1286)
    out = decode_resized(data, (413, 531), shrink, Box(*(side / shrink for side in (200, 240, 1000, 1286))))
    with Image.open(io.BytesIO(data)) as image:
        expected = image.convert("RGB").resize((413, 531), Image.Resampling.LANCZOS, box=full_box)
    assert (out.mode, out.size, out.info) == ("RGB", (413, 531), {})
    assert mean_difference(out, expected) < 3


@pytest.mark.parametrize("mode", ["L", "RGB", "CMYK"])
def test_the_jpegs_colour_mode_is_kept(mode):
    colour = {"L": 90, "RGB": (200, 30, 60), "CMYK": (0, 200, 200, 0)}[mode]
    out = decode_resized(jpeg(Image.new(mode, (300, 400), colour)), (150, 200))
    assert out.mode == mode
    # An Adobe CMYK JPEG stores inverted values: they come back as Pillow reads them.
    centre = out.getpixel((75, 100))
    expected = colour if isinstance(colour, tuple) else (colour,)
    assert all(abs(a - b) <= 3 for a, b in zip(centre if isinstance(centre, tuple) else (centre,), expected))


def test_a_photo_smaller_than_the_box_is_enlarged():
    out = decode_resized(jpeg(Image.new("RGB", (140, 180), (10, 120, 200))), (280, 360))
    assert out.size == (280, 360) and all(abs(a - b) <= 3 for a, b in zip(out.getpixel((140, 180)), (10, 120, 200)))


def test_a_box_past_the_edges_is_kept_inside_the_image():
    data = jpeg(Image.new("RGB", (500, 600), "white"))
    assert decode_resized(data, (100, 120), 1, Box(450.4, 580.6, 200, 200)).size == (100, 120)


@pytest.mark.parametrize("data", [
    b"",
    b"not a jpeg at all",
    corpus.png_named_jpg(),
    corpus.truncated_jpeg(),
    corpus.header_only_jpeg(),
], ids=["empty", "text", "png", "truncated", "header-only"])
def test_undecodable_data_raises_decode_failed(data):
    with pytest.raises(DecodeFailed):
        decode_resized(data, (100, 120))


def test_libvips_keeps_no_operation_cache():
    decode_resized(jpeg(Image.new("RGB", (200, 240), "grey")), (100, 120))
    assert resampling._vips().cache_get_max() == 0
