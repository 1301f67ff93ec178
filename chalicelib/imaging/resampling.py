"""JPEG decoding at reduced scale and Lanczos resampling, with libvips.

Why libvips here while the rest of the imaging is Pillow: the photo pipeline's cost is the JPEG decode (the same
libjpeg-turbo work in both libraries) plus the resampling, and libvips' Lanczos is vectorised (about 3 ms for the
1000 x 1285 -> 413 x 531 step of a phone photo) where Pillow's is plain C (about 12 ms). libvips also decodes in
strips and stops at the crop's last row, so the decoded image is never in memory whole. Pillow keeps what it does
well: reading the headers before anything is decoded, colour management, the transpositions of the small result,
the JPEG encoder, and drawing the cards. Measured in ``make bench`` (``photo_vs_vips``); see docs/performance.md.

libvips is loaded at the first decode, not at import (about 10 ms: see ``_vips``). Only its JPEG loader is ever called (no format sniffing), and its loaders of untrusted formats are blocked anyway.
"""

from __future__ import annotations

import functools
import logging
from typing import NamedTuple

from PIL import Image

# libvips' bands for a JPEG -> Pillow's mode. A JPEG is grey, RGB (YCbCr) or CMYK/YCCK; nothing else decodes.
_MODES = {1: "L", 3: "RGB", 4: "CMYK"}
SHRINK_FACTORS = (8, 4, 2)  # what libjpeg's DCT scaling offers through libvips' ``shrink``


class DecodeFailed(Exception):
    """The JPEG's data cannot be decoded (truncated, corrupt beyond what libjpeg recovers from)."""


class Box(NamedTuple):
    """A rectangle in pixels of the decoded (reduced) image; may be fractional, it is rounded to whole pixels."""
    left: float
    top: float
    width: float
    height: float


@functools.lru_cache(maxsize=1)
def _vips():
    # cold start: pyvips 10 ms (libvips' shared libraries), paid at the first decode rather than at the image
    # function's start (bench/coldstart.py); an upload refused on its headers never pays it
    import pyvips

    # libvips' own chatter (masks, thread pools) reaches Python logging at INFO through pyvips: not for our logs.
    logging.getLogger("pyvips").setLevel(logging.WARNING)
    # Every photo is new: the operation cache would only keep the previous photo's pixels in memory.
    pyvips.cache_set_max(0)
    # Defence in depth: jpegload is called by name below, but no other loader of a risky format may run either.
    pyvips.block_untrusted_set(True)
    return pyvips


def decode_resized(jpeg: bytes, size: tuple[int, int], shrink: int = 1, box: Box | None = None) -> Image.Image:
    """``jpeg`` decoded at 1/``shrink`` (DCT scaling: 1, 2, 4 or 8), cut to ``box`` (in pixels of that reduced
    image; the whole image when None), resized to ``size`` with Lanczos 3: a Pillow image in the JPEG's own colour
    mode ("L", "RGB" or "CMYK"; an Adobe CMYK file's inverted values are put right), with no metadata.

    The box is rounded to whole pixels of the reduced image (at most half a pixel, i.e. a fifth of an output pixel
    for a phone photo) and kept inside it. Raises ``DecodeFailed`` for data that cannot be decoded.
    """
    pyvips = _vips()
    try:
        # Sequential: decoded strip by strip as the resize consumes it, and only down to the box's last row.
        return _cut_and_resize(_load(pyvips, jpeg, shrink, "sequential"), size, box)
    except pyvips.Error as error:
        raise DecodeFailed(str(error).strip()) from None


class Decoded(NamedTuple):
    """A whole JPEG decoded at 1/``shrink``, kept in memory to be read several times (the photo assistant's copy and
    the ID photo's crop come from one decode: ``imaging.photo.decode_photo``)."""
    pixels: bytes
    mode: str  # "L", "RGB" or "CMYK", as decode_resized gives
    size: tuple[int, int]
    shrink: int

    def image(self) -> Image.Image:
        """The pixels as a Pillow image, read in place (read-only: convert or copy it to draw on it)."""
        return Image.frombuffer(self.mode, self.size, self.pixels, "raw", self.mode, 0, 1)


def decode_whole(jpeg: bytes, shrink: int = 1) -> Decoded:
    """Every pixel of ``jpeg`` at 1/``shrink``, in memory. The same pixels as Pillow's ``draft`` at that scale
    (libjpeg-turbo's DCT scaling in both). Raises ``DecodeFailed`` for data that cannot be decoded."""
    pyvips = _vips()
    try:
        image = _load(pyvips, jpeg, shrink, "sequential")
        return Decoded(image.write_to_memory(), _mode(image), (image.width, image.height), shrink)
    except pyvips.Error as error:
        raise DecodeFailed(str(error).strip()) from None


def resize_decoded(decoded: Decoded, size: tuple[int, int], box: Box | None = None) -> Image.Image:
    """What ``decode_resized`` gives, from pixels already decoded (``box`` in their pixels): the same crop rounding
    and Lanczos 3, so the same pixels when ``decoded`` has the scale decode_resized would have decoded at."""
    pyvips = _vips()
    bands = {"L": 1, "RGB": 3, "CMYK": 4}[decoded.mode]
    try:
        image = pyvips.Image.new_from_memory(decoded.pixels, decoded.size[0], decoded.size[1], bands, "uchar")
        if decoded.mode == "CMYK":
            image = image.copy(interpretation="cmyk")
        return _cut_and_resize(image, size, box)
    except pyvips.Error as error:
        raise DecodeFailed(str(error).strip()) from None


def _load(pyvips, jpeg: bytes, shrink: int, access: str):
    # fail_on="truncated": a file cut short is refused, not completed with grey; recoverable corruption (libjpeg
    # warnings) is decoded as Pillow would.
    # From a source over the bytes, not jpegload_buffer: pyvips copies a buffer into a blob first (0.3 ms for a
    # phone photo, 1 % of the pipeline), a memory source reads the bytes where they are.
    source = pyvips.Source.new_from_memory(jpeg)
    return pyvips.Image.jpegload_source(source, shrink=shrink, access=access, fail_on="truncated")


def _mode(image) -> str:
    mode = _MODES.get(image.bands)
    if mode is None or image.format != "uchar":
        raise DecodeFailed(f"unexpected JPEG layout: {image.bands} bands of {image.format}")
    return mode


def _cut_and_resize(image, size: tuple[int, int], box: Box | None) -> Image.Image:
    if box is not None:
        left, top = min(round(box.left), image.width - 1), min(round(box.top), image.height - 1)
        width = max(1, min(round(box.width), image.width - left))
        height = max(1, min(round(box.height), image.height - top))
        image = image.crop(left, top, width, height)
    mode = _mode(image)
    if image.width >= size[0] and image.height >= size[1]:
        # Vertical pass first: on a sequential source it reads each decoded strip once, and the horizontal pass
        # then has the output's rows only (measured: 1 % of the photo pipeline faster than vips_resize).
        image = image.reducev(image.height / size[1], kernel="lanczos3")
        image = image.reduceh(image.width / size[0], kernel="lanczos3")
    else:  # enlarging (a card's photo smaller than its box): vips_resize also interpolates
        image = image.resize(size[0] / image.width, vscale=size[1] / image.height, kernel="lanczos3")
    if (image.width, image.height) != size:  # libvips rounds the reduced size; a mismatch would be our bug
        raise RuntimeError(f"resized to {image.width} x {image.height} instead of {size[0]} x {size[1]}")
    pixels = image.write_to_memory()
    return Image.frombuffer(mode, size, pixels, "raw", mode, 0, 1)
