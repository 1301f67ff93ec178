"""Face *detection* (never recognition) with OpenCV's Haar cascades, evaluated with numpy (``imaging.cascade``).

Only where faces and eyes are is computed: boxes, an eye line, an angle. Nothing describing *who* the person is (no
template, no embedding, no matching) is computed, kept or returned.

The cascades are OpenCV 4.x's own files, shipped in ``imaging/cascades/``; ``imaging.cascade`` evaluates them exactly
as ``cv2.CascadeClassifier.detectMultiScale`` does, and reproduces the few other OpenCV operations used here
(histogram equalisation, area shrink, rotation), bit for bit: OpenCV itself is not needed at run time (too large for
the Lambda package, docs/photo-assistant.md). This module is only reached through ``imaging.assistant``, itself imported
where a photo is analysed: numpy's import is paid there, not at the image function's start. The cascades are read once
per process, at their first use.

Coordinates: every function works on numpy arrays or PIL images given by the caller and returns coordinates in the
pixels of what it was given; ``imaging.assistant`` maps them back to the original photo.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from . import cascade

# Detection on the reduced copy -----------------------------------------------------------------------------------
SCALE_FACTOR = 1.1  # image pyramid step of detectMultiScale
MIN_NEIGHBOURS = 5  # overlapping raw detections needed to accept a face: fewer gives false faces in textures
# Smallest face searched, as a fraction of the reduced image's shorter side. An ID photo's face is large in its
# picture: 8 % of a 12 MP photo's shorter side is a 240 px face box, about the smallest whose head (1.2 to 1.6 boxes)
# can still fill 70 % of a 531 px (300 dpi) crop. Smaller would only add false faces and time.
MIN_FACE_FRACTION = 0.08
MIN_FACE_PIXELS = 24
# When the plain search finds nothing, the search is repeated on the histogram-equalised copy (a dark or washed-out
# photo), then on copies turned by these angles (degrees, the tilt convention below): the frontal cascade tolerates
# about +-15 degrees of in-plane rotation, and a tilted head must be reported as tilted, not as "no face".
RETRY_ANGLES = (-25.0, 25.0)
RETRY_SIDE = 400  # the turned copies are searched at this longest side at most (a tilted ID-photo face is large)

# Eyes, searched in a patch of the upper face in which the face box is EYE_PATCH_WIDTH pixels wide ---------------------
EYE_PATCH_WIDTH = 200
EYE_BAND = (0.12, 0.62)  # rows of the face box searched for eyes (fractions of its height, from its top)


@dataclass(frozen=True)
class FaceFrame:
    """A detected face: centre and side of the (square) Haar box, and the angle of the frame it was found in.

    ``angle`` follows the tilt convention used everywhere here: degrees, positive when the face is turned clockwise on
    screen (its right-hand eye, as seen in the image, lower than the left-hand one). 0 for faces found upright.
    """
    cx: float
    cy: float
    size: float
    angle: float = 0.0

    def scaled(self, factor: float) -> FaceFrame:
        return FaceFrame(self.cx * factor, self.cy * factor, self.size * factor, self.angle)

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Axis-aligned (x, y, width, height) of the box (for a rotated frame: the square of the same side)."""
        half = self.size / 2
        return self.cx - half, self.cy - half, self.size, self.size


@dataclass(frozen=True)
class Eyes:
    """Centres of the two eyes (left and right *in the image*), in the caller's pixels."""
    left: tuple[float, float]
    right: tuple[float, float]

    @property
    def distance(self) -> float:
        return math.dist(self.left, self.right)

    @property
    def middle(self) -> tuple[float, float]:
        return (self.left[0] + self.right[0]) / 2, (self.left[1] + self.right[1]) / 2

    @property
    def angle(self) -> float:
        """Tilt of the eye line in degrees (positive: clockwise on screen)."""
        return math.degrees(math.atan2(self.right[1] - self.left[1], self.right[0] - self.left[0]))


def _cascade(name: str):
    """A cascade of ``imaging/cascades/``, read once per process; a missing or broken file raises (never "no face")."""
    return cascade.load(name)


@dataclass(frozen=True)
class Detection:
    """A face kept after verification: its frame and its eyes (None when the eyes were not found, e.g. a strongly
    blurred face confirmed by the second cascade), in the caller's image pixels."""
    frame: FaceFrame
    eyes: Eyes | None


def detect(image, gray, factor: float, passes: list | None = None) -> list[Detection]:
    """Faces in ``image`` (PIL, upright), searched in ``gray`` (its reduced grayscale copy as a uint8 array;
    ``factor`` = image pixels per ``gray`` pixel). Largest first. ``passes``, when given, receives the name of each
    search pass run and of the one that found the faces (for the measures and the docs).

    Passes, each tried only when the previous ones kept nothing: the plain copy; the histogram-equalised copy (a dark
    or washed-out photo); copies turned by ``RETRY_ANGLES``. A candidate of the frontal cascade is kept only if a
    second frontal cascade (``alt``) finds a face at the same place: textures and animals that fool one cascade rarely
    fool both (on the labelled set: a cat, coins, grass). In the turned copies, the two eyes must be found as well.
    """
    passes = [] if passes is None else passes
    passes.append("plain")
    kept = _verified(image, _detect_upright(gray), factor, gray, 0.0)
    if not kept:
        passes.append("equalised")
        equalised = cascade.equalize_hist(gray)
        kept = _verified(image, _detect_upright(equalised), factor, equalised, 0.0)
    if not kept and RETRY_ANGLES:
        small, shrink = gray, 1.0
        if max(gray.shape[:2]) > RETRY_SIDE:
            shrink = max(gray.shape[:2]) / RETRY_SIDE
            small = cascade.shrink_area(gray, (round(gray.shape[1] / shrink), round(gray.shape[0] / shrink)))
        for angle in RETRY_ANGLES:
            passes.append(f"turned {angle:+.0f}")
            kept = _verified(image, _detect_rotated(small, angle), factor * shrink, small, angle)
            if kept:
                break
    if kept:
        passes.append("found: " + passes[-1])
    return sorted(kept, key=lambda detection: -detection.frame.size)


def _verified(image, candidates: list[FaceFrame], factor: float, searched, angle: float) -> list[Detection]:
    kept = []
    for candidate in candidates:
        frame = candidate.scaled(factor)
        if not _confirmed(searched, candidate, angle):
            continue
        eyes = find_eyes(image, frame)
        if eyes is None and angle:
            continue  # a turned copy is searched only as a last resort: there, the eyes are required too
        kept.append(Detection(frame, eyes))
    return kept


def _confirmed(gray, candidate: FaceFrame, angle: float) -> bool:
    """The second cascade finds a face of about the same size around ``candidate`` (reduced-copy pixels)."""
    if angle:
        matrix, size = _rotation(gray, angle)
        gray = cascade.warp_affine(gray, matrix, size)
        cx, cy = matrix @ np.array([candidate.cx, candidate.cy, 1.0])
    else:
        cx, cy = candidate.cx, candidate.cy
    reach = 0.8 * candidate.size
    height, width = gray.shape[:2]
    x0, y0 = int(max(0, cx - reach)), int(max(0, cy - reach))
    x1, y1 = int(min(width, cx + reach)), int(min(height, cy + reach))
    found = _cascade("haarcascade_frontalface_alt.xml").detect_multi_scale(
        gray[y0:y1, x0:x1], scale_factor=1.05, min_neighbors=3, min_size=(int(candidate.size * 0.6),) * 2,
        max_size=(int(candidate.size * 1.5),) * 2)
    return len(found) > 0


def _min_size(gray) -> int:
    return max(MIN_FACE_PIXELS, int(min(gray.shape[:2]) * MIN_FACE_FRACTION))


def _detect_upright(gray) -> list[FaceFrame]:
    found = _cascade("haarcascade_frontalface_default.xml").detect_multi_scale(
        gray, scale_factor=SCALE_FACTOR, min_neighbors=MIN_NEIGHBOURS, min_size=(_min_size(gray),) * 2)
    return [FaceFrame(float(x + w / 2), float(y + h / 2), float(w)) for (x, y, w, h) in found]


def _rotation(gray, angle: float):
    """Affine matrix turning ``gray`` by ``angle`` (tilt convention) so that a face tilted by ``angle`` is upright,
    with the canvas enlarged to keep every pixel, and the size of that canvas."""
    height, width = gray.shape[:2]
    # OpenCV's positive angle turns the picture counter-clockwise on screen, which undoes a clockwise tilt.
    matrix = cascade.rotation_matrix((width / 2, height / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_width, new_height = int(height * sin + width * cos), int(height * cos + width * sin)
    matrix[0, 2] += new_width / 2 - width / 2
    matrix[1, 2] += new_height / 2 - height / 2
    return matrix, (new_width, new_height)


def _detect_rotated(gray, angle: float) -> list[FaceFrame]:
    """Candidates in the turned copy, mapped back to ``gray``'s pixels (frame angle = ``angle``)."""
    matrix, size = _rotation(gray, angle)
    turned = cascade.warp_affine(gray, matrix, size)
    inverse = cascade.invert_affine(matrix)
    faces = []
    for face in _detect_upright(turned):
        x, y = inverse @ np.array([face.cx, face.cy, 1.0])
        faces.append(FaceFrame(float(x), float(y), face.size, angle))
    return faces


def face_patch(image, face: FaceFrame, region: tuple[float, float, float, float], width: int, mode: str = "L"):
    """A numpy array of ``image`` (PIL, any size) in the face's own frame: upright face, ``width`` pixels across.

    ``region`` = (left, top, right, bottom) in units of the face box side, relative to its centre (e.g. (-0.5, -0.5,
    0.5, 0.5) is the box itself). Only the part of the image under the region is converted and resampled, so the cost
    does not depend on the photo's size.
    """
    left, top, right, bottom = region
    scale = width / ((right - left) * face.size)  # output pixels per image pixel
    height = max(1, round((bottom - top) * face.size * scale))
    rad = math.radians(face.angle)
    ux, uy = math.cos(rad), math.sin(rad)  # the face's "right" direction in the image
    vx, vy = -uy, ux  # the face's "down" direction
    # Bounding box of the region in the image, with a margin for the resampling filter.
    corners = [(face.cx + face.size * (a * ux + b * vx), face.cy + face.size * (a * uy + b * vy))
               for a in (left, right) for b in (top, bottom)]
    x0 = max(0, math.floor(min(c[0] for c in corners)) - 2)
    y0 = max(0, math.floor(min(c[1] for c in corners)) - 2)
    x1 = min(image.width, math.ceil(max(c[0] for c in corners)) + 2)
    y1 = min(image.height, math.ceil(max(c[1] for c in corners)) + 2)
    if x1 <= x0 or y1 <= y0:
        return np.zeros((height, width), np.uint8) if mode == "L" else np.zeros((height, width, 3), np.uint8)
    part = image.crop((x0, y0, x1, y1))
    if part.mode != mode:
        part = part.convert(mode)
    pre = 1.0
    if scale < 1:  # shrink first with an antialiasing filter, then only rotate
        pre = scale
        part = part.resize((max(1, round(part.width * scale)), max(1, round(part.height * scale))),
                           Image.Resampling.BOX)
    # Output pixel (X, Y) -> point of the face frame -> pixel of ``part``.
    k = scale / pre  # output pixels per ``part`` pixel
    ox = (face.cx - x0) * pre + face.size * pre * (left * ux + top * vx)
    oy = (face.cy - y0) * pre + face.size * pre * (left * uy + top * vy)
    data = (ux / k, vx / k, ox, uy / k, vy / k, oy)
    out = part.transform((width, height), Image.Transform.AFFINE, data, resample=Image.Resampling.BILINEAR,
                         fillcolor=0 if mode == "L" else (0, 0, 0))
    return np.asarray(out)


def find_eyes(image, face: FaceFrame) -> Eyes | None:
    """The two eyes of ``face`` in ``image`` (PIL, the caller's pixels), or None when no plausible pair is found.

    The search runs in the face's frame on a patch where the face box is ``EYE_PATCH_WIDTH`` pixels wide, so its cost
    and its behaviour do not depend on the photo's size. A pair must sit in the upper face, one eye on each side of the
    box's middle, at a plausible distance and nearly level (in the face's frame).
    """
    top, bottom = EYE_BAND
    patch = face_patch(image, face, (-0.5, top - 0.5, 0.5, bottom - 0.5), EYE_PATCH_WIDTH)
    pair = None
    for name in ("haarcascade_eye.xml", "haarcascade_eye_tree_eyeglasses.xml"):
        pair = _best_pair(_cascade(name).detect_multi_scale(patch, scale_factor=1.05, min_neighbors=3,
                                                            min_size=(18, 18), max_size=(80, 80)))
        if pair is not None:
            break
    if pair is None:
        return None
    pair = tuple((x + w / 2, y + h / 2) for (x, y, w, h) in pair)  # box centres (the darkest spot, tried, was worse)
    # Back from the patch (face frame, EYE_PATCH_WIDTH px per box side) to image pixels.
    per_unit = EYE_PATCH_WIDTH  # patch pixels per face-box side
    rad = math.radians(face.angle)
    ux, uy, vx, vy = math.cos(rad), math.sin(rad), -math.sin(rad), math.cos(rad)

    def to_image(point):
        a = point[0] / per_unit - 0.5
        b = point[1] / per_unit + top - 0.5
        return (face.cx + face.size * (a * ux + b * vx), face.cy + face.size * (a * uy + b * vy))

    left, right = to_image(pair[0]), to_image(pair[1])
    return Eyes((float(left[0]), float(left[1])), (float(right[0]), float(right[1])))


def _best_pair(found):
    """The most plausible (left, right) pair of eye boxes among the detections in the patch, or None."""
    centres = [(x + w / 2, y + h / 2, w, (x, y, w, h)) for (x, y, w, h) in found]
    middle = EYE_PATCH_WIDTH / 2
    best, best_score = None, None
    for i, a in enumerate(centres):
        for b in centres[i + 1:]:
            left, right = (a, b) if a[0] < b[0] else (b, a)
            dx, dy = right[0] - left[0], right[1] - left[1]
            if not (0.25 * EYE_PATCH_WIDTH <= dx <= 0.65 * EYE_PATCH_WIDTH):
                continue
            if left[0] > middle or right[0] < middle or abs(dy) > 0.35 * dx:
                continue
            if max(left[2], right[2]) > 1.8 * min(left[2], right[2]):
                continue
            score = abs((left[0] + right[0]) / 2 - middle) / EYE_PATCH_WIDTH + abs(dy) / dx
            if best_score is None or score < best_score:
                best, best_score = (left[3], right[3]), score
    return best
