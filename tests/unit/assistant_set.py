"""The photo assistant's labelled set, generated in memory (no binary fixture is committed).

Faces come from portraits that ship inside registry packages: scikit-image's ``data.astronaut()`` (Eileen Collins)
and matplotlib's ``sample_data/grace_hopper.jpg`` (Grace Hopper), read from the installed packages, never downloaded.
Each portrait is cut out of its own background once (OpenCV's GrabCut, seeded, deterministic) and pasted at a known
size, position and angle on generated backgrounds; then blurred, over- or under-exposed, given a second face, or
replaced by a picture with no face. The ground truth of every sample (where the skull top, the chin and the eyes are,
in the sample's pixels) follows from the paste, so the labels do not depend on the detector.

Ground truth of the portraits, measured by hand on the source images (pixels of the source):

- eyes: the pupils' centres;
- chin: the bottom of the chin on the face's axis;
- crown (top of the skull, hair excluded, as the ANTS norm measures): the hair hides it, so it is put at the same
  distance above the eye line as the chin is below it (the eyes of an adult are half-way between the top of the skull
  and the chin, within a few percent). This is a convention, stated as such in docs/photo-assistant.md.

Each sample is labelled, for each check code, ``True`` (must be raised), ``False`` (must not be raised) or ``None``
(don't care: the truth is within the tolerance zone between the two, e.g. a face at 68 % of the height). Levels are
labelled too for the checks that have two (``face_too_small:error``...). Labels that depend on the crop (face size,
position, several faces, resolution) are computed on the crop the assistant evaluated, which is the point of a check
"on the crop that will be used".

``python -m tests.unit.assistant_set`` prints the precision/recall table and, with ``--measures``, the figures of every
sample (what the thresholds were chosen from).
"""

from __future__ import annotations

import functools
import importlib.util
import io
import math
import os
import random
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFilter

OUTPUT_HEIGHT = 531
CANVAS = (1000, 1300)  # portrait canvas of most samples: the head at 420 px gives a 560 px high crop (> 531)
HEAD = 420  # default chin-to-crown height in canvas pixels
SENSOR_NOISE = 2.0  # every sample gets this much Gaussian noise (grey levels), then JPEG quality 90, like a camera

# --------------------------------------------------------------------------------------------------------------------
# Portraits
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Portrait:
    name: str
    image: Image.Image  # RGBA cut-out (alpha = person)
    eyes: tuple[tuple[float, float], tuple[float, float]]  # left, right pupils (in the image)
    chin: tuple[float, float]

    @property
    def eye_middle(self) -> tuple[float, float]:
        (lx, ly), (rx, ry) = self.eyes
        return (lx + rx) / 2, (ly + ry) / 2

    @property
    def crown(self) -> tuple[float, float]:
        """The chin reflected through the eye middle (see the module's docstring)."""
        mx, my = self.eye_middle
        return 2 * mx - self.chin[0], 2 * my - self.chin[1]

    @property
    def head(self) -> float:
        return math.dist(self.crown, self.chin)

    @property
    def centre(self) -> tuple[float, float]:
        return self.eye_middle

    def mirrored(self) -> Portrait:
        width = self.image.width

        def flip(point):
            return width - 1 - point[0], point[1]

        return Portrait(self.name + "-mirror", self.image.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
                        (flip(self.eyes[1]), flip(self.eyes[0])), flip(self.chin))


def _grabcut(rgb, mask_init, rect=None, seed=1):
    import cv2
    import numpy as np

    cv2.setRNGSeed(seed)
    mask = mask_init.copy()
    background = np.zeros((1, 65), np.float64)
    foreground = np.zeros((1, 65), np.float64)
    mode = cv2.GC_INIT_WITH_RECT if rect is not None else cv2.GC_INIT_WITH_MASK
    cv2.grabCut(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), mask, rect, background, foreground, 5, mode)
    return np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)


def _cut_out(rgb, person_mask, extend: int = 300) -> Image.Image:
    """RGBA cut-out with a soft edge; the body is extended downwards (last rows repeated) so that a portrait pasted
    low in a picture does not end in mid-air."""
    import cv2
    import numpy as np

    alpha = cv2.GaussianBlur(person_mask, (5, 5), 0)  # soft edge, as a real cut-out or a shallow depth of field
    rgba = np.dstack([rgb, alpha])
    rgba = np.concatenate([rgba, np.repeat(rgba[-1:], extend, axis=0)])
    return Image.fromarray(rgba, "RGBA")


@functools.lru_cache(maxsize=None)
def astronaut() -> Portrait:
    import cv2
    import numpy as np
    from skimage import data

    rgb = np.ascontiguousarray(data.astronaut())
    mask = _grabcut(rgb, np.zeros(rgb.shape[:2], np.uint8), rect=(20, 8, 345, 504))
    # The black collar ring is as dark as the helmet GrabCut learns as background: add it by hand.
    cv2.ellipse(mask, (209, 222), (97, 76), 0, 0, 360, 255, -1)
    return Portrait("astronaut", _cut_out(rgb, mask), ((203.0, 100.5), (246.0, 102.5)), (224.0, 178.0))


def grace_hopper_path() -> str:
    spec = importlib.util.find_spec("matplotlib")  # located, not imported: only its sample file is used
    if spec is None or not spec.origin:
        raise RuntimeError("matplotlib (test dependency) is needed for its sample portrait grace_hopper.jpg")
    return os.path.join(os.path.dirname(spec.origin), "mpl-data", "sample_data", "grace_hopper.jpg")


@functools.lru_cache(maxsize=None)
def grace_hopper() -> Portrait:
    import cv2
    import numpy as np

    rgb = np.ascontiguousarray(np.asarray(Image.open(grace_hopper_path()).convert("RGB")))
    height, width = rgb.shape[:2]
    mask = np.full((height, width), cv2.GC_PR_BGD, np.uint8)
    cv2.ellipse(mask, (262, 220), (115, 160), 0, 0, 360, cv2.GC_PR_FGD, -1)
    cv2.rectangle(mask, (40, 330), (500, 600), cv2.GC_PR_FGD, -1)
    cv2.ellipse(mask, (262, 240), (80, 100), 0, 0, 360, cv2.GC_FGD, -1)
    cv2.rectangle(mask, (0, 0), (width - 1, 8), cv2.GC_BGD, -1)
    cv2.rectangle(mask, (0, 0), (140, 400), cv2.GC_BGD, -1)  # the flag on the left
    cv2.rectangle(mask, (0, 0), (25, 600), cv2.GC_BGD, -1)
    cv2.ellipse(mask, (265, 80), (85, 40), 0, 0, 360, cv2.GC_FGD, -1)  # the cap
    cv2.ellipse(mask, (262, 200), (100, 90), 0, 0, 360, cv2.GC_PR_FGD, -1)
    person = _grabcut(rgb, mask)
    return Portrait("grace", _cut_out(rgb, person), ((221.0, 189.0), (304.0, 185.0)), (262.0, 330.0))


def portraits() -> dict[str, Portrait]:
    a, g = astronaut(), grace_hopper()
    return {p.name: p for p in (a, a.mirrored(), g, g.mirrored())}


def original_photo(name: str) -> Image.Image:
    """The source photo with its own background (flag, shuttle, sky)."""
    if name.startswith("astronaut"):
        from skimage import data

        return Image.fromarray(data.astronaut())
    return Image.open(grace_hopper_path()).convert("RGB")


# --------------------------------------------------------------------------------------------------------------------
# Backgrounds
# --------------------------------------------------------------------------------------------------------------------

# kind -> whether it is "plain" for the norm (True), busy (False), or undecided (None)
PLAIN, BUSY = True, False


def background(kind: str, size: tuple[int, int], seed: int = 0) -> tuple[Image.Image, bool | None]:
    import numpy as np

    width, height = size
    rng = np.random.default_rng(seed)
    if kind.startswith("plain:"):
        colour = tuple(int(c) for c in kind.split(":")[1].split(","))
        return Image.new("RGB", size, colour), PLAIN
    if kind == "gradient":  # a studio backdrop lit from one side: smooth, plain
        x = np.linspace(0, 1, width)[None, :]
        y = np.linspace(0, 1, height)[:, None]
        level = 235 - 40 * (0.6 * x + 0.4 * y)
        rgb = np.dstack([level - 8, level - 2, level + 6]).clip(0, 255).astype(np.uint8)
        return Image.fromarray(rgb), PLAIN
    if kind == "vignette":
        y, x = np.mgrid[0:height, 0:width]
        r = np.hypot((x - width / 2) / width, (y - height / 2) / height)
        level = 232 - 70 * r
        return Image.fromarray(np.dstack([level] * 3).clip(0, 255).astype(np.uint8)), PLAIN
    if kind == "fine_noise":  # a textured paper backdrop: grain only
        base = np.full((height, width, 3), 218.0) + rng.normal(0, 6, (height, width, 1))
        return Image.fromarray(base.clip(0, 255).astype(np.uint8)), PLAIN
    if kind == "noise":  # strong noise: busy
        base = np.full((height, width, 3), 200.0) + rng.normal(0, 40, (height, width, 3))
        return Image.fromarray(base.clip(0, 255).astype(np.uint8)), BUSY
    if kind == "blobs":  # a blurred busy scene: large smooth blotches of colour
        small = rng.uniform(60, 250, (height // 40 + 2, width // 40 + 2, 3)).astype(np.uint8)
        im = Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)
        return im, BUSY
    if kind == "office":  # shelves, frames, a window: hard edges
        im = Image.new("RGB", size, (205, 200, 190))
        draw = ImageDraw.Draw(im)
        r = random.Random(seed)
        for _ in range(40):
            x0, y0 = r.randrange(width), r.randrange(height)
            w, h = r.randrange(40, 260), r.randrange(20, 200)
            colour = tuple(r.randrange(30, 250) for _ in range(3))
            if r.random() < 0.5:
                draw.rectangle((x0, y0, x0 + w, y0 + h), fill=colour)
            else:
                draw.rectangle((x0, y0, x0 + w, y0 + h), outline=colour, width=r.randrange(3, 12))
        return im, BUSY
    if kind in ("brick", "gravel", "grass"):
        from skimage import data

        tile = getattr(data, kind)()
        tile_im = Image.fromarray(tile).convert("RGB")
        im = Image.new("RGB", size)
        for y in range(0, height, tile_im.height):
            for x in range(0, width, tile_im.width):
                im.paste(tile_im, (x, y))
        return im, BUSY
    if kind.startswith("dark:"):
        level = int(kind.split(":")[1])
        return Image.new("RGB", size, (level, level, level + 8)), PLAIN
    raise ValueError(kind)


def non_face_picture(name: str, size: tuple[int, int]) -> Image.Image:
    """A picture with no face, from scikit-image's data (a cat, a coffee cup, a rocket...), filling ``size``."""
    from skimage import data

    array = getattr(data, name)()
    im = Image.fromarray(array).convert("RGB")
    scale = max(size[0] / im.width, size[1] / im.height)
    im = im.resize((math.ceil(im.width * scale), math.ceil(im.height * scale)), Image.Resampling.LANCZOS)
    left, top = (im.width - size[0]) // 2, (im.height - size[1]) // 2
    return im.crop((left, top, left + size[0], top + size[1]))


# --------------------------------------------------------------------------------------------------------------------
# Samples
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """A portrait pasted with its chin-to-crown height ``head`` (canvas pixels), its eye middle at ``centre`` and
    turned by ``angle`` degrees (clockwise on screen, the tilt convention of imaging.faces)."""
    portrait: str
    head: float
    centre: tuple[float, float]
    angle: float = 0.0


@dataclass(frozen=True)
class Truth:
    """Where a pasted head is in the sample: skull top, chin, eyes (canvas pixels) and tilt (degrees)."""
    crown: tuple[float, float]
    chin: tuple[float, float]
    eyes: tuple[tuple[float, float], tuple[float, float]]

    @property
    def head(self) -> float:
        return math.dist(self.crown, self.chin)

    @property
    def centre(self) -> tuple[float, float]:
        return (self.crown[0] + self.chin[0]) / 2, (self.crown[1] + self.chin[1]) / 2

    @property
    def tilt(self) -> float:
        (lx, ly), (rx, ry) = self.eyes
        return math.degrees(math.atan2(ry - ly, rx - lx))


@dataclass(frozen=True, eq=False)  # hashed by identity (the crop is a dict): render() caches per sample
class Sample:
    name: str
    canvas: tuple[int, int] = CANVAS
    background: str = "plain:214,222,232"
    heads: tuple[Placement, ...] = ()
    picture: str | None = None  # a non-face picture instead of a background ("coffee", ...), or "original:<name>"
    blur: float = 0.0  # Gaussian sigma, canvas pixels
    ev: float = 0.0  # exposure change, stops
    crop: dict | None = None  # the agent's crop; None = the proposed one is evaluated
    via_jpeg: bool = True  # analysed through analyse_jpeg(bytes) (else analyse(PIL image))
    tags: tuple[str, ...] = ()

    def truths(self) -> list[Truth]:
        return [_truth(p) for p in self.heads]


def _rotation(angle: float):
    rad = math.radians(angle)
    return math.cos(rad), math.sin(rad)


def _place(point, portrait: Portrait, placement: Placement, scale: float):
    """Source pixel -> canvas pixel: scale about the eye middle, turn by the angle, move to the placement's centre."""
    cos, sin = _rotation(placement.angle)
    mx, my = portrait.centre
    dx, dy = (point[0] - mx) * scale, (point[1] - my) * scale
    return placement.centre[0] + cos * dx - sin * dy, placement.centre[1] + sin * dx + cos * dy


def _truth(placement: Placement) -> Truth:
    portrait = portraits()[placement.portrait]
    scale = placement.head / portrait.head
    place = functools.partial(_place, portrait=portrait, placement=placement, scale=scale)
    return Truth(place(portrait.crown), place(portrait.chin), (place(portrait.eyes[0]), place(portrait.eyes[1])))


@functools.lru_cache(maxsize=8)
def _layer(placement: Placement, canvas_size: tuple[int, int]):
    """The placed portrait: top-left corner on the canvas, RGB and alpha (float32 0..1) of the rectangle it covers.
    Cached: most samples share a placement and differ only in background, crop, blur or exposure."""
    import cv2
    import numpy as np

    portrait = portraits()[placement.portrait]
    scale = placement.head / portrait.head
    source = np.asarray(portrait.image)
    pre = 1.0
    if scale < 1:  # shrink with an area filter first: the warp alone would alias
        pre = scale
        source = cv2.resize(source, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    k = scale / pre
    mx, my = portrait.centre[0] * pre, portrait.centre[1] * pre
    cos, sin = _rotation(placement.angle)
    cx, cy = placement.centre
    # Source -> canvas: scale by k about the eye middle, turn, move to the placement's centre.
    matrix = np.array([[k * cos, -k * sin, cx - k * (cos * mx - sin * my)],
                       [k * sin, k * cos, cy - k * (sin * mx + cos * my)]])
    # Only the canvas rectangle the portrait lands on is warped.
    h, w = source.shape[:2]
    corners = matrix @ np.array([[0, w, 0, w], [0, 0, h, h], [1, 1, 1, 1]], dtype=np.float64)
    x0, y0 = (max(0, int(math.floor(v)) - 2) for v in corners.min(axis=1))
    x1 = min(canvas_size[0], int(math.ceil(corners[0].max())) + 2)
    y1 = min(canvas_size[1], int(math.ceil(corners[1].max())) + 2)
    if x1 <= x0 or y1 <= y0:
        return None
    matrix[:, 2] -= (x0, y0)
    layer = cv2.warpAffine(source, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    alpha = layer[..., 3].astype(np.float32) / 255
    return x0, y0, np.ascontiguousarray(layer[..., :3]), alpha, 1 - alpha


def _paste(canvas, placement: Placement) -> None:
    """Alpha-blend the placed portrait onto ``canvas`` (uint8 RGB array, modified in place)."""
    import cv2

    placed = _layer(placement, (canvas.shape[1], canvas.shape[0]))
    if placed is None:
        return
    x0, y0, rgb, alpha, rest = placed
    y1, x1 = y0 + rgb.shape[0], x0 + rgb.shape[1]
    region = canvas[y0:y1, x0:x1].copy()
    canvas[y0:y1, x0:x1] = cv2.blendLinear(rgb, region, alpha, rest)


def _exposure(im: Image.Image, ev: float) -> Image.Image:
    """Exposure changed by ``ev`` stops in linear light (highlights clip as a camera's would)."""
    table = []
    for value in range(256):
        srgb = value / 255
        linear = min(1.0, (srgb / 12.92 if srgb <= 0.04045 else ((srgb + 0.055) / 1.055) ** 2.4) * 2 ** ev)
        out = linear * 12.92 if linear <= 0.0031308 else 1.055 * linear ** (1 / 2.4) - 0.055
        table.append(min(255, max(0, round(out * 255))))
    return im.point(table * len(im.getbands()))


@functools.lru_cache(maxsize=8)
def _sensor_noise(size: tuple[int, int]):
    import numpy as np

    rng = np.random.default_rng(size[0] * 10007 + size[1])
    return np.rint(rng.standard_normal((size[1], size[0], 1), dtype=np.float32) * SENSOR_NOISE).astype(np.int16)


@functools.lru_cache(maxsize=8)
def render(sample: Sample) -> Image.Image:
    """The sample's picture (RGB, canvas size), before JPEG encoding."""
    import numpy as np

    if sample.picture is None:
        base, _ = background(sample.background, sample.canvas, seed=len(sample.name))
    elif sample.picture.startswith("original:"):
        base = original_photo(sample.picture.split(":", 1)[1])  # the portrait is already in its photo
    else:
        base = non_face_picture(sample.picture, sample.canvas)
    canvas = np.array(base.convert("RGB"))
    if sample.picture is None:
        for placement in sample.heads:
            _paste(canvas, placement)
    im = Image.fromarray(canvas)
    if sample.blur:
        im = im.filter(ImageFilter.GaussianBlur(sample.blur))
    if sample.ev:
        im = _exposure(im, sample.ev)
    noisy = np.asarray(im).astype(np.int16) + _sensor_noise(im.size)
    return Image.fromarray(noisy.clip(0, 255).astype(np.uint8))


def jpeg(sample: Sample, quality: int = 90) -> bytes:
    out = io.BytesIO()
    render(sample).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def background_luminance(sample: Sample) -> float | None:
    """Nominal luminance of the sample's background (after the exposure change), None for pictures."""
    import numpy as np

    if sample.picture is not None:
        return None
    base, _ = background(sample.background, (200, 260), seed=1)
    if sample.ev:
        base = _exposure(base, sample.ev)
    return float(np.asarray(base.convert("L"), dtype=np.float32).mean())


# --------------------------------------------------------------------------------------------------------------------
# The set
# --------------------------------------------------------------------------------------------------------------------

LIGHT_BACKGROUNDS = ("plain:214,222,232", "plain:226,226,226", "plain:196,216,238")
NAMES = ("astronaut", "grace", "astronaut-mirror", "grace-mirror")


def crop_around(truth: Truth, ratio: float, dx: float = 0.0, top: float = 0.09) -> dict:
    """The agent's 35:45 crop that puts this head at ``ratio`` of the height, ``dx`` of the width off the middle,
    skull top ``top`` of the height below the crop's top (ground truth, not the detector)."""
    height = truth.head / ratio
    width = height * 35 / 45
    x = truth.centre[0] - width / 2 - dx * width
    y = truth.crown[1] - top * height
    return {"x": round(x), "y": round(y), "width": round(width), "height": round(height)}


def _centre(canvas=CANVAS, head=HEAD, dx=0.0, dy=0.0):
    """Eye middle for a head of ``head`` px framed roughly in the middle of the canvas, shifted by (dx, dy) px."""
    return canvas[0] / 2 + dx, canvas[1] * 0.42 + dy


def build_set() -> list[Sample]:
    samples: list[Sample] = []
    add = samples.append
    # Well framed on plain light backgrounds, proposed crop.
    for i, name in enumerate(NAMES):
        for j, bg in enumerate(LIGHT_BACKGROUNDS):
            add(Sample(f"plain-{name}-{j}", background=bg, heads=(Placement(name, HEAD + 30 * j, _centre()),),
                       via_jpeg=(i + j) % 2 == 0, tags=("framing",)))
    # Off-centre in a larger picture: the proposed crop must re-centre it.
    for i, (dx, dy) in enumerate([(-380, -60), (380, 40), (-250, 200), (300, -150)]):
        name = NAMES[i % 4]
        add(Sample(f"offset-{name}-{i}", canvas=(1800, 1400), background=LIGHT_BACKGROUNDS[i % 3],
                   heads=(Placement(name, 460, (900 + dx, 560 + dy)),), tags=("framing",)))
    # Landscape phone-like framing with a smaller head.
    for i, name in enumerate(NAMES[:2]):
        add(Sample(f"landscape-{name}", canvas=(1600, 1200), background="gradient",
                   heads=(Placement(name, 430, (760 + 60 * i, 520)),), tags=("framing",)))
    # The agent's crops at known face ratios (ground truth), centred.
    for name in NAMES[:2]:
        truth = _truth(Placement(name, HEAD, _centre()))
        for ratio in (0.45, 0.55, 0.60, 0.64, 0.68, 0.72, 0.75, 0.78, 0.82, 0.86, 0.92, 1.0):
            top = 0.09 if ratio <= 0.8 else max(0.0, (1 - ratio) / 2)
            add(Sample(f"ratio-{name}-{ratio:.2f}", heads=(Placement(name, HEAD, _centre()),),
                       crop=crop_around(truth, ratio, top=top), tags=("size",)))
    for name in NAMES[2:]:
        truth = _truth(Placement(name, HEAD, _centre()))
        for ratio in (0.62, 0.70, 0.80, 0.88, 0.97, 1.05):
            top = 0.09 if ratio <= 0.8 else max(0.0, (1 - ratio) / 2)
            add(Sample(f"ratio-{name}-{ratio:.2f}", heads=(Placement(name, HEAD, _centre()),),
                       crop=crop_around(truth, ratio, top=top), tags=("size",)))
    # The agent's crops off the middle, or cutting the head.
    for name in NAMES[:2]:
        truth = _truth(Placement(name, HEAD, _centre()))
        for dx, top in ((-0.16, 0.09), (-0.11, 0.09), (0.03, 0.09), (0.12, 0.09), (0.18, 0.09),
                        (0.0, -0.06), (0.0, 0.02), (0.0, 0.14), (0.0, 0.22), (0.0, 0.28)):
            ratio = 0.75 if top <= 0.2 else 0.70
            add(Sample(f"position-{name}-{dx:+.2f}-{top:.2f}", heads=(Placement(name, HEAD, _centre()),),
                       crop=crop_around(truth, ratio, dx=dx, top=top), tags=("position",)))
    # Tilted heads.
    for i, angle in enumerate((-30, -22, -15, -11, -6, -3, 4, 7, 12, 17, 25, 32)):
        name = NAMES[i % 4]
        add(Sample(f"tilt-{name}-{angle:+d}", heads=(Placement(name, HEAD, _centre(), angle),),
                   background=LIGHT_BACKGROUNDS[i % 3], tags=("tilt",)))
    # Backgrounds.
    for i, kind in enumerate(("noise", "blobs", "office", "brick", "gravel", "grass", "office", "blobs")):
        name = NAMES[i % 4]
        add(Sample(f"busy-{kind}-{name}-{i}", background=kind, heads=(Placement(name, HEAD, _centre()),),
                   tags=("background",)))
    for i, kind in enumerate(("gradient", "vignette", "fine_noise", "gradient", "fine_noise", "vignette")):
        name = NAMES[i % 4]
        add(Sample(f"smooth-{kind}-{name}-{i}", background=kind, heads=(Placement(name, HEAD, _centre()),),
                   tags=("background",)))
    for i, level in enumerate((40, 60, 70, 85, 95, 120, 150, 170)):
        name = NAMES[i % 4]
        add(Sample(f"dark-{level}-{name}", background=f"dark:{level}", heads=(Placement(name, HEAD, _centre()),),
                   tags=("background",)))
    for name in ("astronaut", "grace"):
        portrait = portraits()[name]
        add(Sample(f"original-{name}", canvas=original_photo(name).size, picture=f"original:{name}",
                   heads=(Placement(name, portrait.head, portrait.centre),), tags=("original",)))
    # Blur (sigma relative to the head height) and exposure.
    for i, relative in enumerate((0.0015, 0.003, 0.005, 0.008, 0.012, 0.02, 0.03, 0.045)):
        for name in NAMES[i % 2::2][:1] + NAMES[(i + 1) % 2::2][:1]:
            add(Sample(f"blur-{name}-{relative:.4f}", heads=(Placement(name, HEAD, _centre()),),
                       blur=relative * HEAD, tags=("blur",)))
    for ev in (-3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0, 2.5):
        for name in ("astronaut", "grace-mirror"):
            add(Sample(f"exposure-{name}-{ev:+.1f}", heads=(Placement(name, HEAD, _centre()),), ev=ev,
                       tags=("exposure",)))
    # Two faces.
    wide = (1800, 1300)
    for i, (a, b, size_b) in enumerate((("astronaut", "grace", 1.0), ("grace-mirror", "astronaut-mirror", 0.8),
                                        ("astronaut-mirror", "grace", 0.6))):
        pair = (Placement(a, 420, (560, 540)), Placement(b, 420 * size_b, (1240, 540 + 40 * i)))
        add(Sample(f"two-{i}", canvas=wide, background=LIGHT_BACKGROUNDS[i], heads=pair, tags=("faces",)))
        truth = _truth(pair[0])
        add(Sample(f"two-{i}-cropped", canvas=wide, background=LIGHT_BACKGROUNDS[i], heads=pair,
                   crop=crop_around(truth, 0.75), tags=("faces",)))
    add(Sample("two-close", canvas=(1500, 1300), heads=(Placement("astronaut", 380, (560, 520)),
                                                      Placement("grace", 360, (930, 560))), tags=("faces",)))
    pair = (Placement("grace-mirror", 300, (520, 520)), Placement("astronaut", 280, (860, 540)))
    add(Sample("two-in-crop", canvas=(1400, 1200), heads=pair, crop={"x": 300, "y": 200, "width": 780, "height": 1003},
               tags=("faces",)))
    add(Sample("three", canvas=(2000, 1200), heads=(Placement("astronaut", 330, (450, 480)),
                                                   Placement("grace", 330, (1000, 500)),
                                                   Placement("astronaut-mirror", 300, (1550, 470))), tags=("faces",)))
    # No face.
    for kind in ("plain:214,222,232", "noise", "office", "brick", "gradient"):
        add(Sample(f"empty-{kind}", background=kind, tags=("empty",)))
    for picture in ("coffee", "chelsea", "rocket", "horse", "coins", "hubble_deep_field"):
        add(Sample(f"picture-{picture}", picture=picture, tags=("empty",)))
    # Too few pixels: a small photo, and a head too small in a big photo.
    add(Sample("small-photo", canvas=(420, 520), heads=(Placement("astronaut", 300, (210, 230)),), tags=("size",)))
    add(Sample("small-photo-grace", canvas=(360, 480), heads=(Placement("grace", 280, (180, 210)),),
               tags=("size",)))
    add(Sample("tiny-head", canvas=(1600, 1200), heads=(Placement("grace", 220, (800, 500)),), tags=("size",)))
    add(Sample("big-head", canvas=(700, 900), heads=(Placement("astronaut", 800, (350, 440)),), tags=("size",)))
    return samples


# --------------------------------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------------------------------

def _zone(value: float, must_below: float | None = None, must_not_above: float | None = None,
          must_above: float | None = None, must_not_below: float | None = None) -> bool | None:
    """True / False / None by two thresholds with a don't-care zone between them."""
    if must_below is not None:
        if value < must_below:
            return True
        if value >= must_not_above:
            return False
        return None
    if value > must_above:
        return True
    if value <= must_not_below:
        return False
    return None


def labels(sample: Sample, crop: dict) -> dict[str, bool | None]:
    """What must (True), must not (False) or may (None) be raised on ``crop`` (the crop the assistant evaluated)."""
    x, y, width, height = crop["x"], crop["y"], crop["width"], crop["height"]
    truths = sample.truths()
    inside = [t for t in truths if x <= t.centre[0] <= x + width and y <= t.centre[1] <= y + height]
    label: dict[str, bool | None] = {code: None for code in LABELLED}
    label["resolution_too_low"] = width < 413 or height < 531
    if not inside:
        # No face: only the blocking verdict is judged (a false face would make every face check a false alarm
        # as well; counting them all would only repeat the no_face miss).
        label["no_face"] = True
        return label
    label["no_face"] = False
    main = max(inside, key=lambda t: t.head)
    counted = truths if sample.crop is None else inside
    label["several_faces"] = sum(1 for t in counted if t.head >= 0.5 * main.head) >= 2
    relative = sample.blur / main.head if sample.blur else 0.0
    label["blurred"] = _zone(relative, must_above=0.0099, must_not_below=0.0031)
    label["blurred:error"] = _zone(relative, must_above=0.0199, must_not_below=0.0051)
    if relative > 0.0199:
        # Blurred beyond recognition, the face is not found: the photo is refused for its blur ("blurred", error),
        # and its framing is not judged.
        label["no_face"] = None
        return label
    ratio = main.head / height
    # Zones 0.03 to 0.04 wide on each side of the thresholds: the head measure's error, person to person (+-0.045 of
    # the photo's height on average on the real portraits of bench/faces/, docs/photo-assistant.md).
    label["face_too_small"] = _zone(ratio, must_below=0.64, must_not_above=0.71)
    label["face_too_small:error"] = _zone(ratio, must_below=0.55, must_not_above=0.65)
    label["face_too_large"] = _zone(ratio, must_above=0.87, must_not_below=0.79)
    label["face_too_large:error"] = _zone(ratio, must_above=0.95, must_not_below=0.85)
    dx = abs(main.centre[0] - (x + width / 2)) / width
    top = (main.crown[1] - y) / height
    bottom = (y + height - main.chin[1]) / height
    if dx > 0.10 or top < -0.03 or top > 0.24 or bottom < -0.03:
        label["face_off_centre"] = True
    elif dx < 0.04 and 0.03 <= top <= 0.16 and bottom >= 0.03:
        label["face_off_centre"] = False
    label["face_tilted"] = _zone(abs(main.tilt), must_above=11.5, must_not_below=5.0)
    if sample.picture is None:
        _, plain = background(sample.background, (8, 8))
        # Another person behind the official is not a plain background either: don't care.
        label["background_not_plain"] = None if plain is None or len(truths) > 1 else not plain
        luminance = background_luminance(sample)
        label["background_too_dark"] = _zone(luminance, must_below=100, must_not_above=135)
    label["overexposed"] = _zone(sample.ev, must_above=1.49, must_not_below=0.5)
    label["underexposed"] = _zone(-sample.ev, must_above=1.49, must_not_below=0.5)
    return label


LABELLED = ("no_face", "several_faces", "face_too_small", "face_too_small:error", "face_too_large",
            "face_too_large:error", "face_off_centre", "face_tilted", "background_not_plain", "background_too_dark",
            "blurred", "blurred:error", "overexposed", "underexposed", "resolution_too_low")


# --------------------------------------------------------------------------------------------------------------------
# Running the set
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class Result:
    sample: Sample
    analysis: object  # imaging.assistant.Analysis
    labels: dict
    raised: dict = field(default_factory=dict)  # code (and code:level) -> bool


def run(sample: Sample, data: bytes | None = None) -> Result:
    """Analyse one sample (``data``: its JPEG, if already made) and compare the checks with its labels."""
    from chalicelib.imaging import assistant

    data = data if data is not None else jpeg(sample)
    if sample.via_jpeg:
        analysis = assistant.analyse_jpeg(data, sample.crop)
    else:
        analysis = assistant.analyse(Image.open(io.BytesIO(data)).convert("RGB"), sample.crop)
    label = labels(sample, analysis.crop)
    raised = {}
    for code in LABELLED:
        base, _, level = code.partition(":")
        actual = analysis.level_of(base)
        raised[code] = actual is not None and (not level or actual == level)
    return Result(sample, analysis, label, raised)


@functools.lru_cache(maxsize=1)
def results() -> tuple[Result, ...]:
    samples = build_set()
    files = [jpeg(sample) for sample in samples]  # all pictures first, then all analyses (steadier timings)
    return tuple(run(sample, data) for sample, data in zip(samples, files))


@dataclass(frozen=True)
class Score:
    code: str
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int

    @property
    def precision(self) -> float:
        raised = self.true_positives + self.false_positives
        return self.true_positives / raised if raised else 1.0

    @property
    def recall(self) -> float:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 1.0

    @property
    def positives(self) -> int:
        return self.true_positives + self.false_negatives

    @property
    def negatives(self) -> int:
        return self.true_negatives + self.false_positives


def scores(all_results=None) -> dict[str, Score]:
    all_results = all_results if all_results is not None else results()
    table = {}
    for code in LABELLED:
        tp = fp = fn = tn = 0
        for result in all_results:
            expected, raised = result.labels[code], result.raised[code]
            if expected is None:
                continue
            if expected and raised:
                tp += 1
            elif expected:
                fn += 1
            elif raised:
                fp += 1
            else:
                tn += 1
        table[code] = Score(code, tp, fp, fn, tn)
    return table


def mistakes(code: str, all_results=None) -> list[str]:
    all_results = all_results if all_results is not None else results()
    return [f"{r.sample.name}: expected {r.labels[code]}, raised {r.raised[code]}" for r in all_results
            if r.labels[code] is not None and r.labels[code] != r.raised[code]]


def _measured():
    """Check -> (measure, direction, threshold): the checks decided on a single figure of ``Analysis.measures``."""
    from chalicelib.imaging import assistant as a

    return {
        "face_too_small": ("face_ratio", "below", a.SIZE_WARNING_LOW),
        "face_too_small:error": ("face_ratio", "below", a.SIZE_ERROR_LOW),
        "face_too_large": ("face_ratio", "above", a.SIZE_WARNING_HIGH),
        "face_too_large:error": ("face_ratio", "above", a.SIZE_ERROR_HIGH),
        "face_tilted": ("abs_tilt", "above", a.TILT_MAX),
        "background_not_plain": ("background_texture", "above", a.BACKGROUND_TEXTURE_MAX),
        "background_not_plain ": ("background_spread", "above", a.BACKGROUND_SPREAD_MAX),
        "background_too_dark": ("background_luminance", "below", a.BACKGROUND_LUMINANCE_MIN),
        "blurred": ("sharpness", "below", a.SHARPNESS_WARNING),
        "blurred:error": ("sharpness", "below", a.SHARPNESS_ERROR),
        "overexposed": ("face_clipped", "above", a.OVEREXPOSED_CLIPPED),
        "underexposed": ("brightest", "below", a.UNDEREXPOSED_BRIGHTEST),
    }


@dataclass(frozen=True)
class Margin:
    """For one threshold: the labelled positive closest to it and the labelled negative closest to it."""
    code: str
    measure: str
    direction: str
    threshold: float
    closest_positive: float | None  # None: no positive has this measure
    closest_negative: float | None


def margins(all_results=None) -> list[Margin]:
    all_results = all_results if all_results is not None else results()
    rows = []
    for code, (measure, direction, threshold) in _measured().items():
        label_code = code.strip()
        positives, negatives = [], []
        for result in all_results:
            measures = dict(result.analysis.measures)
            if measures.get("tilt") is not None:
                measures["abs_tilt"] = abs(measures["tilt"])
            value = measures.get(measure)
            expected = result.labels[label_code]
            if value is None or expected is None:
                continue
            (positives if expected else negatives).append(value)
        pick_positive, pick_negative = (max, min) if direction == "below" else (min, max)
        rows.append(Margin(code.strip(), measure, direction, threshold,
                           pick_positive(positives) if positives else None,
                           pick_negative(negatives) if negatives else None))
    return rows


def _main(argv=None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measures", action="store_true", help="print every sample's measures and checks")
    parser.add_argument("--mistakes", action="store_true", help="print every wrong verdict")
    args = parser.parse_args(argv)
    all_results = results()
    if args.measures:
        for r in all_results:
            a = r.analysis
            print(r.sample.name, sorted(a.codes), {k: v for k, v in a.measures.items()}, f"{a.seconds * 1000:.0f} ms")
    print(f"{len(all_results)} samples")
    print("| check | positives | negatives | precision | recall |")
    print("|---|---|---|---|---|")
    for code, score in scores(all_results).items():
        print(f"| `{code}` | {score.positives} | {score.negatives} | {score.precision:.2f} | {score.recall:.2f} |")
    print()
    print("| check | measure | raised when | threshold | closest positive | closest negative |")
    print("|---|---|---|---|---|---|")
    for m in margins(all_results):
        print(f"| `{m.code}` | {m.measure} | {m.direction} | {m.threshold} | {m.closest_positive} | "
              f"{m.closest_negative} |")
    if args.mistakes:
        for code in LABELLED:
            for line in mistakes(code, all_results):
                print(f"{code}: {line}")


if __name__ == "__main__":
    _main()
