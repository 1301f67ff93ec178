"""Normalisation of the ID photo uploaded by a town hall.

Bytes in, bytes out: no AWS, no file system. Uploads are hostile (anything can be sent with a ``.jpg`` name, and the S3
presigned-POST conditions are not enforced by the local emulator), so every check is made here again, cheapest first:

1. size of the upload (empty, over ``MAX_UPLOAD_BYTES``);
2. JPEG by content, pixel count from the header, *before* any pixel is decoded;
3. crop rectangle: integers, positive, inside the image as the agent saw it (EXIF orientation applied), aspect 35:45,
   no upscaling;
4. decode at reduced scale (DCT scaling), crop and resize to 413 x 531 with Lanczos 3 (libvips, ``resampling``),
   orient, convert to sRGB;
5. re-encode a brand-new image: baseline JPEG, quality 90, no metadata at all (no EXIF/GPS, ICC, XMP, comment).

Crop and aspect ratio — the decision: the browser crop tool is locked to 35:45, so a crop whose aspect is more than
``ASPECT_TOLERANCE`` (2 %) away from 35:45 is refused (``invalid_crop``) rather than silently stretched, padded or
enlarged; a crop within the tolerance is resized exactly to ``OUTPUT_SIZE`` (a distortion of at most 2 %, invisible).

Every refusal is a ``PhotoRejected`` with a stable ``code`` and a French ``message`` for the town-hall agent.
"""

from __future__ import annotations

import functools
import io
import struct
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

from ..domain import file_types
from . import resampling

if TYPE_CHECKING:
    from PIL import ImageCms

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# 50 megapixels: a 12 MP phone photo (4032 x 3024) passes, and so do 24/48 MP modes; a fully decoded 50 MP image is
# about 150 MB of RAM (RGB), which bounds the memory a single upload can cost.
MAX_PIXELS = 50_000_000
OUTPUT_SIZE = (413, 531)  # 35 x 45 mm at 300 dpi (ANTS norm)
OUTPUT_DPI = (300, 300)
JPEG_QUALITY = 90
ASPECT_TOLERANCE = 0.02  # the crop's width/height may differ from 35/45 by at most 2 %

_TARGET_ASPECT = OUTPUT_SIZE[0] / OUTPUT_SIZE[1]
# Decode at no less than twice the output scale: LANCZOS then has real pixels to average (no visible loss), while
# decoding at 1/2, 1/4 or 1/8 of the full size saves most of the decode time of a phone photo.
_DECODE_OVERSAMPLING = 2
_EXIF_ORIENTATION = 0x0112

# Exceptions that Pillow raises on corrupt or truncated data. Anything in this list, raised while reading a file,
# means "we cannot read this file", never a bug of ours.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError, TypeError,
                  ZeroDivisionError)

_MESSAGES = {
    "empty_file": "Le fichier est vide.",
    "too_large_file": f"Le fichier dépasse la taille maximale de {MAX_UPLOAD_BYTES // (1024 * 1024)} Mo.",
    "not_jpeg": "Le fichier n'est pas une image JPEG.",
    "too_many_pixels": (f"L'image est trop grande (plus de {MAX_PIXELS // 1_000_000} millions de pixels) : "
                        "réduisez sa définition."),
    "unreadable": "L'image est illisible : le fichier est incomplet ou endommagé.",
    "invalid_crop": "Le cadrage de la photo est invalide.",
    "crop_outside_image": "Le cadrage dépasse les bords de la photo.",
    "crop_too_small": ("Le cadrage est trop petit : la zone choisie doit mesurer au moins "
                       f"{OUTPUT_SIZE[0]} x {OUTPUT_SIZE[1]} pixels. Utilisez une photo de meilleure définition."),
}


class PhotoRejected(Exception):
    """An uploaded photo (or its crop) that cannot be accepted.

    ``code``: stable snake_case for programs; ``message``: a French sentence for the town-hall agent.
    """

    def __init__(self, code: str, message: str | None = None):
        self.code = code
        self.message = message or _MESSAGES[code]
        super().__init__(f"{code}: {self.message}")


@dataclass(frozen=True)
class _Crop:
    x: int
    y: int
    width: int
    height: int

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.x + self.width, self.y + self.height


# --------------------------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------------------------

def normalize_photo(data: bytes, crop: dict) -> bytes:
    """Crop the uploaded JPEG to ``crop`` and return the 413 x 531 ID photo: baseline JPEG, sRGB, no metadata.

    ``crop`` is ``{"x", "y", "width", "height"}`` in pixels of the original image *after* EXIF orientation. Raises
    ``PhotoRejected`` for anything wrong with the file or the crop; no other exception escapes for bad input
    (``TypeError`` only if ``data`` is not bytes at all: a programming error, not an upload).
    """
    im = _open_jpeg(data)
    rect = _parse_crop(crop)
    orientation = _orientation(im)
    _check_crop(rect, _oriented_size(im.size, orientation))
    return _encode(_crop_and_resize(data, im, orientation, rect))


def decode_photo(data: bytes, min_side: int, crop: dict | None = None) -> DecodedPhoto:
    """The upload decoded once, for the photo assistant (``upright``) and the ID photo (``normalized``): an upload
    used to be decoded twice, by each of them (about 33 ms of a phone photo each, issue 20).

    Decoded at the largest DCT reduction that keeps the longest side at least ``min_side`` (the assistant's need) and,
    when the agent's crop is known and valid, the ID photo's (``_shrink_factor``): whichever asks more pixels. The
    header checks of ``normalize_photo`` come first, before any pixel is decoded; ``PhotoRejected`` as it raises.
    """
    im = _open_jpeg(data)
    orientation = _orientation(im)
    factor = _least_reduction(im.size, min_side)
    if crop is not None:
        try:
            factor = min(factor, _shrink_factor(_parse_crop(crop)))
        except PhotoRejected:
            pass  # a bad crop is refused by ``normalized``, with its own message
    try:
        decoded = resampling.decode_whole(bytes(data), factor)
    except resampling.DecodeFailed:
        raise PhotoRejected("unreadable") from None
    return DecodedPhoto(data, im, orientation, decoded)


class DecodedPhoto:
    """An upload whose headers passed the checks, decoded once at a reduced scale (``decode_photo``)."""

    def __init__(self, data: bytes, im: Image.Image, orientation: int, decoded: resampling.Decoded):
        self._data, self._im, self._orientation, self._decoded = data, im, orientation, decoded

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the original, upright (EXIF orientation applied): the crops' coordinates."""
        return _oriented_size(self._im.size, self._orientation)

    def upright(self) -> Image.Image:
        """The decoded pixels upright, in RGB (a CMYK or grey JPEG converted plainly, its profile ignored): the
        photo assistant's copy, in which one pixel is ``size[0] / upright().width`` pixels of the original."""
        image = self._decoded.image()
        if self._orientation in _TRANSPOSE:
            image = image.transpose(_TRANSPOSE[self._orientation])
        return image if image.mode == "RGB" else image.convert("RGB")

    def normalized(self, crop: dict) -> bytes:
        """``normalize_photo(data, crop)``, from the pixels already decoded: the same checks, and the same pixels when
        the decode's scale is the one normalize_photo picks for this crop (more pixels to average when it is finer).
        A crop that needs a finer scale than the decode's (a small crop the decode was not chosen for) decodes
        again."""
        rect = _parse_crop(crop)
        _check_crop(rect, self.size)
        shrink = self._decoded.shrink
        if _shrink_factor(rect) < shrink:
            return normalize_photo(self._data, crop)
        stored = _stored_rect(rect, self._orientation, self._im.size)
        box = resampling.Box(stored.x / shrink, stored.y / shrink, stored.width / shrink, stored.height / shrink)
        try:
            resized = resampling.resize_decoded(self._decoded, _stored_output_size(self._orientation), box)
        except resampling.DecodeFailed:
            raise PhotoRejected("unreadable") from None
        return _encode(_upright_srgb(resized, self._im, self._orientation))


# --------------------------------------------------------------------------------------------------------------------
# Checks before decoding
# --------------------------------------------------------------------------------------------------------------------

def _check_upload_size(data: bytes) -> None:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("photo data must be bytes")
    if len(data) == 0:
        raise PhotoRejected("empty_file")
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoRejected("too_large_file")


def _open_jpeg(data: bytes) -> Image.Image:
    """Open ``data`` as a JPEG and check its size and declared dimensions. Reads headers only: no pixel is decoded."""
    _check_upload_size(data)
    try:
        # Pillow warns (DecompressionBombWarning) past 89 MP and raises past twice that; both are refusals here,
        # and the warning must not be a mere log line. Our own MAX_PIXELS (below) is stricter anyway.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "Corrupt EXIF data" while reading the dpi: EXIF is dropped anyway
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # formats=["JPEG"]: identify by content only, so a PNG/GIF/TIFF/text named .jpg is refused.
            im = Image.open(io.BytesIO(bytes(data)), formats=["JPEG"])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRejected("too_many_pixels") from None
    except UnidentifiedImageError:
        # Pillow also says "cannot identify" when a JPEG's own headers are corrupt: tell the two cases apart.
        raise PhotoRejected("unreadable" if file_types.is_jpeg(bytes(data[:3])) else "not_jpeg") from None
    except _DECODE_ERRORS:
        raise PhotoRejected("unreadable") from None
    # "MPO" is what Pillow calls a JPEG carrying extra frames (many phones and cameras): the first frame is the photo.
    if im.format not in ("JPEG", "MPO"):
        raise PhotoRejected("not_jpeg")
    width, height = im.size
    if width <= 0 or height <= 0:
        raise PhotoRejected("unreadable")
    if width * height > MAX_PIXELS:
        raise PhotoRejected("too_many_pixels")
    return im


def _orientation(im: Image.Image) -> int:
    """EXIF orientation (1..8) as ``ImageOps.exif_transpose`` reads it; 1 when absent, invalid or unparsable.

    A broken EXIF block must not make a good photo unusable: the pixels are what we keep, the EXIF is dropped anyway.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Corrupt EXIF data": expected from uploads, and handled right here
            value = im.getexif().get(_EXIF_ORIENTATION, 1)
    except _DECODE_ERRORS:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _oriented_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    # Orientations 5..8 swap width and height (transpose, rotate 90/270, transverse).
    width, height = size
    return (height, width) if orientation >= 5 else (width, height)


def _parse_crop(crop: dict) -> _Crop:
    if not isinstance(crop, dict):
        raise PhotoRejected("invalid_crop")
    values = []
    for key in ("x", "y", "width", "height"):
        value = crop.get(key)
        # bool is an int in Python; True/False as a coordinate is a client bug, not a pixel.
        if not isinstance(value, int) or isinstance(value, bool):
            raise PhotoRejected("invalid_crop",
                                "Le cadrage de la photo est invalide (coordonnées entières attendues).")
        values.append(value)
    rect = _Crop(*values)
    if rect.width <= 0 or rect.height <= 0:
        raise PhotoRejected("invalid_crop",
                            "Le cadrage de la photo est invalide (largeur et hauteur positives attendues).")
    return rect


def too_small_message(width: int, height: int) -> str:
    """The whole photo is smaller than the ID photo: said before any crop (the site says the same before sending)."""
    return (f"La photo est trop petite ({width} x {height} pixels) : elle doit mesurer au moins {OUTPUT_SIZE[0]} x "
            f"{OUTPUT_SIZE[1]} pixels. Utilisez une photo de meilleure définition.")


def _check_crop(rect: _Crop, image_size: tuple[int, int]) -> None:
    width, height = image_size
    if width < OUTPUT_SIZE[0] or height < OUTPUT_SIZE[1]:
        raise PhotoRejected("image_too_small", too_small_message(width, height))
    if rect.x < 0 or rect.y < 0 or rect.x + rect.width > width or rect.y + rect.height > height:
        raise PhotoRejected("crop_outside_image")
    if abs((rect.width / rect.height) / _TARGET_ASPECT - 1) > ASPECT_TOLERANCE:
        raise PhotoRejected(
            "invalid_crop", "Le cadrage doit respecter le format de la photo d'identité (35 x 45 mm, portrait).")
    # No upscaling: an enlarged photo would be blurred at print.
    if rect.width < OUTPUT_SIZE[0] or rect.height < OUTPUT_SIZE[1]:
        raise PhotoRejected("crop_too_small")


# --------------------------------------------------------------------------------------------------------------------
# Decoding and resampling
# --------------------------------------------------------------------------------------------------------------------

def _shrink_factor(rect: _Crop) -> int:
    """The JPEG decode's reduction in the DCT domain (1, 2, 4 or 8): the largest that keeps the crop at least twice
    the output size.

    libjpeg then skips most of the work (a 12 MP phone photo decodes in about 2/3 of the time at 1/2, and the
    resampling has 4 x fewer pixels to filter), with no visible loss since Lanczos still downsamples by 2 x or more.
    """
    room = min(rect.width / (_DECODE_OVERSAMPLING * OUTPUT_SIZE[0]),
               rect.height / (_DECODE_OVERSAMPLING * OUTPUT_SIZE[1]))
    return next((factor for factor in resampling.SHRINK_FACTORS if factor <= room), 1)


# ImageOps.exif_transpose's table: EXIF orientation -> the transposition that makes the image upright.
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _stored_rect(rect: _Crop, orientation: int, stored_size: tuple[int, int]) -> _Crop:
    """The crop, drawn on the upright image, in the pixels of the image as stored (before ``_TRANSPOSE``)."""
    width, height = stored_size
    x, y, w, h = rect.x, rect.y, rect.width, rect.height
    return {
        1: _Crop(x, y, w, h),
        2: _Crop(width - x - w, y, w, h),
        3: _Crop(width - x - w, height - y - h, w, h),
        4: _Crop(x, height - y - h, w, h),
        5: _Crop(y, x, h, w),
        6: _Crop(y, height - x - w, h, w),
        7: _Crop(width - y - h, height - x - w, h, w),
        8: _Crop(width - y - h, x, h, w),
    }[orientation]


def _least_reduction(size: tuple[int, int], min_side: int) -> int:
    """The largest DCT reduction whose decode keeps the longest side at least ``min_side`` (as Pillow's ``draft``
    picks it for a size asked of ``min_side`` on the longest side); 1 for a smaller image."""
    longest = max(size)
    if longest <= min_side:
        return 1
    asked = [max(1, side * min_side // longest) for side in size]
    room = min(side // wanted for side, wanted in zip(size, asked))
    return next((factor for factor in resampling.SHRINK_FACTORS if factor <= room), 1)


def _stored_output_size(orientation: int) -> tuple[int, int]:
    return OUTPUT_SIZE[::-1] if orientation >= 5 else OUTPUT_SIZE  # 5..8 are stored sideways


def _crop_and_resize(data: bytes, im: Image.Image, orientation: int, rect: _Crop) -> Image.Image:
    """Upright, cropped, 413 x 531, RGB in sRGB.

    libvips decodes, crops and resamples the image as stored (see ``resampling``); the 413 x 531 result is then
    turned upright, which costs nothing at that size.
    """
    factor = _shrink_factor(rect)
    stored = _stored_rect(rect, orientation, im.size)
    box = resampling.Box(stored.x / factor, stored.y / factor, stored.width / factor, stored.height / factor)
    try:
        resized = resampling.decode_resized(bytes(data), _stored_output_size(orientation), factor, box)
    except resampling.DecodeFailed:
        raise PhotoRejected("unreadable") from None
    return _upright_srgb(resized, im, orientation)


def _upright_srgb(resized: Image.Image, im: Image.Image, orientation: int) -> Image.Image:
    if orientation in _TRANSPOSE:
        resized = resized.transpose(_TRANSPOSE[orientation])
    # The ICC profile is read with the headers (Pillow's open), not from the pixels.
    return _to_srgb(resized, im.info.get("icc_profile"))


def _to_srgb(im: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """RGB pixels in sRGB: CMYK and grayscale are converted; an embedded profile (e.g. Display P3 from phones,
    a press profile for CMYK) is honoured, since the output carries no profile and is read as sRGB.

    A profile that is broken or does not match the pixels is ignored: the plain conversion is close enough and the
    photo stays usable.
    """
    if icc_profile:
        # cold start: LittleCMS (PIL.ImageCms) 2 ms over Pillow, only the photos that carry a profile need it
        from PIL import ImageCms

        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(im, source, _srgb_profile(), outputMode="RGB")
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, *_DECODE_ERRORS):
            pass
    return im if im.mode == "RGB" else im.convert("RGB")


@functools.lru_cache(maxsize=1)
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    # cold start: LittleCMS 2 ms, imported by _to_srgb already; the profile is built at the first photo that carries
    # one (most carry none), not at import
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


# --------------------------------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------------------------------

def _encode(im: Image.Image) -> bytes:
    """Baseline JPEG with nothing but pixels.

    The pixels never were in the upload's Pillow image: libvips decoded them into raw memory (``resampling``), read
    here as a brand-new image. ``info`` is emptied all the same, so that nothing a conversion might have put there
    (EXIF with GPS, ICC, XMP, comment — Pillow re-writes ``info["comment"]`` by default) can reach the encoder. The
    only marker besides the image data is JFIF APP0 with the 300 dpi print density.
    """
    im.info = {}
    out = io.BytesIO()
    # Chroma not subsampled (4:4:4): the image is small and printed; colour edges of a face stay sharp.
    # No optimize=True: Pillow then encodes into a single buffer of width x height bytes and fails ("Suspension not
    # allowed here") on a noisy picture that compresses worse than 1 byte per pixel, as the fuzz tests found.
    im.save(out, format="JPEG", quality=JPEG_QUALITY, subsampling=0, progressive=False, dpi=OUTPUT_DPI)
    return out.getvalue()
