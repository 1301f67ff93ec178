"""The numpy evaluator of OpenCV's Haar cascades (``chalicelib/imaging/cascade.py``) against OpenCV itself.

OpenCV (``opencv-python-headless``, a development dependency, never deployed) is the reference: on portraits, the
labelled set's photos and pictures with no face, for each of the four cascades and the parameters ``imaging.faces``
uses, the numpy detector must return exactly OpenCV's boxes (and, with ``min_neighbors=0``, exactly its raw
windows, before grouping). The building blocks are checked one by one too (integrals, resize, grouping, histogram
equalisation, area shrink, rotation), so that a difference shows where it comes from.
"""

import hashlib
import io
import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from chalicelib.imaging import cascade

CASCADES = {  # name -> (window, stages, features, tilted features)
    "haarcascade_frontalface_default.xml": ((24, 24), 25, 2913, False),
    "haarcascade_frontalface_alt.xml": ((20, 20), 22, 2135, False),
    "haarcascade_eye.xml": ((20, 20), 24, 1066, False),
    "haarcascade_eye_tree_eyeglasses.xml": ((20, 20), 30, 2553, True),
}
# The numpy detector may take this many times OpenCV's time (one thread each) on the assistant's own calls: measured
# 1.7 to 2 (docs/photo-assistant.md, "Time"); the bound leaves room for a loaded machine.
SLOWER_AT_MOST = 4.0


@pytest.fixture(scope="module")
def cv2():
    return pytest.importorskip("cv2")


def _boxes(found) -> list[tuple[int, int, int, int]]:
    return sorted(tuple(int(v) for v in box) for box in np.asarray(found).reshape(-1, 4))


def _gray(image: Image.Image, side: int | None = None) -> np.ndarray:
    image = image.convert("L")
    if side and max(image.size) > side:
        ratio = side / max(image.size)
        image = image.resize((round(image.width * ratio), round(image.height * ratio)), Image.Resampling.BILINEAR)
    return np.asarray(image)


@pytest.fixture(scope="module")
def pictures() -> dict[str, np.ndarray]:
    """Grayscale pictures: the two portraits, labelled-set photos as the assistant reduces them (one face, two faces,
    tilted, dark, blurred, no face), pictures with no face, noise."""
    from skimage import data

    from chalicelib.imaging import assistant
    from tests.unit import assistant_set as labelled

    found = {
        "astronaut": _gray(Image.fromarray(data.astronaut()), 400),
        "grace": _gray(Image.open(labelled.grace_hopper_path()), 400),
        "camera": _gray(Image.fromarray(data.camera()), 320),
        "cat": _gray(Image.fromarray(data.chelsea()), 320),
        "noise": np.random.default_rng(7).integers(0, 256, (150, 200), dtype=np.uint8),
        "flat": np.full((90, 120), 128, np.uint8),
    }
    wanted = ("plain-astronaut-0", "two-0", "tilt-grace--22", "dark-60-grace", "blur-astronaut-0.0450", "empty-office")
    samples = {s.name: s for s in labelled.build_set()}
    for name in wanted:
        if name in samples:
            reduced, _ = assistant._reduced_gray(labelled.render(samples[name]))
            found[name] = _gray(reduced, 320)
    assert len(found) == 12, sorted(found)
    return found


# ----------------------------------------------------------------------------------------------------------------------
# The shipped files
# ----------------------------------------------------------------------------------------------------------------------

def test_the_cascades_are_opencvs_files_with_their_licence_and_documented():
    readme = (cascade.CASCADE_DIR / "README.md").read_text()
    for name, (window, stages, features, tilted) in CASCADES.items():
        path = cascade.CASCADE_DIR / name
        content = path.read_bytes()
        assert "Intel License Agreement" in content[:3000].decode() and "Redistribution" in content[:3000].decode()
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{name}`"))
        assert hashlib.sha256(content).hexdigest() in row and f"| {len(content)} |" in row, name
        assert re.search(rf"\| {window[0]} x {window[1]} \| {stages} \| {features} \|", row), row
    assert sorted(p.name for p in cascade.CASCADE_DIR.glob("*.xml")) == sorted(CASCADES)


def test_the_cascades_are_identical_to_the_installed_opencvs(cv2):
    for name in CASCADES:
        assert (cascade.CASCADE_DIR / name).read_bytes() == (Path(cv2.data.haarcascades) / name).read_bytes(), name


@pytest.mark.parametrize("name", list(CASCADES))
def test_a_cascade_is_read_with_its_stages_features_and_trees(name):
    window, stages, features, tilted = CASCADES[name]
    loaded = cascade.load(name)
    assert loaded.window == window and len(loaded.stages) == stages and loaded.feature_count == features
    assert loaded.tilted is tilted
    assert all(stage.stumps for stage in loaded.stages) is (name != "haarcascade_eye_tree_eyeglasses.xml")
    assert cascade.load(name) is loaded  # read once per process


def test_a_missing_or_foreign_cascade_file_fails_loudly(tmp_path):
    with pytest.raises(FileNotFoundError):
        cascade.load("haarcascade_nothing.xml")
    with pytest.raises(FileNotFoundError):
        cascade.load("../faces.py")
    lbp = tmp_path / "lbp.xml"
    lbp.write_text("<?xml version='1.0'?><opencv_storage><cascade><stageType>BOOST</stageType>"
                   "<featureType>LBP</featureType></cascade></opencv_storage>")
    with pytest.raises(ValueError):
        cascade.Cascade.from_xml(lbp)
    with pytest.raises(ValueError):
        cascade.load("haarcascade_eye.xml").detect_multi_scale(np.zeros((40, 40), np.float32))
    with pytest.raises(ValueError):
        cascade.load("haarcascade_eye.xml").detect_multi_scale(np.zeros((40, 40), np.uint8), scale_factor=1.0)


# ----------------------------------------------------------------------------------------------------------------------
# Detection: OpenCV's boxes, exactly
# ----------------------------------------------------------------------------------------------------------------------

# (scale_factor, min_neighbors, min_size, max_size): the assistant's calls (faces.py) and OpenCV's defaults
PARAMETERS = {
    "haarcascade_frontalface_default.xml": [(1.1, 5, (24, 24), (0, 0)), (1.1, 3, (0, 0), (0, 0))],
    "haarcascade_frontalface_alt.xml": [(1.05, 3, (40, 40), (160, 160)), (1.1, 0, (30, 30), (0, 0))],
    "haarcascade_eye.xml": [(1.05, 3, (18, 18), (80, 80)), (1.1, 0, (20, 20), (60, 60))],
    "haarcascade_eye_tree_eyeglasses.xml": [(1.05, 3, (18, 18), (80, 80)), (1.2, 0, (0, 0), (0, 0))],
}


@pytest.mark.parametrize("name", list(CASCADES))
def test_the_boxes_are_opencvs(cv2, pictures, name):
    """Same boxes as cv2.CascadeClassifier.detectMultiScale; with min_neighbors 0, the same raw windows."""
    reference = cv2.CascadeClassifier(cv2.data.haarcascades + name)
    evaluator = cascade.load(name)
    found_any = False
    for picture, gray in pictures.items():
        for scale_factor, neighbours, min_size, max_size in PARAMETERS[name]:
            expected = _boxes(reference.detectMultiScale(gray, scaleFactor=scale_factor, minNeighbors=neighbours,
                                                         minSize=min_size, maxSize=max_size))
            actual = _boxes(evaluator.detect_multi_scale(gray, scale_factor, neighbours, min_size, max_size))
            assert actual == expected, (picture, scale_factor, neighbours, min_size, max_size)
            found_any = found_any or bool(expected)
    assert found_any  # the comparison is not between two empty lists


def test_the_faces_found_in_the_portraits(pictures):
    faces = cascade.load("haarcascade_frontalface_default.xml")
    for name in ("astronaut", "grace", "plain-astronaut-0"):
        assert len(faces.detect_multi_scale(pictures[name], 1.1, 5, (40, 40))) == 1, name
    assert len(faces.detect_multi_scale(pictures["two-0"], 1.1, 5, (24, 24))) == 2
    for name in ("noise", "flat", "empty-office"):
        assert faces.detect_multi_scale(pictures[name], 1.1, 5) == [], name


def test_an_image_smaller_than_the_window_has_no_box():
    evaluator = cascade.load("haarcascade_frontalface_default.xml")
    assert evaluator.detect_multi_scale(np.zeros((20, 300), np.uint8)) == []
    assert evaluator.detect_multi_scale(np.zeros((0, 0), np.uint8)) == []
    assert evaluator.scales(100, 100, 1.1, (200, 200)) == []


def test_time_is_comparable_to_opencvs(cv2, pictures, record_property):
    """The assistant's face search (default cascade, 640 px, smallest face 8 %) and eye search (200 x 100 patch), one
    thread each: the numpy evaluator within SLOWER_AT_MOST times OpenCV's time."""
    from tests.unit import assistant_set as labelled

    sample = next(s for s in labelled.build_set() if s.name == "plain-grace-1")
    image = labelled.render(sample).convert("L")
    ratio = 640 / max(image.size)
    gray = np.asarray(image.resize((round(image.width * ratio), round(image.height * ratio)),
                                   Image.Resampling.BILINEAR))
    patch = np.ascontiguousarray(gray[100:200, 220:420])
    calls = [("haarcascade_frontalface_default.xml", gray, (1.1, 5, (int(min(gray.shape) * 0.08),) * 2, (0, 0))),
             ("haarcascade_eye.xml", patch, (1.05, 3, (18, 18), (80, 80)))]
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        timings = {}
        for name, picture, (scale_factor, neighbours, min_size, max_size) in calls:
            reference = cv2.CascadeClassifier(cv2.data.haarcascades + name)
            evaluator = cascade.load(name)
            ours, theirs = [], []
            for _ in range(3):
                started = time.perf_counter()
                reference.detectMultiScale(picture, scaleFactor=scale_factor, minNeighbors=neighbours,
                                           minSize=min_size, maxSize=max_size)
                theirs.append(time.perf_counter() - started)
                started = time.perf_counter()
                evaluator.detect_multi_scale(picture, scale_factor, neighbours, min_size, max_size)
                ours.append(time.perf_counter() - started)
            timings[name] = (min(ours), min(theirs))
    finally:
        cv2.setNumThreads(threads)
    ours, theirs = sum(t[0] for t in timings.values()), sum(t[1] for t in timings.values())
    record_property("numpy_seconds", ours)
    record_property("opencv_seconds", theirs)
    print(f"\nface + eye search: numpy {ours * 1000:.0f} ms, OpenCV (1 thread) {theirs * 1000:.0f} ms, "
          f"ratio {ours / theirs:.2f}")
    assert ours <= SLOWER_AT_MOST * theirs + 0.02, timings


# ----------------------------------------------------------------------------------------------------------------------
# The building blocks
# ----------------------------------------------------------------------------------------------------------------------

def _random_images(count=24, seed=3):
    rng = np.random.default_rng(seed)
    for index in range(count):
        height, width = (int(v) for v in rng.integers(1, 90, 2))
        image = rng.integers(0, 256, (height, width), dtype=np.uint8)
        if index % 2:  # smooth images too: rounding ties are likelier on flat areas
            image = np.asarray(Image.fromarray(image).resize((max(1, width // 4), max(1, height // 4)))
                               .resize((width, height), Image.Resampling.BILINEAR))
        yield image


def test_the_tilted_integral_is_opencvs(cv2):
    for image in _random_images():
        _, _, tilted = cv2.integral3(image, sdepth=cv2.CV_32S, sqdepth=cv2.CV_64F)
        assert np.array_equal(cascade.tilted_integral(image), tilted), image.shape


def test_tilted_integral_is_the_sum_over_the_triangle_above_each_point():
    image = np.random.default_rng(5).integers(0, 256, (7, 9)).astype(np.uint8)
    tilted = cascade.tilted_integral(image)
    for big_y in range(8):
        for big_x in range(10):
            expected = sum(int(image[y, x]) for y in range(big_y) for x in range(9)
                           if abs(x - big_x + 1) <= big_y - 1 - y)
            assert tilted[big_y, big_x] == expected, (big_x, big_y)


def test_the_resize_is_opencvs_bit_exact_bilinear(cv2):
    rng = np.random.default_rng(11)
    for image in _random_images(40, seed=11):
        height, width = image.shape
        for target in ((max(1, round(width / 1.37)), max(1, round(height / 1.37))), (width * 2 + 1, height + 3),
                       (max(1, width // 2), max(1, height // 2)), (width, height),
                       (int(rng.integers(1, 120)), int(rng.integers(1, 120)))):
            expected = cv2.resize(image, target, interpolation=cv2.INTER_LINEAR_EXACT)
            assert np.array_equal(cascade.resize_bilinear(image, target), expected), (image.shape, target)


def test_grouping_is_opencvs(cv2):
    rng = np.random.default_rng(13)
    for trial in range(60):
        centres = rng.integers(0, 300, (int(rng.integers(1, 5)), 2))
        rects = []
        for cx, cy in centres:
            size = int(rng.integers(20, 120))
            for _ in range(int(rng.integers(1, 12))):
                s = size + int(rng.integers(-8, 9))
                rects.append([int(cx + rng.integers(-6, 7)), int(cy + rng.integers(-6, 7)), s, s])
        if trial % 3 == 0:  # a small box inside a large one
            x, y, s = rects[0][0], rects[0][1], rects[0][2]
            rects += [[x + s // 4, y + s // 4, s // 3, s // 3]] * int(rng.integers(1, 6))
        for threshold in (0, 1, 2, 3, 5):
            expected, _ = cv2.groupRectangles(rects, threshold, 0.2)
            assert _boxes(cascade.group_rectangles(rects, threshold)) == _boxes(expected), (trial, threshold)


def test_histogram_equalisation_is_opencvs(cv2):
    for image in list(_random_images(12)) + [np.full((5, 7), 9, np.uint8), (np.arange(256, dtype=np.uint8) // 5)]:
        image = np.atleast_2d(image)
        assert np.array_equal(cascade.equalize_hist(image), cv2.equalizeHist(image))


def test_area_shrink_is_opencvs(cv2):
    rng = np.random.default_rng(17)
    for shape in ((492, 640), (640, 480), (333, 517)):
        image = np.asarray(Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8))
                           .filter(ImageFilter.GaussianBlur(1.5)))
        shrink = max(shape) / 400
        size = (round(shape[1] / shrink), round(shape[0] / shrink))
        assert np.array_equal(cascade.shrink_area(image, size), cv2.resize(image, size, interpolation=cv2.INTER_AREA))


def test_rotation_is_opencvs(cv2):
    rng = np.random.default_rng(19)
    image = np.asarray(Image.open(io.BytesIO(_jpeg(rng))).convert("L"))
    height, width = image.shape
    for angle in (-25.0, 25.0, 7.5):
        matrix = cascade.rotation_matrix((width / 2, height / 2), angle, 1.0)
        assert np.array_equal(matrix, cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0))
        matrix[0, 2] += 40
        matrix[1, 2] += 30
        assert np.allclose(cascade.invert_affine(matrix), cv2.invertAffineTransform(matrix), rtol=0, atol=1e-12)
        size = (width + 80, height + 60)
        expected = cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        assert np.array_equal(cascade.warp_affine(image, matrix, size), expected), angle


def _jpeg(rng) -> bytes:
    out = io.BytesIO()
    pixels = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    Image.fromarray(pixels).resize((200, 150), Image.Resampling.BICUBIC).save(out, format="JPEG")
    return out.getvalue()
