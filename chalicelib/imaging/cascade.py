"""OpenCV's Haar cascades evaluated with numpy alone: ``CascadeClassifier.detectMultiScale`` without OpenCV.

Why: OpenCV and its libraries weigh 162 MB installed, which with numpy and the other runtime dependencies does not fit
in a Lambda package (250 MB unzipped); numpy alone does (docs/photo-assistant.md, "Package size"). The cascade files
are OpenCV's own (``cascades/``, see its README), read from their XML; nothing is downloaded.

What is reproduced, from OpenCV 4.x's ``modules/objdetect/src/cascadedetect.cpp`` (the "new" cascade format, Haar
features, boosted stumps or trees), so that the boxes are OpenCV's:

- the scales: factor 1, ``scale_factor``, ``scale_factor``^2, ... while the window (rounded) fits the image and
  ``max_size``; those smaller than ``min_size`` skipped. The factor is kept as a 32-bit float, as OpenCV does;
- for each scale, the image is resized to (round(width / scale), round(height / scale)) with OpenCV's fixed-point
  bilinear interpolation (``resize_bilinear``, bit for bit), and its integral, squared integral and (for cascades
  with tilted features) 45-degree integral are computed;
- windows on a grid of 2 pixels of the resized image below scale 2, 1 pixel from scale 2 (OpenCV's ``ystep``), in
  both directions; a window that fails the first stage makes OpenCV skip the next window of its row (reproduced:
  ``_skipped``);
- the variance normalisation: the window's standard deviation over its inner rectangle (1 pixel margin) divides every
  feature, and a window whose standard deviation is 10 grey levels or less is rejected outright;
- feature sums in exact integers, scaled in 32-bit floats, compared with the 32-bit thresholds; stage sums in double,
  compared with the stage threshold less 1e-5: so the decisions are OpenCV's bit for bit;
- ``group_rectangles`` (``cv::groupRectangles``, eps 0.2): clusters of similar rectangles, averaged, kept when more
  than ``min_neighbors`` strong, small ones inside a stronger one dropped; then clipped to the image.

How it is vectorised: all the scales of one call are packed in one buffer (as OpenCV's own ``sbuf``), so that a
feature is the same set of offsets for every window; each stage is evaluated for every window still alive at once,
and only the windows that pass go on to the next stage (early rejection, as in OpenCV's per-window loop). For many
windows, each feature is computed corner by corner over all of them (``np.take`` into rows that stay in the cache);
for a few, all the stage's corners are gathered at once. Python's own work is per stage and per feature, never per
window. About 1.7 times OpenCV's time on one thread (docs/photo-assistant.md, "Time").

numpy is imported at module level: this module is only imported, lazily, by ``imaging.faces``.
"""

from __future__ import annotations

import functools
import math
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CASCADE_DIR = Path(__file__).resolve().parent / "cascades"
GROUP_EPS = 0.2  # detectMultiScale's grouping tolerance
THRESHOLD_EPS = np.float32(1e-5)  # subtracted from each stage threshold when a cascade is read, as OpenCV does
MIN_WINDOW_STD = 10.0  # a window with a lower standard deviation is rejected (OpenCV: area * norm factor < 0.1)
_BLOCK = 65_536  # windows evaluated together: bounds the memory, keeps the rows in the processor's cache
_STREAM_MIN = 2_000  # from this many windows, features are computed corner by corner rather than in one gather
_GATHER_ELEMENTS = 262_144  # otherwise, windows x corners per gather (temporaries of a few MB, in the cache)


# --------------------------------------------------------------------------------------------------------------------
# The cascade file
# --------------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Stage:
    """One stage: its trees (stumps: trees of one node), their nodes in file order, each node with its own feature."""
    threshold: np.float32  # the stage passes when the sum of its trees' leaves is at least this
    corners: np.ndarray  # (4 x rectangles, 3): x, y in the window, 1 when read in the tilted integral
    rect_weights: np.ndarray  # (rectangles, 1) int32; a rectangle's corners count (+w, -w, -w, +w)
    node_rects: np.ndarray  # (nodes, most rectangles of a feature): each node's rectangles, padded with an extra index
    node_thresholds: np.ndarray  # (nodes,) float32: a node "goes left" when its feature is below its threshold
    leaves: np.ndarray  # float32, the trees' leaves one after the other
    stumps: bool  # every tree is a single node: leaves 2t (left) and 2t+1 (right)
    node_rows: np.ndarray  # (trees, depth): node j of each tree (its root when it has fewer nodes)
    tables: np.ndarray  # (trees, 2 ** depth) float32: leaf value for each combination of the nodes' tests
    # the same as Python lists, for the loops over features (float32 values as exact Python floats)
    starts_list: list  # each node's first corner in ``corners``, and the end
    weights_list: list  # each rectangle's weight
    thresholds_list: list
    leaves_list: list


@dataclass(frozen=True)
class Cascade:
    """A boosted Haar cascade (OpenCV's "new" XML format: ``<cascade>`` with ``<stages>`` and ``<features>``)."""
    name: str
    window: tuple[int, int]  # (width, height) of the training window
    stages: tuple[_Stage, ...]
    tilted: bool  # some features are rotated by 45 degrees: the tilted integral is needed

    @classmethod
    def from_xml(cls, path: Path | str) -> Cascade:
        root = ElementTree.parse(path).getroot()
        node = root.find("cascade")
        if node is None or node.findtext("stageType", "").strip() != "BOOST" \
                or node.findtext("featureType", "").strip() != "HAAR":
            raise ValueError(f"{path}: not a boosted Haar cascade in OpenCV's new format")
        if int(node.findtext("featureParams/maxCatCount", "0")) != 0:
            raise ValueError(f"{path}: categorical features are not supported")
        width, height = int(node.findtext("width")), int(node.findtext("height"))
        features = [_read_feature(feature, width, height) for feature in node.find("features")]
        stages = tuple(_read_stage(stage, features) for stage in node.find("stages"))
        tilted = any(flag for _, flag in features)
        return cls(Path(path).name, (width, height), stages, tilted)

    @property
    def feature_count(self) -> int:
        return sum(len(stage.node_thresholds) for stage in self.stages)

    def detect_multi_scale(self, image, scale_factor: float = 1.1, min_neighbors: int = 3,
                           min_size: tuple[int, int] = (0, 0),
                           max_size: tuple[int, int] = (0, 0)) -> list[tuple[int, int, int, int]]:
        """``cv2.CascadeClassifier.detectMultiScale`` on a 2-D uint8 array: [(x, y, width, height), ...]."""
        candidates = self.candidates(image, scale_factor, min_size, max_size)
        found = group_rectangles(candidates, min_neighbors, GROUP_EPS)
        height, width = np.shape(image)[:2]
        return _clip(found, width, height)

    def candidates(self, image, scale_factor: float = 1.1, min_size: tuple[int, int] = (0, 0),
                   max_size: tuple[int, int] = (0, 0)) -> list[tuple[int, int, int, int]]:
        """Every window accepted by all the stages, before grouping (OpenCV's order: scale, row, column)."""
        if scale_factor <= 1:
            raise ValueError("scale_factor must be greater than 1")
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 2:
            raise ValueError("a 2-D uint8 (grayscale) image is expected")
        scales = self.scales(image.shape[1], image.shape[0], scale_factor, min_size, max_size)
        if not scales or image.size == 0:
            return []
        return _detect(self, image, scales)

    def scales(self, width: int, height: int, scale_factor: float, min_size=(0, 0), max_size=(0, 0)) -> list:
        """The scale factors searched (float32, as OpenCV keeps them)."""
        max_w, max_h = max_size
        if max_w == 0 or max_h == 0:
            max_w, max_h = width, height
        found = []
        factor = 1.0
        while True:
            window_w = _round(self.window[0] * factor)
            window_h = _round(self.window[1] * factor)
            if window_w > max_w or window_h > max_h or window_w > width or window_h > height:
                break
            if window_w >= min_size[0] and window_h >= min_size[1]:
                found.append(np.float32(factor))
            factor *= scale_factor
        return found


def _read_feature(node, width: int, height: int) -> tuple[list[tuple[int, int, int, int, int]], bool]:
    rects = []
    for rect in node.find("rects"):
        values = rect.text.split()
        x, y, w, h = (int(v) for v in values[:4])
        weight = float(values[4])
        if weight != int(weight):
            raise ValueError("non-integer rectangle weights are not supported")
        rects.append((x, y, w, h, int(weight)))
    tilted = int(node.findtext("tilted", "0").strip() or 0) != 0
    for x, y, w, h, _ in rects:  # a rectangle outside the window would read another window's pixels
        inside = (x - h >= 0 and x + w <= width and y + w + h <= height) if tilted else \
            (x >= 0 and y >= 0 and x + w <= width and y + h <= height)
        if not inside:
            raise ValueError("a feature's rectangle lies outside the window")
    return rects, tilted


def _read_stage(node, features) -> _Stage:
    threshold = np.float32(np.float32(float(node.findtext("stageThreshold"))) - THRESHOLD_EPS)
    corners, coefficients, starts, thresholds, left, right = [], [], [], [], [], []
    roots, leaf_starts, leaves = [], [], []
    depth = 0
    for weak in node.find("weakClassifiers"):
        values = weak.findtext("internalNodes").split()
        if len(values) % 4:
            raise ValueError("internal nodes must be (left, right, feature, threshold)")
        tree_leaves = [float(v) for v in weak.findtext("leafValues").split()]
        nodes = len(values) // 4
        if len(tree_leaves) != nodes + 1:
            raise ValueError("a tree must have one leaf more than its nodes")
        roots.append(len(thresholds))
        leaf_starts.append(len(leaves))
        leaves += tree_leaves
        depth = max(depth, nodes)
        for i in range(nodes):
            l_, r_, feature, node_threshold = values[4 * i: 4 * i + 4]
            left.append(int(l_))
            right.append(int(r_))
            thresholds.append(float(node_threshold))
            rects, tilted = features[int(feature)]
            starts.append(len(corners))
            for x, y, w, h, weight in rects:
                if tilted:  # OpenCV's CV_TILTED_OFS: (x, y), (x - h, y + h), (x + w, y + w), (x + w - h, y + w + h)
                    points = ((x, y), (x - h, y + h), (x + w, y + w), (x + w - h, y + w + h))
                else:
                    points = ((x, y), (x + w, y), (x, y + h), (x + w, y + h))
                for (px, py), sign in zip(points, (1, -1, -1, 1)):
                    corners.append((px, py, int(tilted)))
                    coefficients.append(sign * weight)
    stumps = depth == 1  # as OpenCV: then leaf 0 is the left one, leaf 1 the right one
    if depth > 8:
        raise ValueError("trees of more than 8 nodes are not supported")
    counts = np.diff(roots + [len(thresholds)])
    node_rows = np.array([[root + (j if j < count else 0) for j in range(depth)]
                          for root, count in zip(roots, counts)], np.int64).reshape(len(roots), depth)
    tables = np.zeros((len(roots), 2 ** depth), np.float32)
    for tree, (root, first_leaf) in enumerate(zip(roots, leaf_starts)):
        for code in range(2 ** depth):  # OpenCV's walk: from the root, left when the test holds, until a leaf (<= 0)
            position = 0
            for _ in range(depth):
                position = left[root + position] if code >> position & 1 else right[root + position]
                if position <= 0:
                    break
            else:
                raise ValueError("a tree's walk does not reach a leaf")
            tables[tree, code] = leaves[first_leaf - position]
    node_thresholds, leaf_values = np.array(thresholds, np.float32), np.array(leaves, np.float32)
    rect_starts = [start // 4 for start in starts] + [len(corners) // 4]
    widest = max(b - a for a, b in zip(rect_starts, rect_starts[1:]))
    node_rects = np.array([list(range(a, b)) + [len(corners) // 4] * (widest - (b - a))  # padding: a zero row
                           for a, b in zip(rect_starts, rect_starts[1:])], np.int64)
    return _Stage(threshold=threshold, corners=np.array(corners, np.int64).reshape(-1, 3),
                  rect_weights=np.array(coefficients[0::4], np.int32)[:, None], node_rects=node_rects,
                  node_thresholds=node_thresholds, leaves=leaf_values, stumps=stumps, node_rows=node_rows,
                  tables=tables, starts_list=starts + [len(corners)], weights_list=coefficients[0::4],
                  thresholds_list=node_thresholds.tolist(), leaves_list=leaf_values.tolist())


@functools.lru_cache(maxsize=None)
def load(name: str) -> Cascade:
    """A cascade shipped in ``cascades/`` (e.g. ``haarcascade_frontalface_default.xml``), read once per process."""
    path = CASCADE_DIR / name
    if path.parent != CASCADE_DIR or not path.is_file():
        raise FileNotFoundError(f"no cascade {name!r} in {CASCADE_DIR}")
    return Cascade.from_xml(path)


# --------------------------------------------------------------------------------------------------------------------
# Image operations, as OpenCV computes them
# --------------------------------------------------------------------------------------------------------------------

def _round(value) -> int:
    """cvRound: to the nearest integer, halves to even (the processor's default rounding, and Python's)."""
    return round(float(value))


def _bilinear_coefficients(source: int, target: int):
    """Along one axis of OpenCV's bit-exact bilinear resize: for each target pixel, the two source pixels and their
    8-bit weights (summing to 256), and whether it lies beyond the first or last source pixel's centre (it then
    takes that pixel's value)."""
    scale = 1.0 / (target / source)
    position = scale * (np.arange(target, dtype=np.float64) + 0.5) - 0.5  # pixel centres aligned
    first = np.floor(position).astype(np.int64)
    before, after = first < 0, first >= source - 1
    weight1 = np.rint((position - first) * 256).astype(np.int64)
    weight1[before | after] = 0
    first = np.clip(first, 0, source - 1)
    return first, np.minimum(first + 1, source - 1), 256 - weight1, weight1, before | after


def resize_bilinear(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A 2-D uint8 array resized to ``size`` (width, height) as ``detectMultiScale`` resizes it for each scale: bit for
    bit ``cv2.resize(image, size, interpolation=cv2.INTER_LINEAR_EXACT)`` (OpenCV's fixed-point bilinear: 8-bit
    weights, horizontal then vertical, rounded once at the end; the same size is a copy, an exact halving averages
    2 x 2 blocks). (Measured: the pixels detectMultiScale evaluates are those of INTER_LINEAR_EXACT, not those of
    ``cv2.resize``'s default INTER_LINEAR, whose 11-bit weights round differently.)"""
    width, height = size
    source_h, source_w = image.shape
    if (width, height) == (source_w, source_h):
        return image.copy()
    if source_w == 2 * width and source_h == 2 * height:
        blocks = image.astype(np.int32).reshape(height, 2, width, 2).sum(axis=(1, 3))
        return ((blocks + 2) >> 2).astype(np.uint8)
    x0, x1, a0, a1, _ = _bilinear_coefficients(source_w, width)
    y0, y1, b0, b1, y_edge = _bilinear_coefficients(source_h, height)
    rows = np.union1d(y0, y1)
    source = image[rows].astype(np.int32)
    horizontal = np.zeros((source_h, width), np.int32)  # 8 fractional bits
    horizontal[rows] = source[:, x0] * a0.astype(np.int32) + source[:, x1] * a1.astype(np.int32)
    out = (b0[:, None] * horizontal[y0] + b1[:, None] * horizontal[y1] + (1 << 15)) >> 16
    out[y_edge] = (horizontal[y0[y_edge]] + 128) >> 8
    return np.clip(out, 0, 255).astype(np.uint8)


def tilted_integral(image: np.ndarray) -> np.ndarray:
    """``cv2.integral3``'s tilted sum: at (X, Y), the sum of the pixels (x, y) with y < Y and |x - X + 1| <= Y - 1 - y
    (a triangle pointing down to pixel (X - 1, Y - 1)), (h + 1, w + 1).

    Row y contributes P(X + (Y - 1 - y), y) - P(X - 1 - (Y - 1 - y), y), P being its prefix sums (P(k, y) = the sum of
    its first k pixels, clamped to 0 and to the row's total). The first terms lie on a line x + y = constant, the
    second on a line x - y = constant: cumulative sums along the two diagonals give both.
    """
    height, width = image.shape
    pad = height + 1
    # prefix[y, k + pad] = P(k, y) for k in [-pad, width + pad]
    prefix = np.zeros((height, width + 2 * pad + 1), np.int64)
    prefix[:, pad + 1: pad + width + 1] = image.astype(np.int64).cumsum(1)
    prefix[:, pad + width + 1:] = prefix[:, pad + width: pad + width + 1]
    rows = np.arange(height)[:, None]
    columns = np.arange(width + 1)[None, :]
    # along x + y = X + Y - 1: at row y, P(X + Y - 1 - y, y); accumulate over y for a fixed s = X + Y - 1
    # along x - y = X - Y: at row y, P(X - Y + y, y); accumulate over y for a fixed d = X - Y
    # A[y, s] = sum_{y' <= y} P(s - y', y'), B[y, d] = sum_{y' <= y} P(d + y', y'), d offset by pad
    s_values = np.arange(width + height + 1)[None, :]  # s from 0 to width + height
    a = prefix[rows, np.clip(s_values - rows, -pad, width + pad) + pad].cumsum(0)
    d_values = np.arange(-height - 1, width + 1)[None, :]
    b = prefix[rows, np.clip(d_values + rows, -pad, width + pad) + pad].cumsum(0)
    out = np.zeros((height + 1, width + 1), np.int64)
    big_y = np.arange(1, height + 1)[:, None]
    # T(X, Y) = A[Y - 1, X + Y - 1] - B[Y - 1, X - Y]
    out[1:, :] = (a[big_y - 1, columns + big_y - 1]
                  - b[big_y - 1, columns - big_y + height + 1])
    return out


# --------------------------------------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------------------------------------

def _detect(cascade: Cascade, image: np.ndarray, scales: list) -> list[tuple[int, int, int, int]]:
    win_w, win_h = cascade.window
    height, width = image.shape
    layers = []  # (scale, resized size)
    for scale in scales:
        size = (_round(np.float32(width) / scale), _round(np.float32(height) / scale))
        layers.append((scale, size))
    # One buffer for every scale, rows stacked, with a common row length (``step``): a corner of a feature is then the
    # same offset from every window's top-left point. The tilted integral follows the plain one in the same buffer.
    # int32 as OpenCV: on a very large image the sums wrap modulo 2**32, their differences stay exact.
    step = max(size[0] for _, size in layers) + 1
    row_starts = np.cumsum([0] + [size[1] + 1 for _, size in layers])
    plane = int(row_starts[-1]) * step
    sums = np.zeros(plane * (2 if cascade.tilted else 1), np.int32)
    bases, grids, norms, valids = [], [], [], []
    for index, (scale, (w, h)) in enumerate(layers):
        resized = resize_bilinear(image, (w, h))
        top = int(row_starts[index])
        cumulative = resized.cumsum(0, dtype=np.int32).cumsum(1, dtype=np.int32)
        sums[:plane].reshape(-1, step)[top + 1: top + h + 1, 1: w + 1] = cumulative
        if cascade.tilted:
            sums[plane:].reshape(-1, step)[top: top + h + 1, : w + 1] = tilted_integral(resized).astype(np.int32)
        ystep = 1 if scale >= 2 else 2
        rows, cols = len(range(0, max(h + 1 - win_h, 0), ystep)), len(range(0, max(w + 1 - win_w, 0), ystep))
        grids.append((rows, cols))
        bases.append(((top + np.arange(rows)[:, None] * ystep) * step + np.arange(cols)[None, :] * ystep).ravel())
        if rows and cols:
            norm, valid = _variance_factors(resized, cumulative, (rows, cols), ystep, cascade.window)
            norms.append(norm)
            valids.append(valid)
    base = np.concatenate(bases)
    if base.size == 0:
        return []
    layer = np.repeat(np.arange(len(layers)), [rows * cols for rows, cols in grids])
    norm, valid = np.concatenate(norms), np.concatenate(valids)

    alive = np.flatnonzero(valid)
    for stage_index, stage in enumerate(cascade.stages):
        if alive.size == 0:
            break
        passed = _stage_passes(stage, sums, base[alive], norm[alive], step, plane)
        if stage_index == 0:
            failed = np.zeros(base.size, bool)
            failed[alive[~passed]] = True
            keep = passed & ~_skipped(failed, grids)[alive]
            alive = alive[keep]
        else:
            alive = alive[passed]

    # OpenCV's rectangle: (round(x * scale), round(y * scale)) and the window times the scale, in float32
    layer_of = layer[alive]
    y, x = np.divmod(base[alive], step)
    y -= row_starts[layer_of]
    factor = np.array([scale for scale, _ in layers], np.float32)[layer_of]
    rects = np.stack([np.rint(x.astype(np.float32) * factor), np.rint(y.astype(np.float32) * factor),
                      np.rint(np.float32(win_w) * factor), np.rint(np.float32(win_h) * factor)], axis=1)
    return [tuple(rect) for rect in rects.astype(np.int64).tolist()]


def _variance_factors(resized: np.ndarray, cumulative: np.ndarray, grid: tuple[int, int], ystep: int,
                      window: tuple[int, int]):
    """Each window's normalisation factor (float32) and whether OpenCV evaluates it at all, for the windows of one
    scale (a grid of ``grid`` rows and columns, ``ystep`` pixels apart).

    Over the window's inner rectangle (a margin of 1 pixel), n = its area, s = the sum and q = the sum of squares of
    its pixels: the factor is 1 / sqrt(n q - s**2) (one over n times the standard deviation); a window whose
    standard deviation is 10 grey levels or less (n times the factor >= 0.1), or zero, is rejected.
    """
    rows, cols = grid
    win_w, win_h = window
    squares = (resized.astype(np.uint32) ** 2).cumsum(0, dtype=np.uint32).cumsum(1, dtype=np.uint32)  # mod 2**32

    def inner_sum(cumulative):
        # inner rectangle of the window at (x, y): pixels x+1 .. x+w-2, y+1 .. y+h-2, from the cumulative sums
        def at(dy, dx):
            return cumulative[dy: dy + (rows - 1) * ystep + 1: ystep, dx: dx + (cols - 1) * ystep + 1: ystep]
        return at(win_h - 2, win_w - 2) - at(0, win_w - 2) - at(win_h - 2, 0) + at(0, 0)

    window_sum = inner_sum(cumulative).ravel().astype(np.float64)
    window_squares = inner_sum(squares).ravel().astype(np.float64)  # exact: below 2**32 for a window
    area = float((win_w - 2) * (win_h - 2))
    spread = area * window_squares - window_sum * window_sum
    positive = spread > 0
    norm = np.ones(spread.size, np.float32)
    norm[positive] = (1.0 / np.sqrt(spread[positive])).astype(np.float32)
    return norm, positive & (area * norm.astype(np.float64) < 1.0 / MIN_WINDOW_STD)


def _stage_passes(stage: _Stage, sums: np.ndarray, base: np.ndarray, norm: np.ndarray, step: int,
                  plane: int) -> np.ndarray:
    """Which of the windows at ``base`` pass ``stage`` (``norm``: their variance normalisation factors).

    A window's feature value is the exact integer combination of the integral at the feature's corners (int32, as
    OpenCV: a wrap-around of the integral cancels out, the value being small), times the window's factor in float32,
    compared with the node's float32 threshold; the leaves are added in double, tree after tree, and the sum compared
    with the stage's threshold: OpenCV's arithmetic, so its decisions.
    """
    offsets = stage.corners[:, 0] + stage.corners[:, 1] * step + stage.corners[:, 2] * plane
    streamed = base.size >= _STREAM_MIN
    if streamed:
        offsets = offsets.tolist()
    block_size = _BLOCK if streamed else max(64, _GATHER_ELEMENTS // len(offsets))
    passed = np.empty(base.size, bool)
    for start in range(0, base.size, block_size):
        block, factors = base[start: start + block_size], norm[start: start + block_size]
        if streamed and stage.stumps:
            total = _stump_sums_streamed(stage, sums, block, offsets, factors)
        else:
            values = _values_streamed(stage, sums, block, offsets) if streamed \
                else _values_gathered(stage, sums, block, offsets)
            go_left = values.astype(np.float32) * factors < stage.node_thresholds[:, None]
            if stage.stumps:
                picked = np.where(go_left, stage.leaves[0::2, None], stage.leaves[1::2, None])
            else:
                picked = _tree_leaves(stage, go_left)
            total = picked.sum(axis=0, dtype=np.float64)  # over the first axis: the rows added one by one, in order
        passed[start: start + block.size] = total >= stage.threshold
    return passed


def _values_gathered(stage: _Stage, sums: np.ndarray, block: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Integer value of each node's feature (rows) for each window (columns), in one gather: for a few windows."""
    gathered = np.take(sums, offsets[:, None] + block[None, :], mode="clip")
    corners = gathered.reshape(-1, 4, block.size)  # each rectangle's corners: (+, -, -, +) times its weight
    rects = np.zeros((corners.shape[0] + 1, block.size), np.int32)  # and a last row of zeros
    body = rects[:-1]
    np.subtract(corners[:, 0], corners[:, 1], out=body)
    body -= corners[:, 2]
    body += corners[:, 3]
    body *= stage.rect_weights
    values = rects[stage.node_rects[:, 0]]
    for column in range(1, stage.node_rects.shape[1]):
        values += rects[stage.node_rects[:, column]]
    return values


def _rect_sums(stage: _Stage, sums: np.ndarray, block: np.ndarray, offsets: list, node: int, total: np.ndarray,
               corner: np.ndarray, rect: np.ndarray) -> None:
    """``total`` = the integer value of ``node``'s feature for the windows at ``block``, one corner at a time."""
    take, add, subtract = np.take, np.add, np.subtract
    total.fill(0)
    for first in range(stage.starts_list[node], stage.starts_list[node + 1], 4):
        weight = stage.weights_list[first // 4]
        if weight == 1 or weight == -1:
            plus, minus = (add, subtract) if weight == 1 else (subtract, add)
            target = total
            take(sums[offsets[first]:], block, out=corner, mode="clip")
            plus(target, corner, out=target)
        else:
            plus, minus, target = add, subtract, rect
            take(sums[offsets[first]:], block, out=rect, mode="clip")
        for index, operation in ((first + 1, minus), (first + 2, minus), (first + 3, plus)):
            take(sums[offsets[index]:], block, out=corner, mode="clip")
            operation(target, corner, out=target)
        if target is rect:
            np.multiply(rect, weight, out=rect)
            add(total, rect, out=total)


def _values_streamed(stage: _Stage, sums: np.ndarray, block: np.ndarray, offsets: list) -> np.ndarray:
    """The same, one rectangle corner at a time over all the windows: for many windows, where a single gather's
    large temporaries cost more than the loop (about 3 times quicker for 100,000 windows)."""
    values = np.empty((len(stage.node_thresholds), block.size), np.int32)
    corner, rect = np.empty(block.size, np.int32), np.empty(block.size, np.int32)
    for node in range(len(values)):
        _rect_sums(stage, sums, block, offsets, node, values[node], corner, rect)
    return values


def _stump_sums_streamed(stage: _Stage, sums: np.ndarray, block: np.ndarray, offsets: list,
                         factors: np.ndarray) -> np.ndarray:
    """The stage sum of a cascade of stumps for many windows, feature after feature (rows that stay in the cache)."""
    total = np.zeros(block.size, np.float64)
    value, corner, rect = (np.empty(block.size, np.int32) for _ in range(3))
    scaled = np.empty(block.size, np.float32)
    left = np.empty(block.size, bool)
    for node, threshold in enumerate(stage.thresholds_list):
        _rect_sums(stage, sums, block, offsets, node, value, corner, rect)
        np.multiply(value, factors, out=scaled)  # exact integer in float32, times the factor: float32 rounding
        np.less(scaled, threshold, out=left)
        total += np.where(left, stage.leaves_list[2 * node], stage.leaves_list[2 * node + 1])
    return total


def _tree_leaves(stage: _Stage, go_left: np.ndarray) -> np.ndarray:
    """Leaf value of each tree (rows) for each window (columns); ``go_left`` (nodes, windows): each node's test.

    A tree's leaf is a function of its nodes' tests alone: ``stage.tables`` holds, for each tree, the leaf value of
    every combination of them (bit j: node j goes left), so the walk down the tree is one lookup."""
    trees, depth = stage.node_rows.shape
    code = np.zeros((trees, go_left.shape[1]), np.int64)
    for bit in range(depth):
        code += go_left[stage.node_rows[:, bit]].astype(np.int64) << bit
    code += (np.arange(trees) << depth)[:, None]
    return stage.tables.ravel()[code]


def _skipped(failed: np.ndarray, grids: list[tuple[int, int]]) -> np.ndarray:
    """Windows OpenCV never evaluates: after a window rejected by the first stage, its row's next window is skipped.

    In a run of consecutive first-stage failures the first one is always evaluated, then every other one; so the
    window right after a run is skipped when the run's length is odd (rows are searched from the left).
    """
    skipped = np.zeros(failed.size, bool)
    start = 0
    for rows, cols in grids:
        count = rows * cols
        if count == 0:
            continue
        grid = failed[start: start + count].reshape(rows, cols)
        index = np.broadcast_to(np.arange(cols), (rows, cols))
        # last index at or before each position that did not fail (-1: none in the row)
        last_ok = np.maximum.accumulate(np.where(grid, -1, index), axis=1)
        run = index - last_ok  # length of the run of failures ending at each position (0 if it did not fail)
        after = np.zeros((rows, cols), bool)
        after[:, 1:] = run[:, :-1] % 2 == 1
        skipped[start: start + count] = after.ravel()
        start += count
    return skipped


# --------------------------------------------------------------------------------------------------------------------
# Grouping
# --------------------------------------------------------------------------------------------------------------------

def group_rectangles(rects, group_threshold: int, eps: float = GROUP_EPS) -> list[tuple[int, int, int, int]]:
    """``cv2.groupRectangles(rects, group_threshold, eps)``'s rectangles (without their weights).

    Rectangles are similar when each of their sides is within eps * (smaller width + smaller height) / 2 of the
    other's; classes are the connected groups of similar rectangles. A class is kept when it has more than
    ``group_threshold`` members, as the average of its members, unless it lies inside (with a margin of eps times
    the other's size) another kept class that has more members (more than max(3, its own)) or it has fewer than 3.
    With ``group_threshold`` <= 0 the rectangles are returned as they are.
    """
    rects = [tuple(int(v) for v in rect) for rect in rects]
    if group_threshold <= 0 or not rects:
        return rects
    r = np.array(rects, np.int64)
    x, y, w, h = (r[:, k].astype(np.int32) for k in range(4))
    # |difference| <= eps * (smaller width + smaller height) / 2, computed by OpenCV in double: for integers, the same
    # as <= the floor of that bound, read from a table
    sizes = np.minimum.outer(w, w)
    sizes += np.minimum.outer(h, h)
    bound = np.floor(eps * np.arange(int(sizes.max()) + 1, dtype=np.float64) * 0.5).astype(np.int32)[sizes]
    similar = np.abs(np.subtract.outer(x, x)) <= bound
    for edge in (y, x + w, y + h):
        similar &= np.abs(np.subtract.outer(edge, edge)) <= bound
    classes = _components(similar)  # numbered in the order of their first rectangle, as cv::partition does
    count = np.bincount(classes)
    totals = np.zeros((count.size, 4), np.int64)
    np.add.at(totals, classes, r)
    inverse = np.float32(1) / count.astype(np.float32)
    averaged = np.rint(totals.astype(np.float32) * inverse[:, None]).astype(np.int64)
    boxes, counts = averaged.tolist(), count.tolist()
    strong = [i for i, n in enumerate(counts) if n > group_threshold]
    kept = []
    for i in strong:
        (x1, y1, w1, h1), n1 = boxes[i], counts[i]
        # dropped when inside (with a margin) a stronger class: OpenCV's filter of small faces inside large ones
        inside_stronger = False
        for j in strong:
            (x2, y2, w2, h2), n2 = boxes[j], counts[j]
            dx, dy = _round(w2 * eps), _round(h2 * eps)
            if (j != i and x1 >= x2 - dx and y1 >= y2 - dy and x1 + w1 <= x2 + w2 + dx and y1 + h1 <= y2 + h2 + dy
                    and (n2 > max(3, n1) or n1 < 3)):
                inside_stronger = True
                break
        if not inside_stronger:
            kept.append((x1, y1, w1, h1))
    return kept


def _components(similar: np.ndarray) -> np.ndarray:
    """Connected components of a symmetric adjacency matrix, numbered in the order of their smallest index."""
    size = similar.shape[0]
    labels = np.full(size, -1, np.int64)
    component = 0
    for seed in range(size):
        if labels[seed] >= 0:
            continue
        members = np.zeros(size, bool)
        members[seed] = True
        frontier = members
        while True:
            reached = similar[frontier].any(axis=0) & ~members
            if not reached.any():
                break
            members |= reached
            frontier = reached
        labels[members] = component
        component += 1
    return labels


def _clip(rects, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Rectangles intersected with the image; empty ones dropped (OpenCV's clipObjects)."""
    clipped = []
    for x, y, w, h in rects:
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, width), min(y + h, height)
        if x1 > x0 and y1 > y0:
            clipped.append((x0, y0, x1 - x0, y1 - y0))
    return clipped


# --------------------------------------------------------------------------------------------------------------------
# The other OpenCV operations of the face search (imaging.faces), bit for bit
# --------------------------------------------------------------------------------------------------------------------

def equalize_hist(gray: np.ndarray) -> np.ndarray:
    """``cv2.equalizeHist``: grey levels spread by the cumulative histogram, the darkest present level to 0."""
    histogram = np.bincount(gray.ravel(), minlength=256)
    darkest = int(np.flatnonzero(histogram)[0])
    if histogram[darkest] == gray.size:
        return np.full_like(gray, darkest)
    scale = np.float32(255.0) / np.float32(gray.size - histogram[darkest])
    above = (np.cumsum(histogram) - histogram[darkest]).astype(np.float32)  # pixels in (darkest, level]
    table = np.clip(np.rint(above * scale), 0, 255).astype(np.uint8)
    table[: darkest + 1] = 0
    return table[gray]


def _area_terms(source: int, target: int):
    """OpenCV's INTER_AREA weights along one axis: for each target pixel, the source pixels it covers and the share
    of each (float32), one row per term, in OpenCV's order (padded with weight 0)."""
    scale = source / target
    indices, weights = [], []
    for index in range(target):
        start = index * scale
        end = start + scale
        cell = min(scale, source - start)
        first, last = -int(-start // 1), int(end // 1)  # ceil, floor
        last = min(last, source - 1)
        first = min(first, last)
        terms = []
        if first - start > 1e-3:
            terms.append((first - 1, (first - start) / cell))
        terms += [(s, 1.0 / cell) for s in range(first, last)]
        if end - last > 1e-3:
            terms.append((last, min(end - last, 1.0, cell) / cell))
        indices.append([t[0] for t in terms])
        weights.append([t[1] for t in terms])
    count = max(len(t) for t in indices)
    index_rows = np.zeros((count, target), np.int64)
    weight_rows = np.zeros((count, target), np.float32)
    for column, (i, w) in enumerate(zip(indices, weights)):
        index_rows[: len(i), column] = i
        weight_rows[: len(w), column] = np.array(w, np.float64).astype(np.float32)
    return index_rows, weight_rows


def shrink_area(gray: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``cv2.resize(gray, size, interpolation=cv2.INTER_AREA)`` for a reduction by a non-integer factor: each pixel
    the mean of the source area it covers, accumulated in float32 in OpenCV's order (rows, then columns), rounded.
    (For an integer factor OpenCV sums whole blocks in integers and may round a half differently; ``imaging.faces``
    never shrinks by one: 640 to 400 pixels at most.)"""
    width, height = size
    x_index, x_weight = _area_terms(gray.shape[1], width)
    y_index, y_weight = _area_terms(gray.shape[0], height)
    source = gray.astype(np.float32)
    rows = np.zeros((gray.shape[0], width), np.float32)
    for index, weight in zip(x_index, x_weight):
        rows += source[:, index] * weight
    out = np.zeros((height, width), np.float32)
    for index, weight in zip(y_index, y_weight):
        out += weight[:, None] * rows[index]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def rotation_matrix(centre: tuple[float, float], angle: float, scale: float = 1.0) -> np.ndarray:
    """``cv2.getRotationMatrix2D``: 2 x 3 matrix turning by ``angle`` degrees (counter-clockwise on screen)."""
    radians = angle * (math.pi / 180)
    alpha, beta = math.cos(radians) * scale, math.sin(radians) * scale
    cx, cy = centre
    return np.array([[alpha, beta, (1 - alpha) * cx - beta * cy], [-beta, alpha, beta * cx + (1 - alpha) * cy]])


def invert_affine(matrix) -> np.ndarray:
    """``cv2.invertAffineTransform``."""
    m = np.asarray(matrix, np.float64)
    determinant = m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
    d = 1.0 / determinant if determinant != 0 else 0.0
    a11, a22, a12, a21 = m[1, 1] * d, m[0, 0] * d, -m[0, 1] * d, -m[1, 0] * d
    return np.array([[a11, a12, -a11 * m[0, 2] - a12 * m[1, 2]], [a21, a22, -a21 * m[0, 2] - a22 * m[1, 2]]])


def warp_affine(gray: np.ndarray, matrix, size: tuple[int, int]) -> np.ndarray:
    """``cv2.warpAffine(gray, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)``: each output
    pixel is read at the inverse-mapped point, rounded to 1/32 pixel (OpenCV's fixed point: 10-bit coordinates,
    5-bit interpolation table), bilinear with 15-bit weights, edge pixels repeated outside the image."""
    width, height = size
    inverse = invert_affine(matrix)
    unit = 1 << 10
    xs, ys = np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64)
    x_step = np.rint(inverse[0, 0] * xs * unit).astype(np.int64)
    y_step = np.rint(inverse[1, 0] * xs * unit).astype(np.int64)
    x_row = np.rint((inverse[0, 1] * ys + inverse[0, 2]) * unit).astype(np.int64) + 16
    y_row = np.rint((inverse[1, 1] * ys + inverse[1, 2]) * unit).astype(np.int64) + 16
    x = (x_row[:, None] + x_step[None, :]) >> 5  # in 1/32 pixel
    y = (y_row[:, None] + y_step[None, :]) >> 5
    fx, fy = x & 31, y & 31
    x0, y0 = x >> 5, y >> 5
    source_h, source_w = gray.shape
    left, right = np.clip(x0, 0, source_w - 1), np.clip(x0 + 1, 0, source_w - 1)
    top, bottom = np.clip(y0, 0, source_h - 1), np.clip(y0 + 1, 0, source_h - 1)
    pixels = gray.astype(np.int64)
    value = (pixels[top, left] * ((32 - fx) * (32 - fy)) + pixels[top, right] * (fx * (32 - fy))
             + pixels[bottom, left] * ((32 - fx) * fy) + pixels[bottom, right] * (fx * fy)) * 32
    return np.clip((value + (1 << 14)) >> 15, 0, 255).astype(np.uint8)
