"""Photo assistant: find the face in an uploaded ID photo, propose the 35:45 framing of the ANTS norm, and list what
is wrong with the photo as checks for the town-hall agent.

Face *detection* only (``imaging.faces``: dlib's HOG detector and its 5-point landmarks): the boxes, the eyes and the
verdicts are all that is computed; nothing describing who the person is. This module loads numpy and dlib, so it is
imported where a photo is analysed (``services/photos.py``), never at the image function's start nor by the API.
OpenCV is not used at run time (too large for the Lambda package): the few filters below are numpy versions of
OpenCV's (same kernels, same borders).

Public API (see ``docs/photo-assistant.md``):

- ``analyse(image, crop=None) -> Analysis``: ``image`` is an upright RGB PIL image at its original size; ``crop`` the
  agent's rectangle ``{"x", "y", "width", "height"}`` in its pixels, or None to evaluate the proposed one.
- ``analyse_jpeg(data, crop=None) -> Analysis``: the same from the uploaded bytes (EXIF orientation applied as
  ``imaging.photo`` does, reduced decode with ``Image.draft``); coordinates are those of the upright original, as for
  ``normalize_photo``.

The norm (ANTS, see docs/photo-assistant.md): 35 x 45 mm, face 32-36 mm from the bottom of the chin to the top of the
skull (hair excluded), i.e. 70-80 % of the height; plain light background; sharp; well exposed; 413 x 531 px at 300 dpi.

How the head is measured: neither the chin nor the top of the skull is located by the detector, so both are placed
from what it locates, along the face's axis (perpendicular to the eye line): the crown ``CROWN_ABOVE_EYES`` and the
chin ``CHIN_BELOW_EYES`` above and below the eye line, each a sum of so many eye distances and so many eye-to-nose
distances. The eye distance alone measures a turned head too small (it shrinks as the head turns, the head does not);
the eye-to-nose distance does not shrink, and grows when the head is bent forward. Constants fitted by least squares
on the real portraits of ``bench/faces/`` (``make faces``; the fit, its leave-one-out error and the residuals:
docs/photo-assistant.md).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from ..domain.photo_checks import ERROR, WARNING
from . import faces as detector
from .photo import DecodedPhoto, decode_photo

# --------------------------------------------------------------------------------------------------------------------
# The norm
# --------------------------------------------------------------------------------------------------------------------
OUTPUT_SIZE = (413, 531)  # 35 x 45 mm at 300 dpi; a smaller crop would be enlarged, i.e. printed under 300 dpi
ASPECT = 35 / 45
RATIO_MIN, RATIO_MAX = 0.70, 0.80  # chin-to-crown height / photo height (32-36 mm of 45 mm)

# --------------------------------------------------------------------------------------------------------------------
# Framing proposed (fractions of the crop's height)
# --------------------------------------------------------------------------------------------------------------------
TARGET_RATIO = (RATIO_MIN + RATIO_MAX) / 2  # 0.75, the middle of the band: the estimate's error is symmetric
TOP_MARGIN = 0.09  # from the top of the photo to the top of the skull: room for the hair, eyes at 46.5 % from the top

# --------------------------------------------------------------------------------------------------------------------
# Head geometry from the detection (fitted on the real portraits of bench/faces/, see docs/photo-assistant.md)
# --------------------------------------------------------------------------------------------------------------------
# (per eye distance, per eye-to-nose distance)
CROWN_ABOVE_EYES = (1.09, 0.662)  # eye line -> top of the skull
CHIN_BELOW_EYES = (1.343, 0.684)  # eye line -> bottom of the chin
HEAD_HALF_WIDTH = 0.6  # half-width of head + hair, in head heights (background band excludes it)
HAIR_ABOVE_CROWN = 0.15  # hair above the skull, in head heights (background band excludes it)
BAND_BOTTOM = 0.6  # the background band stops at this fraction of the head below the crown (nose): no shoulders

# --------------------------------------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------------------------------------
# Faces are searched in a reduced copy: its longest side is ANALYSIS_SIDE, or more in a large photo, so that the
# smallest head that could still fill RATIO_MIN of a 300 dpi crop is at least the detector's window there (dlib's box
# is about HEAD_PER_DETECTOR_BOX times smaller than the head: a smaller face could never make a card anyway).
ANALYSIS_SIDE = 640
HEAD_PER_DETECTOR_BOX = 1.25
DECODE_SIDE = 1600  # analyse_jpeg decodes at a reduced scale (Image.draft) down to this longest side at least
SEVERAL_FACES_MIN_SIZE = 0.5  # another face counts when its box is at least this fraction of the main face's
# ... and its detector score at least this: on the real set every face scored 0.16 or more (one behind dark
# sunglasses), while a badge on the astronaut's suit scored 0.01. (The main face has no minimum: a weak face is still
# better framed than "no face".)
SEVERAL_FACES_MIN_SCORE = 0.1

# --------------------------------------------------------------------------------------------------------------------
# Thresholds of the checks (chosen from precision/recall on the labelled set: docs/photo-assistant.md)
# --------------------------------------------------------------------------------------------------------------------
# Face size: the estimate has a typical error of +-5 % (person to person), so a ratio just outside 70-80 % is a
# warning (have a look), and only a ratio far outside is an error (the card maker would surely refuse it).
SIZE_WARNING_LOW, SIZE_WARNING_HIGH = 0.67, 0.83
SIZE_ERROR_LOW, SIZE_ERROR_HIGH = 0.60, 0.90
OFF_CENTRE_MAX = 0.07  # horizontal offset of the head from the middle, fraction of the crop's width
TOP_MARGIN_MIN, TOP_MARGIN_MAX = 0.0, 0.20  # skull top from the crop's top, fraction of its height
BOTTOM_MARGIN_MIN = 0.0  # chin from the crop's bottom, fraction of its height
TILT_MAX = 8.0  # degrees of the eye line
# Background band (half the output scale): texture = mean gradient (grey levels per pixel) after a 1 px Gaussian,
# catches grain, patterns, edges; spread = 95th - 5th percentile of the smoothed luminance, catches objects and
# blotches. A studio gradient or vignette has neither.
BACKGROUND_TEXTURE_MAX = 1.0
BACKGROUND_SPREAD_MAX = 30.0
BACKGROUND_LUMINANCE_MIN = 110.0  # mean grey level of the background band
# Sharpness of the face (see _face_measures): under the warning it looks soft, under the error it is plainly blurred.
SHARPNESS_WARNING = 2.2
SHARPNESS_ERROR = 1.0
# With no face found: the same measure on the whole crop (resampled to FACE_PATCH_WIDTH pixels across); under this the
# picture is plainly blurred, which is said instead of "no face" (the detector cannot find a face blurred that much).
PICTURE_SHARPNESS_ERROR = 1.0
PICTURE_COARSE_DETAIL = 2.0  # ... unless nothing in it has detail even at a quarter of that size (an empty gradient)
FACE_PATCH_WIDTH = 128  # the face box is resampled to this width before measuring sharpness and exposure
OVEREXPOSED_CLIPPED = 0.06  # fraction of the face's pixels at 250 or more (burnt out)
OVEREXPOSED_MEAN = 225.0  # mean luminance of the face
# Under-exposed when nothing in the picture is bright: neither the face's highlights (95th percentile) nor the
# background. Judging on the face alone would flag a dark-skinned person correctly lit in front of a light background.
UNDEREXPOSED_BRIGHTEST = 145.0


MESSAGES = {
    "no_face": "Aucun visage n'a été détecté dans le cadrage de la photo. La photo doit montrer le visage de "
               "l'élu(e), de face.",
    "several_faces": "Plusieurs visages ont été détectés : la photo ne doit montrer que l'élu(e). Recadrez-la sur "
                     "son seul visage ou choisissez une autre photo.",
    "face_too_small": "Le visage est trop petit dans le cadrage : du menton au sommet du crâne, il doit occuper de "
                      "70 à 80 % de la hauteur de la photo (32 à 36 mm). Resserrez le cadrage.",
    "face_too_large": "Le visage est trop grand dans le cadrage : du menton au sommet du crâne, il doit occuper de "
                      "70 à 80 % de la hauteur de la photo (32 à 36 mm). Élargissez le cadrage ou choisissez une "
                      "photo prise de plus loin.",
    "face_off_centre": "Le visage n'est pas centré dans le cadrage : la tête entière, du menton au sommet du "
                       "crâne, doit être visible et au milieu de la photo.",
    "face_tilted": "La tête semble penchée : elle doit être droite, les yeux à la même hauteur.",
    "background_not_plain": "Le fond ne semble pas uni : il doit être uni et de couleur claire (bleu clair ou gris "
                            "clair), sans motif ni objet.",
    "background_too_dark": "Le fond semble trop sombre : il doit être uni et de couleur claire (bleu clair ou gris "
                           "clair).",
    "blurred": "La photo semble floue : le visage doit être parfaitement net.",
    "overexposed": "La photo semble surexposée (trop claire) : les détails du visage doivent rester visibles.",
    "underexposed": "La photo semble sous-exposée (trop sombre) : le visage doit être bien éclairé.",
    "resolution_too_low": f"La définition de la photo est insuffisante : le cadrage doit mesurer au moins "
                          f"{OUTPUT_SIZE[0]} x {OUTPUT_SIZE[1]} pixels (300 dpi pour 35 x 45 mm). Utilisez une "
                          f"photo de meilleure qualité.",
}

CHECK_CODES = tuple(MESSAGES)


@dataclass(frozen=True)
class Check:
    code: str
    level: str  # "error" blocks ordering, "warning" informs
    message: str

    def as_dict(self) -> dict:
        return {"code": self.code, "level": self.level, "message": self.message}


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int


@dataclass
class Analysis:
    """What the assistant found. Coordinates are pixels of the upright original photo.

    - ``image_size``: (width, height) of the upright original;
    - ``faces``: the detected faces' boxes, largest first (only boxes: nothing that identifies anyone);
    - ``proposed_crop``: the 35:45 crop that frames the main face as the norm asks (or, with no face, the largest
      centred 35:45 crop), clipped to the image;
    - ``crop``: the crop the checks were evaluated on (the agent's, else the proposed one);
    - ``checks``: what is wrong, errors first;
    - ``measures``: the figures the checks were decided on (face ratio, offsets, tilt, sharpness, ...), for the logs
      and the docs; not meant to be stored with the official;
    - ``seconds``: time spent (decode excluded for ``analyse``, included for ``analyse_jpeg``).
    """
    image_size: tuple[int, int]
    faces: list[Box]
    proposed_crop: dict
    crop: dict
    checks: list[Check]
    measures: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def codes(self) -> set[str]:
        return {check.code for check in self.checks}

    def level_of(self, code: str) -> str | None:
        return next((check.level for check in self.checks if check.code == code), None)


# --------------------------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------------------------

def analyse(image: Image.Image, crop: dict | None = None) -> Analysis:
    """Analyse an upright photo at its original size; ``crop`` in its pixels, or None for the proposed framing."""
    start = time.perf_counter()
    if image.mode != "RGB":
        image = image.convert("RGB")
    analysis = _analyse(image, crop, 1.0, image.size)
    analysis.seconds = time.perf_counter() - start
    return analysis


def analyse_jpeg(data: bytes, crop: dict | None = None, decoded: DecodedPhoto | None = None) -> Analysis:
    """Analyse an uploaded JPEG (the bytes ``normalize_photo`` takes). ``crop`` in pixels of the upright original.

    ``decoded``: the upload already decoded by ``imaging.photo.decode_photo(data, DECODE_SIDE, ...)``, shared with
    the ID photo (the image function decodes an upload once); decoded here otherwise. Raises
    ``imaging.photo.PhotoRejected`` for a file ``normalize_photo`` would refuse before decoding (not a JPEG, too
    large, unreadable).
    """
    start = time.perf_counter()
    image, scale, size = _decode_upright(data, decoded)
    analysis = _analyse(image, crop, scale, size)
    analysis.seconds = time.perf_counter() - start
    return analysis


# --------------------------------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------------------------------

def _decode_upright(data: bytes, decoded: DecodedPhoto | None = None) -> tuple[Image.Image, float, tuple[int, int]]:
    """The photo upright, decoded at a reduced scale; the scale (original pixels per decoded pixel); original size.

    The file checks, the EXIF orientation and its transpositions are imaging.photo's own (``decode_photo``), so that
    the coordinates are exactly those in which normalize_photo reads a crop. libjpeg scales by 1/2, 1/4 or 1/8 while
    decoding, never below DECODE_SIDE on the longest side (the pixels Pillow's ``draft`` gave, byte for byte).
    """
    if decoded is None:
        decoded = decode_photo(data, DECODE_SIDE)  # size, JPEG by content, pixel cap: before any pixel is decoded
    upright = decoded.upright()
    size = decoded.size
    return upright, size[0] / upright.size[0], size


# --------------------------------------------------------------------------------------------------------------------
# The analysis
# --------------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Head:
    """The main face's geometry in analysed-image pixels: eye line, crown, chin, tilt."""
    frame: detector.FaceFrame
    tilt: float  # degrees, that of the eye line
    crown: tuple[float, float]
    chin: tuple[float, float]

    @property
    def height(self) -> float:
        return math.dist(self.crown, self.chin)

    @property
    def centre(self) -> tuple[float, float]:
        return (self.crown[0] + self.chin[0]) / 2, (self.crown[1] + self.chin[1]) / 2


def _analyse(image: Image.Image, crop: dict | None, scale: float, size: tuple[int, int]) -> Analysis:
    """``image``: upright RGB, ``scale`` original pixels per image pixel, ``size`` the original's (width, height)."""
    measures: dict = {}
    started = time.perf_counter()
    reduced, factor = _search_copy(image, scale)
    passes: list[str] = []
    detections = detector.detect(np.asarray(reduced), factor, passes)
    measures["detect_seconds"] = round(time.perf_counter() - started, 4)
    measures["search_passes"] = passes
    frames = [detection.frame for detection in detections]
    boxes = [_to_box(frame, scale) for frame in frames]

    used = _parse_crop(crop, scale) if crop is not None else None
    candidates = detections if used is None else [d for d in detections if _inside(d.frame.cx, d.frame.cy, used)]
    main = candidates[0] if candidates else None
    head = _head(main) if main is not None else None
    proposed = _crop_dict(_frame_head(head, image.size, scale) if head is not None else _largest_centred(image.size),
                          scale, size)
    evaluated = dict(crop) if crop is not None else dict(proposed)
    if used is None:
        used = _parse_crop(proposed, scale)

    checks: list[Check] = []
    if head is None:
        # A face blurred beyond recognition is not found (the detector reads edges): say what the agent can act on.
        fine, coarse = (_sharpness(_luminance(np.asarray(image.resize(
            (width, round(width / ASPECT)), Image.Resampling.BILINEAR, box=_box(used), reducing_gap=2.0))))
            for width in (FACE_PATCH_WIDTH, FACE_PATCH_WIDTH // 4))
        measures.update(picture_sharpness=round(fine, 2), picture_coarse_sharpness=round(coarse, 2))
        blurred = fine < PICTURE_SHARPNESS_ERROR and coarse >= PICTURE_COARSE_DETAIL
        checks.append(_check("blurred", ERROR) if blurred else _check("no_face", ERROR))
    else:
        # With the agent's crop, only the faces inside it count; with the proposed one, any face of the photo (we
        # cannot tell which one is the official's).
        others = [d for d in detections if d is not main and d.score >= SEVERAL_FACES_MIN_SCORE
                  and d.frame.size >= SEVERAL_FACES_MIN_SIZE * main.frame.size
                  and (crop is None or _inside(d.frame.cx, d.frame.cy, used))]
        if others:
            checks.append(_check("several_faces", ERROR))
        checks += _framing_checks(head, used, measures)
        checks += _quality_checks(image, head, used, measures)
    if evaluated["width"] < OUTPUT_SIZE[0] or evaluated["height"] < OUTPUT_SIZE[1]:
        checks.append(_check("resolution_too_low", ERROR))
    checks.sort(key=lambda check: (check.level != ERROR, CHECK_CODES.index(check.code)))
    return Analysis(image_size=size, faces=boxes, proposed_crop=proposed, crop=evaluated, checks=checks,
                    measures=measures)


def _check(code: str, level: str) -> Check:
    return Check(code, level, MESSAGES[code])


def search_side(original_longest: int) -> int:
    """Longest side of the copy faces are searched in, for a photo whose original longest side is given."""
    smallest_head = RATIO_MIN * OUTPUT_SIZE[1]  # original pixels
    return max(ANALYSIS_SIDE, math.ceil(original_longest * detector.WINDOW * HEAD_PER_DETECTOR_BOX / smallest_head))


def _search_copy(image: Image.Image, scale: float):
    """The copy of ``image`` faces are searched in (``search_side``), and the factor back to ``image``'s pixels."""
    longest = max(image.size)
    side = search_side(round(longest * scale))
    if longest <= side:
        return image, 1.0
    ratio = side / longest
    small = image.resize((max(1, round(image.width * ratio)), max(1, round(image.height * ratio))),
                         Image.Resampling.BILINEAR, reducing_gap=2.0)
    return small, image.width / small.width


def _to_box(frame, scale: float) -> Box:
    x, y, w, h = frame.box
    return Box(round(x * scale), round(y * scale), round(w * scale), round(h * scale))


def _inside(x: float, y: float, rect) -> bool:
    return rect[0] <= x <= rect[0] + rect[2] and rect[1] <= y <= rect[1] + rect[3]


def _parse_crop(crop: dict, scale: float) -> tuple[float, float, float, float]:
    try:
        values = [float(crop[key]) / scale for key in ("x", "y", "width", "height")]
    except (KeyError, TypeError, ValueError):
        raise ValueError("crop must have numeric x, y, width and height") from None
    if values[2] <= 0 or values[3] <= 0:
        raise ValueError("crop must have a positive width and height")
    return tuple(values)


def _crop_dict(rect, scale: float, size: tuple[int, int]) -> dict:
    """Integer crop in original pixels, inside the image, with the 35:45 aspect (well within normalize_photo's 2 %)."""
    width_limit, height_limit = size
    height = min(height_limit, max(1, round(rect[3] * scale)))
    width = min(width_limit, max(1, round(height * ASPECT)))
    if width == width_limit:
        height = min(height, max(1, round(width / ASPECT)))
    x = min(max(0, round(rect[0] * scale)), width_limit - width)
    y = min(max(0, round(rect[1] * scale)), height_limit - height)
    return {"x": x, "y": y, "width": width, "height": height}


def _head(detection: detector.Detection) -> _Head:
    eyes = detection.eyes
    measured = (eyes.distance, detection.nose_below_eyes)
    above = sum(weight * value for weight, value in zip(CROWN_ABOVE_EYES, measured))
    below = sum(weight * value for weight, value in zip(CHIN_BELOW_EYES, measured))
    (mx, my), (dx, dy) = eyes.middle, eyes.down
    return _Head(detection.frame, eyes.angle, (mx - dx * above, my - dy * above), (mx + dx * below, my + dy * below))


def _frame_head(head: _Head, size: tuple[int, int], scale: float) -> tuple[float, float, float, float]:
    """The 35:45 rectangle that puts the head at TARGET_RATIO of the height, centred, crown TOP_MARGIN below the top;
    reduced and shifted as little as possible to stay inside the image, and never below the 300 dpi size when the
    image allows it (the face is then smaller than the norm asks, which the checks say)."""
    width_limit, height_limit = size
    height = head.height / TARGET_RATIO
    minimum = OUTPUT_SIZE[1] / scale  # in the analysed image's pixels
    if height < minimum and height_limit * scale >= OUTPUT_SIZE[1] and width_limit * scale >= OUTPUT_SIZE[0]:
        height = minimum
    height = min(height, height_limit, width_limit / ASPECT)
    width = height * ASPECT
    cx, cy = head.centre
    x = cx - width / 2
    y = cy - (TOP_MARGIN + TARGET_RATIO / 2) * height
    x = min(max(0.0, x), width_limit - width)
    y = min(max(0.0, y), height_limit - height)
    return x, y, width, height


def _largest_centred(size: tuple[int, int]) -> tuple[float, float, float, float]:
    width_limit, height_limit = size
    height = min(height_limit, width_limit / ASPECT)
    width = height * ASPECT
    return (width_limit - width) / 2, (height_limit - height) / 2, width, height


def _framing_checks(head: _Head, rect, measures: dict) -> list[Check]:
    x, y, width, height = rect
    ratio = head.height / height
    offset = (head.centre[0] - (x + width / 2)) / width
    top = (head.crown[1] - y) / height
    bottom = (y + height - head.chin[1]) / height
    measures.update(face_ratio=round(ratio, 4), horizontal_offset=round(offset, 4), top_margin=round(top, 4),
                    bottom_margin=round(bottom, 4), tilt=round(head.tilt, 2))
    checks = []
    if ratio < SIZE_WARNING_LOW:
        checks.append(_check("face_too_small", ERROR if ratio < SIZE_ERROR_LOW else WARNING))
    elif ratio > SIZE_WARNING_HIGH:
        checks.append(_check("face_too_large", ERROR if ratio > SIZE_ERROR_HIGH else WARNING))
    if abs(offset) > OFF_CENTRE_MAX or not TOP_MARGIN_MIN <= top <= TOP_MARGIN_MAX or bottom < BOTTOM_MARGIN_MIN:
        checks.append(_check("face_off_centre", WARNING))
    if abs(head.tilt) > TILT_MAX:
        checks.append(_check("face_tilted", WARNING))
    return checks


def _quality_checks(image: Image.Image, head: _Head, rect, measures: dict) -> list[Check]:
    checks = []
    # Background: the crop at half the output scale, the band around the head above the chin.
    sharpness, luminance = _face_measures(image, head)
    band_luminance, band_texture, band_spread = _background(image, head, rect)
    # A plainly blurred photo spreads the hair's edge into the band: its background cannot be judged (and the photo
    # is refused for its blur anyway).
    if band_luminance is not None and sharpness >= SHARPNESS_ERROR:
        measures.update(background_luminance=round(band_luminance, 1), background_texture=round(band_texture, 2),
                        background_spread=round(band_spread, 1))
        if band_texture > BACKGROUND_TEXTURE_MAX or band_spread > BACKGROUND_SPREAD_MAX:
            checks.append(_check("background_not_plain", WARNING))
        if band_luminance < BACKGROUND_LUMINANCE_MIN:
            checks.append(_check("background_too_dark", WARNING))
    # Face: eyes, nose and mouth, in the face's frame, at a fixed scale.
    clipped = float((luminance >= 250).mean())
    brightest = float(np.percentile(luminance, 95))
    measures.update(sharpness=round(sharpness, 2), face_luminance=round(float(luminance.mean()), 1),
                    face_clipped=round(clipped, 4), face_p95=round(brightest, 1))
    if sharpness < SHARPNESS_WARNING:
        checks.append(_check("blurred", ERROR if sharpness < SHARPNESS_ERROR else WARNING))
    if clipped > OVEREXPOSED_CLIPPED or luminance.mean() > OVEREXPOSED_MEAN:
        checks.append(_check("overexposed", WARNING))
    elif measures.setdefault("brightest", round(max(brightest, band_luminance or 0.0), 1)) < UNDEREXPOSED_BRIGHTEST:
        checks.append(_check("underexposed", WARNING))
    return checks


def _face_measures(image: Image.Image, head: _Head):
    """Sharpness and luminance of the inner face (eyes, nose, mouth), on a patch taken in the face's frame in which
    the face box is FACE_PATCH_WIDTH pixels wide, so that neither depends on the photo's resolution.

    Sharpness: variance of the Laplacian of the lightly smoothed patch (Gaussian 0.6 px: sensor noise would otherwise
    pass for detail), divided by the variance of the patch itself (contrast: a dark photo is not a blurred one),
    times 100.
    """
    region = (-0.3, -0.25, 0.3, 0.35)
    patch = detector.face_patch(image, head.frame, region, round(FACE_PATCH_WIDTH * (region[2] - region[0])), mode="RGB")
    luminance = _luminance(patch)
    return _sharpness(luminance), luminance


def _luminance(rgb):
    rgb = rgb.astype(np.float32)
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def _sharpness(luminance) -> float:
    laplacian = _laplacian(_gaussian_blur(luminance, 0.6))
    return float(laplacian[2:-2, 2:-2].var()) / max(1.0, float(luminance.var())) * 100


def _box(rect) -> tuple[float, float, float, float]:
    x, y, width, height = rect
    return x, y, x + width, y + height


def _background(image: Image.Image, head: _Head, rect):
    """Mean luminance, texture (mean gradient, lightly smoothed) and clutter (spread of the smoothed luminance) of the
    background band of the crop: above the nose, outside the head (an ellipse around skull, hair and ears), at half
    the output scale. (None, None, None) when the band is too small to judge (a face filling the crop)."""
    x, y, width, height = rect
    out_w, out_h = OUTPUT_SIZE[0] // 2, OUTPUT_SIZE[1] // 2
    # The agent's crop was checked by normalize_photo; clamp anyway, so that a stray one cannot break the analysis.
    box = (max(0.0, x), max(0.0, y), min(float(image.width), x + width), min(float(image.height), y + height))
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        return None, None, None
    x, y, width, height = box[0], box[1], box[2] - box[0], box[3] - box[1]
    gray = np.asarray(image.resize((out_w, out_h), Image.Resampling.BILINEAR, box=box, reducing_gap=2.0)
                      .convert("L"), dtype=np.float32)
    k, kx = out_h / height, out_w / width  # band pixels per image pixel (equal for a 35:45 crop)
    hx, hy = (head.centre[0] - x) * kx, (head.centre[1] - y) * k
    head_h = head.height * k
    limit = (head.crown[1] - y) * k + BAND_BOTTOM * head_h
    rows, cols = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    rad = math.radians(head.tilt)
    dx, dy = cols - hx, rows - (hy - HAIR_ABOVE_CROWN * head_h / 2)
    u = dx * math.cos(rad) + dy * math.sin(rad)
    v = -dx * math.sin(rad) + dy * math.cos(rad)
    semi_x = HEAD_HALF_WIDTH * head_h
    semi_y = (1 + HAIR_ABOVE_CROWN) * head_h / 2 + 0.03 * head_h
    band = ((u / semi_x) ** 2 + (v / semi_y) ** 2 > 1) & (rows < limit)
    # Ignore the outermost pixel ring (resampling edge) of the crop.
    band[:1, :] = band[-1:, :] = False
    band[:, :1] = band[:, -1:] = False
    if band.sum() < 0.02 * out_w * out_h:
        return None, None, None
    smooth = _gaussian_blur(gray, 1.0)
    gx, gy = _sobel(smooth)
    gx, gy = gx / 8, gy / 8
    gradient = np.hypot(gx, gy)
    values = smooth[band]
    spread = float(np.percentile(values, 95) - np.percentile(values, 5))
    return float(gray[band].mean()), float(gradient[band].mean()), spread


# --------------------------------------------------------------------------------------------------------------------
# Filters (float32 images), as OpenCV's GaussianBlur, Laplacian and Sobel compute them: same kernels, borders mirrored
# without repeating the edge pixel (OpenCV's default BORDER_REFLECT_101, numpy's "reflect")
# --------------------------------------------------------------------------------------------------------------------

def _correlate(image, kernel_x, kernel_y):
    """Separable correlation of a 2-D float32 array with ``kernel_x`` along rows and ``kernel_y`` along columns."""
    half_x, half_y = len(kernel_x) // 2, len(kernel_y) // 2
    padded = np.pad(image, ((half_y, half_y), (half_x, half_x)), mode="reflect")
    height, width = image.shape
    columns = np.zeros((height, padded.shape[1]), np.float32)
    for i, weight in enumerate(kernel_y):
        if weight:
            columns += np.float32(weight) * padded[i: i + height]
    out = np.zeros((height, width), np.float32)
    for i, weight in enumerate(kernel_x):
        if weight:
            out += np.float32(weight) * columns[:, i: i + width]
    return out


def _gaussian_blur(image, sigma: float):
    """``cv2.GaussianBlur(image, (0, 0), sigma)`` for a float32 image: round(8 sigma + 1) taps, made odd."""
    size = int(np.rint(sigma * 8 + 1)) | 1
    x = np.arange(size) - (size - 1) / 2
    kernel = np.exp(-0.5 / (sigma * sigma) * x * x)
    kernel = (kernel / kernel.sum()).astype(np.float32)
    return _correlate(image, kernel, kernel)


def _laplacian(image):
    """``cv2.Laplacian(image, cv2.CV_32F, ksize=1)``: the 4 neighbours less 4 times the pixel."""
    padded = np.pad(image, 1, mode="reflect")
    return (padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]
            - np.float32(4) * image).astype(np.float32)


def _sobel(image):
    """``cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3)`` and ``(..., 0, 1, ksize=3)``: horizontal and vertical
    derivatives (kernel (-1, 0, 1) along the derivative, (1, 2, 1) across)."""
    derivative, smoothing = (-1.0, 0.0, 1.0), (1.0, 2.0, 1.0)
    return _correlate(image, derivative, smoothing), _correlate(image, smoothing, derivative)
