"""Face *detection* (never recognition) with dlib: its HOG frontal face detector and its 5-point landmark model.

Only where faces are is computed: a box, the two eyes, the base of the nose, a score. Nothing describing *who* the
person is (no template, no embedding, no matching) is computed, kept or returned; dlib's recognition network is not
part of the deployment at all.

The detector (HOG features and a linear classifier, five sub-detectors for frontal and slightly turned faces, tolerant
of about 30 degrees of in-plane tilt) is compiled into dlib (the ``dlib-bin`` wheel). The landmark model is the file
``imaging/models/shape_predictor_5_face_landmarks.dat``, written at build time by ``infra.face_model`` from its
pinned registry archive; it is read once per process, at the first photo, and a missing or broken file raises (never
"no face"). A candidate that does not look photographed (a line drawing, a face the colour of a mask) is not a face
(``not_a_face``). Why dlib, measured on real photographs against the project's former numpy Haar cascades, OpenCV and
MTCNN: ``docs/photo-assistant.md``. This module is only reached through ``imaging.assistant``, itself imported where a
photo is analysed: dlib's and numpy's imports are paid there, not at the image function's start.

Coordinates: every function works on numpy arrays or PIL images given by the caller and returns coordinates in the
pixels of what it was given; ``imaging.assistant`` maps them back to the original photo.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import dlib
import numpy as np
from PIL import Image, ImageFilter

LANDMARK_MODEL = Path(__file__).resolve().parent / "models" / "shape_predictor_5_face_landmarks.dat"

# The detector's window: at no upsampling, it finds faces whose box is at least this many pixels in the searched
# image (the caller sizes that image so that every face that could make a 300 dpi card is this large).
WINDOW = 80
# A detection scoring under this is doubtful (on the real set: a face behind dark sunglasses scored 0.16, frontal
# portraits 0.7 to 2.8): the tilted search is tried as well, and the better-scoring answer kept.
DOUBTFUL_SCORE = 0.3
# The tilted search: copies turned by these angles (degrees, the tilt convention below). The upright pass finds heads
# tilted up to about 30 degrees (on the real set: 29 portraits out of 29 turned by 30 degrees, 25 by 40); these
# copies cover 30 to 55. A tilted ID-photo face is large, so they are searched at RETRY_SIDE pixels at most.
RETRY_ANGLES = (-40.0, 40.0)
RETRY_SIDE = 360

# How the face frame (used to sample the inner face: imaging.assistant's sharpness and exposure) is placed from the
# eyes: its side in eye distances, its centre below the eye line in sides. The frame is the square that holds the
# eyebrows, eyes, nose and mouth.
FRAME_PER_EYES = 1 / 0.41
FRAME_CENTRE_BELOW_EYES = 0.12

# What is not a photographed face. dlib's detector reads a layout of edges (two eyes over a nose over a mouth) and
# finds it in line drawings and masks as well (on the real set: a Picasso drawing, a Guy Fawkes mask). Two tests on the
# candidate's inner face (eyes, nose and mouth: INNER_FACE, in units of the face frame, sampled FACE_PATCH_WIDTH pixels
# per frame side) reject what a photographed face cannot look like. Figures measured on the real set of bench/faces/
# (35 faces) and on the synthetic set of tests/unit/assistant_set.py (162 faces); docs/photo-assistant.md, "Real
# photographs: the detectors compared".
INNER_FACE = (-0.3, -0.25, 0.3, 0.35)
FACE_PATCH_WIDTH = 128
# - A line drawing: paper and lines, no shading. FLAT is the share of the inner face within FLAT_TOLERANCE of its
#   median luminance, after a 1 px Gaussian (the grain): photographed faces 0.02 to 0.21 (light falls off the cheeks,
#   the nose shades its side), the Picasso drawing 0.63.
FLAT_TOLERANCE = 0.03
FLAT_MAX = 0.45
# - Not skin: in a colour photo, skin lies between orange and red whatever the complexion (melanin and blood: the
#   complexion changes its lightness and saturation, hardly its hue). Its hue is measured on the cheeks and nose, in the
#   Cb-Cr plane, as the angle from the yellow-blue axis towards red: photographed faces 48 to 86 degrees, the cream mask
#   33. It is measured twice, as the photo shows it and with the photo's own white made neutral (_white_balance: a
#   colour cast taken off), and the candidate is not skin only when both are under SKIN_HUE_MIN: a cast, or a white
#   reference that is not white, cannot refuse a real face alone (the balanced mask: 39 and 43 degrees). A hue is only
#   read where there is colour (chroma, in Cb-Cr units, of COLOUR_CHROMA_MIN or more): a black-and-white or toned
#   print is not judged on it.
SKIN_HUE_MIN = 44.0
COLOUR_CHROMA_MIN = 8.0
WHITE_REFERENCE = 2.0  # percent of the picture's pixels, its brightest unclipped ones, taken as its white
# Neither test judges a burnt-out face (more than this share of the inner face at 250 or more, as the assistant's
# overexposed check counts): clipping flattens it and turns its skin yellow. It stays a face, reported overexposed.
BURNT_OUT = 0.06


@dataclass(frozen=True)
class FaceFrame:
    """A face's square frame, placed from its eyes: centre, side and angle (degrees, that of the eye line).

    ``angle`` follows the tilt convention used everywhere here: positive when the face is turned clockwise on screen
    (its right-hand eye, as seen in the image, lower than the left-hand one).
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

    @property
    def down(self) -> tuple[float, float]:
        """Unit vector of the face's "down" direction (perpendicular to the eye line)."""
        rad = math.radians(self.angle)
        return -math.sin(rad), math.cos(rad)

    def scaled(self, factor: float) -> Eyes:
        return Eyes((self.left[0] * factor, self.left[1] * factor), (self.right[0] * factor, self.right[1] * factor))


@dataclass(frozen=True)
class Detection:
    """A face: its frame (placed from the eyes), its eyes, the base of its nose and the detector's score, in the
    caller's image pixels."""
    frame: FaceFrame
    eyes: Eyes
    nose: tuple[float, float]
    score: float

    @property
    def nose_below_eyes(self) -> float:
        """Distance from the eye line to the base of the nose, along the face's axis."""
        (mx, my), (dx, dy) = self.eyes.middle, self.eyes.down
        return max(0.0, (self.nose[0] - mx) * dx + (self.nose[1] - my) * dy)

    def scaled(self, factor: float) -> Detection:
        nose = (self.nose[0] * factor, self.nose[1] * factor)
        return Detection(self.frame.scaled(factor), self.eyes.scaled(factor), nose, self.score)


@functools.cache
def _detector():
    return dlib.get_frontal_face_detector()


@functools.cache
def _landmarks():
    if not LANDMARK_MODEL.is_file():
        raise FileNotFoundError(f"{LANDMARK_MODEL} is missing: run `python3 -m infra.face_model` (make does)")
    return dlib.shape_predictor(str(LANDMARK_MODEL))


def detect(pixels, factor: float, passes: list | None = None) -> list[Detection]:
    """Faces in ``pixels`` (the searched copy of the photo: an RGB or grayscale uint8 array; ``factor`` = caller's
    pixels per searched pixel), largest first, in the caller's pixels. ``passes``, when given, receives the name of
    each search pass run and of the one whose faces were kept (for the measures and the docs).

    One upright pass; the tilted search only when it found nothing or only doubtful faces (``DOUBTFUL_SCORE``). A
    candidate that is not a photographed face (``not_a_face``: a line drawing, a mask) is no face: dropped, and named
    in ``passes`` ("rejected: drawing" or "rejected: not skin"). No equalised copy: dlib's features are gradients
    normalised block by block, so a dark or washed-out face is found in the plain copy (on the assistant's labelled
    set, every exposure from -3 to +2.5 EV).
    """
    passes = [] if passes is None else passes
    passes.append("upright")
    kept, kept_by = _search(pixels, 0.0, passes), "upright"
    if not kept or max(d.score for d in kept) < DOUBTFUL_SCORE:
        small, shrink = _shrunk(pixels, RETRY_SIDE)
        for angle in RETRY_ANGLES:
            passes.append(f"turned {angle:+.0f}")
            turned = [d.scaled(shrink) for d in _search(small, angle, passes)]
            if turned and max(d.score for d in turned) > max((d.score for d in kept), default=-math.inf):
                kept, kept_by = turned, passes[-1]
                break
    if kept:
        passes.append("found: " + kept_by)
    return sorted((d.scaled(factor) for d in kept), key=lambda d: -d.frame.size)


def _shrunk(pixels, side: int):
    height, width = pixels.shape[:2]
    if max(width, height) <= side:
        return pixels, 1.0
    shrink = max(width, height) / side
    image = Image.fromarray(pixels).resize((round(width / shrink), round(height / shrink)), Image.Resampling.BILINEAR,
                                           reducing_gap=2.0)
    return np.asarray(image), width / image.width


def _search(pixels, angle: float, passes: list) -> list[Detection]:
    """dlib's detections and landmarks in ``pixels`` turned by ``angle`` (tilt convention), mapped back to
    ``pixels``' coordinates; the candidates that are not a face left out (and named in ``passes``)."""
    searched, back = pixels, None
    if angle:
        searched, back = _turned(pixels, angle)
    rectangles, scores, _ = _detector().run(searched, 0, 0.0)
    found = []
    image = None
    for rectangle, score in zip(rectangles, scores):
        shape = _landmarks()(searched, rectangle)
        points = [(float(shape.part(i).x), float(shape.part(i).y)) for i in range(5)]
        if back is not None:
            points = [back(point) for point in points]
        detection = _detection(points, float(score))
        image = Image.fromarray(pixels) if image is None else image
        reason = not_a_face(image, detection)
        if reason:
            passes.append(f"rejected: {reason}")
        else:
            found.append(detection)
    return found


def not_a_face(image: Image.Image, detection: Detection, measures: dict | None = None) -> str | None:
    """Why the candidate ``detection`` of ``image`` (PIL, in its pixels) is not a photographed face: "drawing" (a
    line drawing), "not skin" (the colour of a mask or of paper), or None (a face, or nothing to judge it on: a
    burnt-out face). ``measures``, when given, receives the figures (for the measures and the docs)."""
    measures = {} if measures is None else measures
    region = INNER_FACE
    rgb = face_patch(image, detection.frame, region, round(FACE_PATCH_WIDTH * (region[2] - region[0])),
                     mode="RGB").astype(np.float32)
    luminance = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    burnt = float((luminance >= 250).mean())
    measures["burnt"] = round(burnt, 3)
    if burnt > BURNT_OUT:
        return None
    smooth = np.asarray(Image.fromarray(np.rint(luminance).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1)),
                        np.float32)
    median = float(np.median(smooth))
    flat = float((np.abs(smooth - median) <= FLAT_TOLERANCE * median).mean())
    measures["flat"] = round(flat, 3)
    # Skin: cheeks and nose, from a quarter to three quarters of an eye distance below the eye line, over an eye
    # distance and a half across; clipped or black pixels carry no hue.
    height, width = luminance.shape
    eyes, eye_distance = -FRAME_CENTRE_BELOW_EYES, 1 / FRAME_PER_EYES
    top, bottom = ((eyes + k * eye_distance - region[1]) / (region[3] - region[1]) * height for k in (0.25, 0.75))
    half = 0.7 * eye_distance / (region[2] - region[0]) * width
    cheeks = rgb[round(top):round(bottom), round(width / 2 - half):round(width / 2 + half)].reshape(-1, 3)
    cheeks = cheeks[(cheeks.max(axis=1) < 250) & (cheeks.min(axis=1) > 5)]
    # Its hue as the photo shows it and, only if that is not skin, with the photo's white made neutral (a colour cast
    # taken off): not skin only when neither is.
    not_skin = len(cheeks) > 0
    for name, gains in (("", None), ("balanced_", _white_balance)):
        if not not_skin:
            break
        red, green, blue = cheeks.mean(axis=0) * (1.0 if gains is None else gains(image))
        grey = 0.299 * red + 0.587 * green + 0.114 * blue
        cb, cr = 0.564 * (blue - grey), 0.713 * (red - grey)
        chroma, hue = math.hypot(cb, cr), math.degrees(math.atan2(cr, -cb))
        measures[name + "chroma"] = round(chroma, 1)
        measures[name + "hue"] = round(hue, 1)
        not_skin = chroma >= COLOUR_CHROMA_MIN and hue < SKIN_HUE_MIN
    if flat > FLAT_MAX:
        return "drawing"
    if not_skin:
        return "not skin"
    return None


def _detection(points, score: float) -> Detection:
    """A detection from dlib's five points: 0-1 the corners of the eye on the image's right, 2-3 those of the other
    eye, 4 the base of the nose."""
    right = ((points[0][0] + points[1][0]) / 2, (points[0][1] + points[1][1]) / 2)
    left = ((points[2][0] + points[3][0]) / 2, (points[2][1] + points[3][1]) / 2)
    eyes = Eyes(left, right)
    size = FRAME_PER_EYES * eyes.distance
    (mx, my), (dx, dy) = eyes.middle, eyes.down
    frame = FaceFrame(mx + dx * FRAME_CENTRE_BELOW_EYES * size, my + dy * FRAME_CENTRE_BELOW_EYES * size, size,
                      eyes.angle)
    return Detection(frame, eyes, points[4], score)


def _turned(pixels, angle: float):
    """``pixels`` turned so that a face tilted by ``angle`` is upright (canvas enlarged to keep every pixel), and the
    function mapping a point of the turned copy back to ``pixels``."""
    image = Image.fromarray(pixels)
    # PIL's positive angle turns the picture counter-clockwise on screen, which undoes a clockwise tilt.
    turned = image.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True)
    rad = math.radians(angle)
    cos, sin = math.cos(rad), math.sin(rad)
    cx, cy = image.width / 2, image.height / 2
    tx, ty = turned.width / 2, turned.height / 2

    def back(point):
        u, v = point[0] - tx, point[1] - ty
        return cx + u * cos - v * sin, cy + u * sin + v * cos

    return np.asarray(turned), back


def _white_balance(image: Image.Image):
    """Per-channel gains that make the brightest part of ``image`` neutral (its WHITE_REFERENCE brightest unclipped
    pixels, of every other row and column): the photo's own white, so that a colour cast (tungsten, fluorescent, a
    yellowed print) is taken off the skin before its hue is judged. An ID photo's background is light by the norm,
    hence usually that white."""
    if image.mode != "RGB":
        return np.ones(3, np.float32)
    rgb = np.asarray(image)[::2, ::2].reshape(-1, 3)
    rgb = rgb[rgb.max(axis=1) < 250].astype(np.float32)  # a clipped pixel has lost the cast: white whatever the light
    if len(rgb) < 100:
        return np.ones(3, np.float32)
    luminance = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    white = rgb[luminance >= np.percentile(luminance, 100 - WHITE_REFERENCE)].mean(axis=0)
    return white.max() / np.maximum(white, 1.0)


def face_patch(image, face: FaceFrame, region: tuple[float, float, float, float], width: int, mode: str = "L"):
    """A numpy array of ``image`` (PIL, any size) in the face's own frame: upright face, ``width`` pixels across.

    ``region`` = (left, top, right, bottom) in units of the face frame's side, relative to its centre (e.g. (-0.5,
    -0.5, 0.5, 0.5) is the frame itself). Only the part of the image under the region is converted and resampled, so
    the cost does not depend on the photo's size.
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
