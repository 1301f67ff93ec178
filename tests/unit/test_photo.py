"""The ID photo pipeline against hostile and odd uploads (corpus generated in memory by photo_corpus)."""

import io

import pytest
from PIL import Image, ImageChops, ImageFile, ImageOps, ImageStat

from chalicelib.imaging import photo
from chalicelib.imaging.photo import OUTPUT_SIZE, PhotoRejected, normalize_photo
from tests.unit import photo_corpus as corpus

PATTERN_SIZE = (700, 900)


# ----------------------------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------------------------

def assert_clean_id_photo(data: bytes) -> Image.Image:
    """413 x 531 RGB baseline JPEG with no metadata at all; returns the decoded image."""
    im = Image.open(io.BytesIO(data), formats=["JPEG"])
    im.load()
    assert (im.format, im.size, im.mode) == ("JPEG", OUTPUT_SIZE, "RGB")
    for key in ("exif", "icc_profile", "comment", "xmp", "progressive", "progression", "adobe", "mp"):
        assert key not in im.info, key
    markers = corpus.jpeg_markers(data)
    assert 0xFFC0 in markers, "baseline SOF0 expected"
    assert not {0xFFC1, 0xFFC2} & set(markers), "progressive/extended SOF"
    assert 0xFFFE not in markers, "COM marker"
    app_markers = {m for m in markers if 0xFFE0 <= m <= 0xFFEF}
    assert app_markers <= {0xFFE0}, f"APPn markers besides JFIF: {sorted(hex(m) for m in app_markers)}"
    return im


def mean_colour(im: Image.Image, box) -> tuple[float, ...]:
    return tuple(ImageStat.Stat(im.crop(box)).mean)


def assert_colour(im: Image.Image, box, expected, tolerance=12):
    actual = mean_colour(im, box)
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected)), (box, actual, expected)


def assert_upright_pattern(im: Image.Image):
    """The asymmetric pattern, upright: red top half, blue bottom-left, green bottom-right (margins avoid seams)."""
    w, h = im.size
    assert_colour(im, (20, 20, w - 20, h // 2 - 20), corpus.TOP)
    assert_colour(im, (20, h // 2 + 20, w // 2 - 20, h - 20), corpus.BOTTOM_LEFT)
    assert_colour(im, (w // 2 + 20, h // 2 + 20, w - 20, h - 20), corpus.BOTTOM_RIGHT)


def reference(data: bytes, crop: dict) -> Image.Image:
    """The naive pipeline (full decode, exif_transpose, crop, LANCZOS) that normalize_photo must match."""
    im = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    box = (crop["x"], crop["y"], crop["x"] + crop["width"], crop["y"] + crop["height"])
    return im.resize(OUTPUT_SIZE, Image.Resampling.LANCZOS, box=box)


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return max(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean)


def rejection(data: bytes, crop: dict | None = None) -> PhotoRejected:
    with pytest.raises(PhotoRejected) as caught:
        normalize_photo(data, crop if crop is not None else corpus.full_crop(PATTERN_SIZE))
    return caught.value


# ----------------------------------------------------------------------------------------------------------------------
# Valid uploads
# ----------------------------------------------------------------------------------------------------------------------

def test_phone_photo_is_cropped_to_the_id_format_without_metadata():
    data = corpus.phone_jpeg()
    crop = {"x": 1000, "y": 0, "width": 2331, "height": 2997}  # 35:45 within 1 %, offset from the centre
    out = assert_clean_id_photo(normalize_photo(data, crop))
    # Decoded at 1/2 scale (draft): the result must still match a full decode of the same crop.
    assert mean_difference(out, reference(data, crop)) < 3


def test_draft_keeps_at_least_twice_the_output_resolution():
    big = corpus.jpeg_bytes(corpus.pattern((3500, 4500)))
    crop = corpus.full_crop((3500, 4500))
    factor = photo._shrink_factor(photo._parse_crop(crop))
    assert factor == 4
    assert crop["width"] / factor >= 2 * OUTPUT_SIZE[0] and crop["height"] / factor >= 2 * OUTPUT_SIZE[1]
    out = assert_clean_id_photo(normalize_photo(big, crop))
    assert mean_difference(out, reference(big, crop)) < 3


def test_small_crop_is_decoded_at_full_resolution():
    assert photo._shrink_factor(photo._parse_crop({"x": 0, "y": 0, "width": 1050, "height": 1350})) == 1


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_before_cropping(orientation):
    # The whole upright picture (700 x 900, not square) is a crop inside the image only if the orientation is applied.
    data = corpus.oriented_pattern_jpeg(orientation, PATTERN_SIZE)
    assert_upright_pattern(assert_clean_id_photo(normalize_photo(data, corpus.full_crop(PATTERN_SIZE))))


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_crop_coordinates_are_those_of_the_upright_image(orientation):
    # A crop of the bottom-right quadrant of the upright image must be all green, however the file is stored;
    # the image is large enough for the draft (1/2) path as well.
    size = (3500, 4500)
    data = corpus.oriented_pattern_jpeg(orientation, size)
    crop = {"x": 1750, "y": 2250, "width": 1750, "height": 2250}
    out = assert_clean_id_photo(normalize_photo(data, crop))
    assert_colour(out, (5, 5, OUTPUT_SIZE[0] - 5, OUTPUT_SIZE[1] - 5), corpus.BOTTOM_RIGHT)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("size", [(700, 900), (3500, 4500)], ids=["full-scale", "decoded-at-1/2"])
def test_an_off_centre_crop_matches_the_full_decode_in_every_orientation(orientation, size):
    # The crop is mapped to the stored image's pixels, cut and resampled there, and the result turned upright: the
    # pixels must be those of turning the whole image upright first, then cutting it (the naive reference).
    data = corpus.oriented_pattern_jpeg(orientation, size)
    width = size[0] * 2 // 3
    crop = {"x": size[0] // 9, "y": size[1] // 7, "width": width, "height": round(width * 45 / 35)}
    assert mean_difference(assert_clean_id_photo(normalize_photo(data, crop)), reference(data, crop)) < 3


def test_exif_orientation_6_comes_out_upright():
    data = corpus.oriented_pattern_jpeg(6, PATTERN_SIZE)
    stored = Image.open(io.BytesIO(data))
    assert stored.size == (900, 700)  # stored sideways, as a phone held upright does
    out = assert_clean_id_photo(normalize_photo(data, corpus.full_crop(PATTERN_SIZE)))
    assert_colour(out, (20, 20, OUTPUT_SIZE[0] - 20, 200), corpus.TOP)


def test_gps_exif_icc_comment_and_xmp_are_all_dropped():
    data = corpus.gps_jpeg(PATTERN_SIZE)
    source = Image.open(io.BytesIO(data))
    assert {"exif", "icc_profile", "comment", "xmp"} <= set(source.info)  # the corpus does carry them
    out_bytes = normalize_photo(data, corpus.full_crop(PATTERN_SIZE))
    assert_upright_pattern(assert_clean_id_photo(out_bytes))
    for leak in (b"Exif", b"GPS", b"PhoneMaker", b"Mairie", b"xmpmeta", b"ICC_PROFILE"):
        assert leak not in out_bytes, leak


@pytest.mark.parametrize("make", [corpus.cmyk_jpeg, corpus.mismatched_icc_cmyk_jpeg])
def test_cmyk_is_converted_to_rgb(make):
    out = assert_clean_id_photo(normalize_photo(make(PATTERN_SIZE), corpus.full_crop(PATTERN_SIZE)))
    assert_colour(out, (20, 20, 393, 240), (0, 255, 255), tolerance=20)  # cyan
    assert_colour(out, (20, 290, 393, 511), (255, 0, 255), tolerance=20)  # magenta


def test_grayscale_is_converted_to_rgb():
    out = assert_clean_id_photo(normalize_photo(corpus.grayscale_jpeg(PATTERN_SIZE), corpus.full_crop(PATTERN_SIZE)))
    r, g, b = out.split()
    assert max(ImageStat.Stat(ImageChops.difference(r, g)).mean + ImageStat.Stat(ImageChops.difference(g, b)).mean) < 2


def test_progressive_jpeg_is_accepted_and_stored_baseline():
    data = corpus.progressive_jpeg((1400, 1800))
    assert Image.open(io.BytesIO(data)).info.get("progressive")
    assert_upright_pattern(assert_clean_id_photo(normalize_photo(data, corpus.full_crop((1400, 1800)))))


def test_multi_picture_jpeg_uses_the_first_picture():
    out = normalize_photo(corpus.mpo_jpeg(PATTERN_SIZE), corpus.full_crop(PATTERN_SIZE))
    assert_upright_pattern(assert_clean_id_photo(out))


def test_srgb_profile_is_applied_and_dropped():
    data = corpus.gps_jpeg(PATTERN_SIZE)  # carries an sRGB profile: colours unchanged
    out = assert_clean_id_photo(normalize_photo(data, corpus.full_crop(PATTERN_SIZE)))
    assert mean_difference(out, reference(data, corpus.full_crop(PATTERN_SIZE))) < 3


def test_unreadable_icc_profile_is_ignored():
    data = corpus.bad_icc_jpeg(PATTERN_SIZE)
    assert_upright_pattern(assert_clean_id_photo(normalize_photo(data, corpus.full_crop(PATTERN_SIZE))))


def test_broken_exif_does_not_make_a_good_photo_unusable():
    data = corpus.broken_exif_jpeg(PATTERN_SIZE)
    assert_upright_pattern(assert_clean_id_photo(normalize_photo(data, corpus.full_crop(PATTERN_SIZE))))


@pytest.mark.parametrize("crop", [
    {"x": 0, "y": 0, "width": 413, "height": 531},  # exactly the output size
    {"x": 10, "y": 20, "width": 420, "height": 531},  # 1.7 % wider than 35:45: within tolerance
    {"x": 287, "y": 369, "width": 413, "height": 531},  # touching the bottom-right corner
])
def test_acceptable_crops(crop):
    assert_clean_id_photo(normalize_photo(corpus.small_jpeg(PATTERN_SIZE), crop))


# ----------------------------------------------------------------------------------------------------------------------
# Refusals
# ----------------------------------------------------------------------------------------------------------------------

# Files whose refusal needs the pixels: their headers are fine, only decoding them fails.
NEEDS_DECODING = {corpus.truncated_jpeg, corpus.header_only_jpeg}


@pytest.mark.parametrize("make, code", [
    (corpus.empty, "empty_file"),
    (corpus.oversized_jpeg, "too_large_file"),
    (corpus.png_named_jpg, "not_jpeg"),
    (corpus.gif_named_jpg, "not_jpeg"),
    (corpus.tiff_named_jpg, "not_jpeg"),
    (corpus.webp_named_jpg, "not_jpeg"),
    (corpus.text_named_jpg, "not_jpeg"),
    (corpus.html_named_jpg, "not_jpeg"),
    (corpus.soi_only, "unreadable"),
    (corpus.truncated_jpeg, "unreadable"),
    (corpus.header_only_jpeg, "unreadable"),
    (lambda: corpus.huge_declared_jpeg(60000, 60000), "too_many_pixels"),  # Pillow's DecompressionBombError
    (lambda: corpus.huge_declared_jpeg(10000, 10000), "too_many_pixels"),  # Pillow's DecompressionBombWarning
    (lambda: corpus.huge_declared_jpeg(8000, 7000), "too_many_pixels"),  # 56 MP: our own cap
    (lambda: corpus.huge_declared_jpeg(100, 0), "unreadable"),
], ids=lambda value: getattr(value, "__name__", value))
def test_bad_files_are_refused(make, code, monkeypatch):
    data = make()
    assert rejection(data).code == code
    if make in NEEDS_DECODING:
        return
    # The others are refused on their headers, before any pixel is decoded (by Pillow or by libvips).
    def no_decoding(*args, **kwargs):
        raise AssertionError("pixels decoded")
    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    monkeypatch.setattr(photo.resampling, "decode_resized", no_decoding)
    assert rejection(data).code == code


def test_pixel_cap_is_checked_before_decoding(monkeypatch):
    def no_decoding(self):
        raise AssertionError("pixels decoded")
    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    assert rejection(corpus.huge_declared_jpeg(8000, 7000)).code == "too_many_pixels"


def test_a_phone_photo_is_under_the_caps():
    assert 4032 * 3024 <= photo.MAX_PIXELS
    assert len(corpus.phone_jpeg()) <= photo.MAX_UPLOAD_BYTES


@pytest.mark.parametrize("crop, code", [
    ({"x": -1, "y": 0, "width": 413, "height": 531}, "crop_outside_image"),
    ({"x": 0, "y": -5, "width": 413, "height": 531}, "crop_outside_image"),
    ({"x": 288, "y": 0, "width": 413, "height": 531}, "crop_outside_image"),  # one pixel past the right edge
    ({"x": 0, "y": 370, "width": 413, "height": 531}, "crop_outside_image"),  # one pixel past the bottom
    ({"x": 0, "y": 0, "width": 7000, "height": 9000}, "crop_outside_image"),
    ({"x": 10 ** 30, "y": 0, "width": 413, "height": 531}, "crop_outside_image"),
    ({"x": 0, "y": 0, "width": 350, "height": 450}, "crop_too_small"),
    ({"x": 0, "y": 0, "width": 412, "height": 530}, "crop_too_small"),
    ({"x": 0, "y": 0, "width": 600, "height": 600}, "invalid_crop"),  # square
    ({"x": 0, "y": 0, "width": 700, "height": 540}, "invalid_crop"),  # landscape
    ({"x": 0, "y": 0, "width": 430, "height": 531}, "invalid_crop"),  # 4 % off 35:45
    ({"x": 0, "y": 0, "width": 0, "height": 531}, "invalid_crop"),
    ({"x": 0, "y": 0, "width": -413, "height": -531}, "invalid_crop"),
    ({"x": 0.0, "y": 0, "width": 413, "height": 531}, "invalid_crop"),
    ({"x": "0", "y": 0, "width": 413, "height": 531}, "invalid_crop"),
    ({"x": None, "y": 0, "width": 413, "height": 531}, "invalid_crop"),
    ({"x": True, "y": 0, "width": 413, "height": 531}, "invalid_crop"),
    ({"y": 0, "width": 413, "height": 531}, "invalid_crop"),
    ([0, 0, 413, 531], "invalid_crop"),
])
def test_bad_crops_are_refused(crop, code):
    assert rejection(corpus.small_jpeg(PATTERN_SIZE), crop).code == code


def test_crop_is_checked_against_the_upright_size():
    # Stored 900 x 700, displayed 700 x 900: a crop 900 px tall fits only once the orientation is applied,
    # and one 800 px wide only before.
    data = corpus.oriented_pattern_jpeg(6, PATTERN_SIZE)
    assert_clean_id_photo(normalize_photo(data, {"x": 0, "y": 0, "width": 700, "height": 900}))
    assert rejection(data, {"x": 0, "y": 0, "width": 800, "height": 1028}).code == "crop_outside_image"


def test_corrupted_jpegs_are_refused_or_normalised_never_crash():
    outcomes = set()
    for data in corpus.mutated_jpegs(240):
        try:
            assert_clean_id_photo(normalize_photo(data, corpus.full_crop((480, 620))))
            outcomes.add("ok")
        except PhotoRejected as rejected:
            assert rejected.code in {"unreadable", "not_jpeg", "too_many_pixels", "crop_outside_image",
                                     "image_too_small"}  # a corrupted header can shrink the dimensions
            outcomes.add(rejected.code)
    assert {"ok", "unreadable"} <= outcomes


def test_truncated_files_are_refused_at_every_length():
    data = corpus.small_jpeg((480, 620))
    for cut in range(0, len(data) - 2, max(1, len(data) // 97)):
        with pytest.raises(PhotoRejected):
            normalize_photo(data[:cut], corpus.full_crop((480, 620)))


def test_truncated_images_are_not_loaded_leniently():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_every_rejection_has_a_french_message():
    for code, message in photo._MESSAGES.items():
        rejected = PhotoRejected(code)
        assert rejected.code == code and rejected.message == message
        assert message[0].isupper() and message.endswith(".")
    assert PhotoRejected("not_jpeg").message == "Le fichier n'est pas une image JPEG."


# --- one decode shared by the photo assistant and the ID photo (photo.decode_photo) --------------------------------

def draft_decode_upright(data: bytes, min_side: int) -> Image.Image:
    """What the photo assistant decoded before the shared decode: Pillow's draft, then EXIF orientation."""
    im = Image.open(io.BytesIO(data))
    longest = max(im.size)
    if longest > min_side:
        im.draft("RGB", tuple(max(1, side * min_side // longest) for side in im.size))
    return ImageOps.exif_transpose(im).convert("RGB")


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
@pytest.mark.parametrize("size", [(700, 900), (3500, 4500), (3199, 2400)], ids=["full-scale", "1/2", "edge"])
def test_the_shared_decode_gives_the_assistant_the_pixels_of_a_draft_decode(orientation, size):
    data = corpus.oriented_pattern_jpeg(orientation, size)
    decoded = photo.decode_photo(data, 1600)
    expected = draft_decode_upright(data, 1600)
    assert decoded.size == size  # the upright size, in which crops are drawn
    assert decoded.upright().size == expected.size
    assert ImageChops.difference(decoded.upright(), expected).getbbox() is None


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("size", [(700, 900), (3500, 4500)], ids=["full-scale", "1/2"])
def test_the_id_photo_cut_from_the_shared_decode_is_normalize_photos_own(orientation, size):
    data = corpus.oriented_pattern_jpeg(orientation, size)
    width = size[0] * 2 // 3
    crop = {"x": size[0] // 9, "y": size[1] // 7, "width": width, "height": round(width * 45 / 35)}
    decoded = photo.decode_photo(data, 1600, crop)
    assert decoded.normalized(crop) == normalize_photo(data, crop)


def test_a_crop_finer_than_the_shared_decode_is_decoded_again_and_bad_crops_are_refused_alike():
    data = corpus.jpeg_bytes(corpus.pattern((3500, 4500)))
    decoded = photo.decode_photo(data, 400)  # no crop known: decoded at 1/8 for the assistant
    small = {"x": 100, "y": 100, "width": 1050, "height": 1350}  # needs every pixel (factor 1)
    assert decoded.normalized(small) == normalize_photo(data, small)
    for crop, code in (({"x": 0, "y": 0, "width": 100, "height": 300}, "invalid_crop"),
                       ({"x": 3000, "y": 0, "width": 1050, "height": 1350}, "crop_outside_image"),
                       ({"x": 0, "y": 0, "width": "a", "height": 1}, "invalid_crop")):
        with pytest.raises(PhotoRejected) as refused:
            decoded.normalized(crop)
        assert refused.value.code == code == rejection(data, crop).code


@pytest.mark.parametrize("make", [corpus.cmyk_jpeg, corpus.grayscale_jpeg])
def test_the_shared_decode_of_cmyk_and_grey_photos(make):
    data = make(PATTERN_SIZE)
    decoded = photo.decode_photo(data, 1600, corpus.full_crop(PATTERN_SIZE))
    assert decoded.upright().mode == "RGB"
    assert decoded.normalized(corpus.full_crop(PATTERN_SIZE)) == normalize_photo(data, corpus.full_crop(PATTERN_SIZE))


@pytest.mark.parametrize("make,code", [(corpus.png_named_jpg, "not_jpeg"), (corpus.truncated_jpeg, "unreadable"),
                                       (corpus.empty, "empty_file")])
def test_the_shared_decode_refuses_what_normalize_photo_refuses(make, code):
    with pytest.raises(PhotoRejected) as refused:
        photo.decode_photo(make(), 1600)
    assert refused.value.code == code
