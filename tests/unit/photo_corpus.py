"""Hostile and odd uploads for the photo pipeline, generated in memory (no binary fixture is committed).

Every builder returns the bytes of one file; the expensive ones are cached since several tests share them.
"""

from __future__ import annotations

import functools
import io
import random
import struct

from PIL import Image, ImageDraw, ImageCms, ExifTags

PHONE_SIZE = (4032, 3024)  # a 12 MP phone photo, landscape as stored by the sensor

# Colours of the asymmetric test pattern: any rotation or mirror moves them to other quadrants.
TOP = (220, 20, 20)  # top half: red
BOTTOM_LEFT = (20, 20, 220)  # bottom-left quarter: blue
BOTTOM_RIGHT = (20, 200, 20)  # bottom-right quarter: green


def jpeg_bytes(im: Image.Image, **save_options) -> bytes:
    out = io.BytesIO()
    options = {"quality": 90}
    options.update(save_options)
    im.save(out, format="JPEG", **options)
    return out.getvalue()


def encode(im: Image.Image, format: str, **save_options) -> bytes:
    out = io.BytesIO()
    im.save(out, format=format, **save_options)
    return out.getvalue()


# ----------------------------------------------------------------------------------------------------------------------
# Valid pictures
# ----------------------------------------------------------------------------------------------------------------------

def photo_like(size: tuple[int, int], seed: int = 7) -> Image.Image:
    """Gradients + sensor-like noise + a few soft shapes: compresses and decodes like a real photo, built in C."""
    width, height = size
    horizontal = Image.linear_gradient("L").rotate(90).resize(size)
    vertical = Image.linear_gradient("L").resize(size)
    radial = Image.radial_gradient("L").resize(size)
    base = Image.merge("RGB", (horizontal, vertical, radial))
    noise = Image.effect_noise(size, 48).convert("RGB")
    im = Image.blend(base, noise, 0.3)
    draw = ImageDraw.Draw(im)
    rng = random.Random(seed)
    for _ in range(12):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(min(size) // 20, min(size) // 5)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    # A light "face" in the middle, like an ID portrait.
    cx, cy = width // 2, height // 2
    draw.ellipse((cx - height // 6, cy - height // 4, cx + height // 6, cy + height // 4), fill=(235, 200, 170))
    return im


@functools.lru_cache(maxsize=None)
def phone_jpeg() -> bytes:
    """A 4032 x 3024 photo-like JPEG, quality 92, with camera EXIF (no orientation), a few MB like a phone's."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 12"
    return jpeg_bytes(photo_like(PHONE_SIZE), quality=92, exif=exif.tobytes())


@functools.lru_cache(maxsize=None)
def small_jpeg(size: tuple[int, int] = (700, 900), **save_options) -> bytes:
    return jpeg_bytes(photo_like(size), **save_options)


def pattern(size: tuple[int, int] = (700, 900)) -> Image.Image:
    """Upright asymmetric pattern: red top half, blue bottom-left, green bottom-right."""
    width, height = size
    im = Image.new("RGB", size, TOP)
    im.paste(BOTTOM_LEFT, (0, height // 2, width // 2, height))
    im.paste(BOTTOM_RIGHT, (width // 2, height // 2, width, height))
    return im


# The transposition that turns the upright pattern into what a camera stores with a given EXIF orientation,
# i.e. the inverse of ImageOps.exif_transpose's.
_STORE_AS = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def oriented_pattern_jpeg(orientation: int, size: tuple[int, int] = (700, 900)) -> bytes:
    """The upright ``pattern(size)``, stored sideways/mirrored with the EXIF orientation that makes it upright."""
    stored = pattern(size)
    if _STORE_AS[orientation] is not None:
        stored = stored.transpose(_STORE_AS[orientation])
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    return jpeg_bytes(stored, exif=exif.tobytes())


def cmyk_jpeg(size: tuple[int, int] = (700, 900)) -> bytes:
    """Pure cyan top half, pure magenta bottom half, as a print shop's CMYK JPEG (Adobe APP14)."""
    width, height = size
    im = Image.new("CMYK", size, (255, 0, 0, 0))
    im.paste((0, 255, 0, 0), (0, height // 2, width, height))
    return jpeg_bytes(im)


def grayscale_jpeg(size: tuple[int, int] = (700, 900)) -> bytes:
    return jpeg_bytes(photo_like(size).convert("L"))


def progressive_jpeg(size: tuple[int, int] = (1400, 1800)) -> bytes:
    return jpeg_bytes(pattern(size), progressive=True)


def srgb_icc_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _insert_after_soi(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    segment = struct.pack(">HH", marker, len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


def gps_jpeg(size: tuple[int, int] = (700, 900)) -> bytes:
    """A photo carrying everything that must never be stored: EXIF with GPS position, ICC, comment, XMP."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = 1
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 24.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 21.0, 7.0)
    data = jpeg_bytes(pattern(size), exif=exif.tobytes(), icc_profile=srgb_icc_profile(),
                      comment=b"Mairie de Saint-Martin, photo de M. Dupont")
    xmp = (b"http://ns.adobe.com/xap/1.0/\x00"
           b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="48,51.4N"/>'
           b"</rdf:RDF></x:xmpmeta>")
    return _insert_after_soi(data, 0xFFE1, xmp)


def mpo_jpeg(size: tuple[int, int] = (700, 900)) -> bytes:
    """A multi-picture JPEG (as some phones and cameras write): the first frame is the photo."""
    first, second = pattern(size), Image.new("RGB", size, "white")
    out = io.BytesIO()
    first.save(out, format="MPO", save_all=True, append_images=[second])
    return out.getvalue()


def bad_icc_jpeg(size: tuple[int, int] = (700, 900)) -> bytes:
    """An ICC profile that lcms cannot parse: the profile is ignored, the photo kept."""
    return jpeg_bytes(pattern(size), icc_profile=b"not an ICC profile" * 20)


def mismatched_icc_cmyk_jpeg(size: tuple[int, int] = (700, 900)) -> bytes:
    """A CMYK JPEG carrying an RGB (sRGB) profile: the profile does not fit the pixels and is ignored."""
    width, height = size
    im = Image.new("CMYK", size, (255, 0, 0, 0))
    im.paste((0, 255, 0, 0), (0, height // 2, width, height))
    return jpeg_bytes(im, icc_profile=srgb_icc_profile())


def broken_exif_jpeg(size: tuple[int, int] = (700, 900)) -> bytes:
    """A good picture whose EXIF block is garbage: the photo must still be usable."""
    return jpeg_bytes(pattern(size), exif=b"Exif\x00\x00MM\x00\x2a\xff\xff\xff\xf0garbage")


# ----------------------------------------------------------------------------------------------------------------------
# Files that must be refused
# ----------------------------------------------------------------------------------------------------------------------

def empty() -> bytes:
    return b""


def png_named_jpg() -> bytes:
    return encode(pattern((420, 540)), "PNG")


def gif_named_jpg() -> bytes:
    return encode(pattern((420, 540)), "GIF")


def tiff_named_jpg() -> bytes:
    return encode(pattern((420, 540)), "TIFF")


def webp_named_jpg() -> bytes:
    return encode(pattern((420, 540)), "WEBP")


def text_named_jpg() -> bytes:
    return "Ceci n'est pas une photo.\n".encode() * 10


def html_named_jpg() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def soi_only() -> bytes:
    return b"\xff\xd8\xff"


def truncated_jpeg() -> bytes:
    """The first half of a valid JPEG (an interrupted upload)."""
    data = small_jpeg()
    return data[: len(data) // 2]


def header_only_jpeg() -> bytes:
    """Headers intact, scan data cut right after the start-of-scan marker."""
    data = small_jpeg()
    return data[: data.index(b"\xff\xda") + 20]


def _sof_offset(data: bytes) -> int:
    """Offset of the baseline/progressive start-of-frame marker (SOF0 or SOF2)."""
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        index = data.find(marker)
        if index >= 0:
            return index
    raise ValueError("no SOF marker")


def with_declared_size(data: bytes, width: int, height: int) -> bytes:
    """Rewrite the SOF header so the JPEG *declares* ``width x height``; the scan data stays that of a small image.

    SOF layout: FF C0, length (2), precision (1), height (2), width (2), ...
    """
    offset = _sof_offset(data) + 5
    return data[:offset] + struct.pack(">HH", height, width) + data[offset + 4:]


def huge_declared_jpeg(width: int = 60000, height: int = 60000) -> bytes:
    return with_declared_size(small_jpeg((64, 64)), width, height)


def oversized_jpeg() -> bytes:
    """A valid JPEG padded with trailing bytes past the 10 MB cap: refused for its size alone."""
    data = small_jpeg()
    return data + b"\x00" * (10 * 1024 * 1024 + 1 - len(data))


def mutated_jpegs(count: int, seed: int = 1234) -> list[bytes]:
    """Seeded random corruptions of a small JPEG: flipped bytes (headers included), cuts, spliced garbage."""
    rng = random.Random(seed)
    original = small_jpeg((480, 620), progressive=False)
    header_end = original.index(b"\xff\xda") + 14
    results = []
    for index in range(count):
        data = bytearray(original)
        kind = index % 3
        if kind == 0:
            # Concentrate on headers, where parsers break.
            for _ in range(rng.randint(1, 6)):
                data[rng.randrange(header_end)] = rng.randrange(256)
        elif kind == 1:
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            cut = rng.randrange(2, len(data))
            data = data[:cut] + bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
        results.append(bytes(data))
    return results


def jpeg_markers(data: bytes) -> list[int]:
    """The markers of a JPEG's header segments, from SOI up to and including SOS (scan data is not parsed)."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    markers, offset = [], 2
    while True:
        marker, length = struct.unpack(">HH", data[offset:offset + 4])
        markers.append(marker)
        if marker == 0xFFDA:
            return markers
        offset += 2 + length


def full_crop(size: tuple[int, int]) -> dict:
    """The largest 35:45 crop centred in an upright image of ``size``."""
    width, height = size
    crop_height = min(height, width * 45 // 35)
    crop_width = crop_height * 35 // 45
    return {"x": (width - crop_width) // 2, "y": (height - crop_height) // 2, "width": crop_width,
            "height": crop_height}


@functools.lru_cache(maxsize=4)
def portrait_jpeg(size: tuple[int, int] = (700, 900)) -> bytes:
    """A real face (scikit-image's astronaut, cut out) framed as the ANTS norm asks for a crop of the whole picture:
    the photo assistant finds one face at the right size, so this photo can be ordered. Cached: the cut-out costs."""
    from tests.unit import assistant_set as aset

    width, height = size
    crop = full_crop(size)
    head = 0.75 * crop["height"]  # chin to crown: the middle of the 70-80 % band
    # Skull top 9 % below the photo's top, eyes 1.74 eye-distances below it (the assistant's own proportions).
    eyes_y = crop["y"] + 0.09 * crop["height"] + head * 1.74 / (1.74 + 1.715)
    sample = aset.Sample("portrait", canvas=size, background="plain:230,232,236",
                         heads=(aset.Placement("astronaut", head, (width / 2, eyes_y)),))
    return aset.jpeg(sample)
