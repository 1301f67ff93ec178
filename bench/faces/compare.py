"""The face detectors compared on the labelled real-portrait set (``bench/faces/portraits.json``): ``make faces``.

For the project's detector (the photo assistant as it runs in the image function) and for the maintained detectors
it is measured against (OpenCV's Haar cascade, dlib's HOG detector with its 5-point landmarks, the ``mtcnn``
package), on the same photos reduced to the assistant's 640 px, one thread each:

- the face search: precision and recall against the labelled faces (a detection matches a labelled face when its
  centre lies within ``MATCH_REACH`` of the labelled face's centre; faces labelled ``required: false`` count neither
  way);
- the head height (chin to top of the skull) measured on the one-person portraits, as the error it makes on a photo
  framed exactly to the norm: 0.75 x (measured / labelled - 1), in fractions of the photo's height, so that +-0.05 is
  the 70-80 % band. The assistant's is its own; for the others a head model is fitted on the set and measured
  leave-one-out (each photo predicted by the model fitted on the others), so that no photo is measured with what it
  taught;
- the time of the face search, with a face and without one (median per photo).

Runs in its own virtualenv (``.venv-faces``, ``requirements-faces.txt``): the compared detectors are never deployed.
Writes ``var/faces.json`` and the figures into ``docs/photo-assistant.md`` between the ``faces:begin/end`` markers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import statistics
import tarfile
import time
from pathlib import Path

# One thread for every detector, set before numpy, OpenCV or TensorFlow start their pools: the image function has
# less than one vCPU (1,024 MB), and a fair comparison gives each the same processor.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
    os.environ.setdefault(_variable, "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

from bench.common import PROJECT_DIR, VAR_DIR, pin_to_one_core  # noqa: E402
from bench.faces import fetch  # noqa: E402
# The norm and the search's sizes are the assistant's: every detector gets the pixels the assistant searches.
from chalicelib.imaging import assistant  # noqa: E402
from chalicelib.imaging.assistant import (  # noqa: E402
    ANALYSIS_SIDE, CHIN_BELOW_EYES, CROWN_ABOVE_EYES, RATIO_MAX, RATIO_MIN, TARGET_RATIO)
from chalicelib.imaging import faces  # noqa: E402
from infra import face_model  # noqa: E402

MATCH_REACH = 0.5  # detection centre within this many labelled head heights of the labelled face's centre
RUNS = 3  # each timing is the best of this many runs (the first run of a photo pays caches)
NORM_BAND = (RATIO_MAX - RATIO_MIN) / 2  # a head measured within +-5 % keeps a norm-framed photo in 70-80 %
DOCS = PROJECT_DIR / "docs" / "photo-assistant.md"
BEGIN, END = "<!-- faces:begin -->", "<!-- faces:end -->"

# OpenCV's cascade as the project ran it before dlib: faces of at least 8 % of the shorter side, 24 px.
OPENCV_MIN_FACE_FRACTION, OPENCV_MIN_FACE_PIXELS = 0.08, 24


# --------------------------------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------------------------------

def _face_geometry(face: dict) -> tuple[tuple[float, float], float]:
    """Centre (half-way between the crown and the chin) and head height of a labelled face."""
    (cx, cy), (hx, hy) = face["crown"], face["chin"]
    return ((cx + hx) / 2, (cy + hy) / 2), math.dist(face["crown"], face["chin"])


def _upright(path: Path) -> tuple[Image.Image, float]:
    """The photo upright in RGB, reduced to ANALYSIS_SIDE, and the factor back to the labels' pixels."""
    image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    factor = 1.0
    if max(image.size) > ANALYSIS_SIDE:
        factor = max(image.size) / ANALYSIS_SIDE
        image = image.resize((round(image.width / factor), round(image.height / factor)), Image.Resampling.BILINEAR,
                             reducing_gap=2.0)
    return image, factor


# --------------------------------------------------------------------------------------------------------------------
# Detectors: each returns, for an upright RGB image, a list of faces {"box": (x, y, w, h), "points": {...}} in its
# pixels; "points" holds what the detector locates (eyes, nose) for the head models.
# --------------------------------------------------------------------------------------------------------------------

class Ours:
    """The photo assistant itself (chalicelib/imaging/assistant.py): detection, eyes, head model and all."""
    name = "project (dlib HOG + 5-point landmarks, its head model)"
    key = "project"

    def __call__(self, image):
        analysis = assistant.analyse(image)
        self.last = analysis
        faces = [{"box": (b.x, b.y, b.width, b.height), "points": {}} for b in analysis.faces]
        if faces and "face_ratio" in analysis.measures:
            faces[0]["head"] = analysis.measures["face_ratio"] * analysis.crop["height"]
        return faces

    def search_seconds(self):
        return self.last.measures["detect_seconds"]


class OpenCV:
    """OpenCV's own cascade (frontalface_default), with the assistant's parameters, no confirmation."""
    name = "OpenCV Haar cascade (frontalface_default)"
    key = "opencv"

    def __init__(self):
        import cv2
        cv2.setNumThreads(1)
        self.cv2 = cv2
        self.cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")

    def __call__(self, image):
        gray = np.asarray(image.convert("L"))
        minimum = max(OPENCV_MIN_FACE_PIXELS, int(min(gray.shape) * OPENCV_MIN_FACE_FRACTION))
        found = self.cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(minimum, minimum))
        return [{"box": tuple(float(v) for v in box), "points": {}} for box in found]


class DlibHog:
    """dlib's HOG + linear SVM frontal detector (model compiled into dlib), then its 5-point landmarks."""
    name = "dlib HOG detector + 5-point landmarks"
    key = "dlib"

    def __init__(self):
        import dlib
        self.detector = dlib.get_frontal_face_detector()
        self.landmarks = dlib.shape_predictor(str(face_model.ensure()))

    def __call__(self, image):
        pixels = np.asarray(image)
        rectangles, scores, _ = self.detector.run(pixels, 0, 0.0)
        faces = []
        for rectangle, score in zip(rectangles, scores):
            shape = self.landmarks(pixels, rectangle)
            p = [(shape.part(i).x, shape.part(i).y) for i in range(5)]
            # Points 0-1 are the corners of the eye on the image's right, 2-3 those of the other eye, 4 the nose.
            right = ((p[0][0] + p[1][0]) / 2, (p[0][1] + p[1][1]) / 2)
            left = ((p[2][0] + p[3][0]) / 2, (p[2][1] + p[3][1]) / 2)
            faces.append({"box": (rectangle.left(), rectangle.top(), rectangle.width(), rectangle.height()),
                          "points": {"left_eye": left, "right_eye": right, "nose": p[4]}, "score": float(score)})
        return faces


class Mtcnn:
    """The ``mtcnn`` package (MTCNN, weights inside, on TensorFlow), its default thresholds."""
    name = "MTCNN (mtcnn package, TensorFlow)"
    key = "mtcnn"

    def __init__(self):
        from mtcnn import MTCNN
        self.model = MTCNN(device="CPU:0")

    def __call__(self, image):
        faces = []
        for found in self.model.detect_faces(np.asarray(image)):
            k = found["keypoints"]
            # mtcnn names the eyes from the person's side: its "right_eye" is on the image's left.
            faces.append({"box": tuple(float(v) for v in found["box"]),
                          "points": {"left_eye": k["right_eye"], "right_eye": k["left_eye"], "nose": k["nose"],
                                     "mouth": ((k["mouth_left"][0] + k["mouth_right"][0]) / 2,
                                               (k["mouth_left"][1] + k["mouth_right"][1]) / 2)},
                          "score": float(found["confidence"])})
        return faces


DETECTORS = (Ours, OpenCV, DlibHog, Mtcnn)


# --------------------------------------------------------------------------------------------------------------------
# Measures
# --------------------------------------------------------------------------------------------------------------------

def _match(found: list[dict], labelled: list[dict], factor: float) -> dict:
    """True positives, false positives and misses of one photo; the matched detection of each labelled face."""
    geometry = [_face_geometry(face) for face in labelled]
    taken: dict[int, dict] = {}
    false_positives = 0
    for detection in found:
        x, y, w, h = (v * factor for v in detection["box"])
        centre = (x + w / 2, y + h / 2)
        best = None
        for index, (face_centre, height) in enumerate(geometry):
            distance = math.dist(centre, face_centre)
            if index not in taken and distance <= MATCH_REACH * height and (best is None or distance < best[1]):
                best = (index, distance)
        if best is None:
            false_positives += 1
        else:
            taken[best[0]] = detection
    true_positives = sum(1 for index in taken if labelled[index].get("required", True))
    misses = sum(1 for index, face in enumerate(labelled) if face.get("required", True) and index not in taken)
    return {"tp": true_positives, "fp": false_positives, "fn": misses, "taken": taken}


def _features(detection: dict, factor: float) -> list[float] | None:
    """What a head model reads from a detection, in label pixels: eye distance, eye line to nose, box side."""
    points = detection["points"]
    box_side = math.sqrt(detection["box"][2] * detection["box"][3]) * factor
    if "left_eye" not in points:
        return [box_side]
    left, right, nose = (np.array(points[k], float) * factor for k in ("left_eye", "right_eye", "nose"))
    eye_distance = float(np.linalg.norm(right - left))
    axis = right - left
    normal = np.array([-axis[1], axis[0]]) / max(eye_distance, 1e-6)  # the face's "down" direction
    to_nose = float(np.dot(nose - (left + right) / 2, normal))
    return [eye_distance, abs(to_nose), box_side]


def _leave_one_out(rows: list[tuple[list[float], float]]) -> list[float]:
    """Head heights predicted leave-one-out by a least-squares model without intercept (height proportional to the
    features: a head model must not depend on the photo's resolution)."""
    predictions = []
    features = np.array([row[0] for row in rows], float)
    truth = np.array([row[1] for row in rows], float)
    for index in range(len(rows)):
        keep = np.arange(len(rows)) != index
        weights, *_ = np.linalg.lstsq(features[keep], truth[keep], rcond=None)
        predictions.append(float(features[index] @ weights))
    return predictions


def _head_errors(measured: list[float], truth: list[float]) -> dict:
    errors = [TARGET_RATIO * (m / t - 1) for m, t in zip(measured, truth)]
    return {"count": len(errors), "mean_abs": statistics.fmean(abs(e) for e in errors) if errors else None,
            "max_abs": max((abs(e) for e in errors), default=None),
            "within_band": sum(abs(e) <= NORM_BAND for e in errors), "errors": errors}


LOAD: list[float] = []  # the 1-minute load average when the timings start and end (the report states it)


def measure(photos: list[dict], detectors) -> dict:
    results = {}
    LOAD.append(os.getloadavg()[0])
    for detector in detectors:
        counts = {"tp": 0, "fp": 0, "fn": 0}
        with_face, without_face, heads, misses, false_alarms = [], [], [], [], []
        for photo in photos:
            image, factor = _upright(photo["path"])
            seconds = []
            for _ in range(RUNS):
                started = time.perf_counter()
                found = detector(image)
                elapsed = time.perf_counter() - started
                seconds.append(detector.search_seconds() if hasattr(detector, "search_seconds") else elapsed)
            (with_face if photo["faces"] else without_face).append(min(seconds))
            outcome = _match(found, photo["faces"], factor)
            for key in counts:
                counts[key] += outcome[key]
            if outcome["fn"]:
                misses.append(photo["id"])
            if outcome["fp"]:
                false_alarms.append(photo["id"])
            # A crown above the picture is an estimate, not a measure: those photos stay out of the head error.
            if (photo["kind"] == "portrait" and len(photo["faces"]) == 1 and 0 in outcome["taken"]
                    and "crown out of frame" not in photo.get("traits", [])):
                detection = outcome["taken"][0]
                truth = _face_geometry(photo["faces"][0])[1]
                head = detection.get("head")
                heads.append({"id": photo["id"], "traits": photo.get("traits", []), "truth": truth,
                              "head": None if head is None else head * factor,
                              "features": _features(detection, factor)})
        precision = counts["tp"] / max(1, counts["tp"] + counts["fp"])
        recall = counts["tp"] / max(1, counts["tp"] + counts["fn"])
        results[detector.key] = {
            "name": detector.name, **counts, "precision": precision, "recall": recall, "missed": misses,
            "false_alarms": false_alarms,
            "ms_with_face": 1000 * statistics.median(with_face) if with_face else None,
            "ms_without_face": 1000 * statistics.median(without_face) if without_face else None,
            "heads": heads}
    LOAD.append(os.getloadavg()[0])
    for result in results.values():
        heads = result["heads"]
        if heads and all(h["head"] is not None for h in heads):
            measured = [h["head"] for h in heads]
            result["head_model"] = ("the assistant's own (crown and chin from eye distance and eye line to nose, "
                                    "constants fitted on this set: see the fit below)")
        elif heads:
            measured = _leave_one_out([(h["features"], h["truth"]) for h in heads])
            result["head_model"] = ("fitted leave-one-out on eye distance, eye line to nose, box side"
                                    if len(heads[0]["features"]) > 1 else "fitted leave-one-out on the box side")
        else:
            continue
        result["head_error"] = _head_errors(measured, [h["truth"] for h in heads])
        for head, error in zip(heads, result["head_error"]["errors"]):
            head["error"] = error
    return results


def fit_head_model(photos: list[dict]) -> dict:
    """Where the assistant's CROWN_ABOVE_EYES and CHIN_BELOW_EYES come from: least squares, without intercept, of the
    labelled crown and chin distances from the eye line (along the face's axis) on the eye distance and the eye line
    to nose distance of the project's detections, on every labelled frontal face it finds (crowns out of frame
    included: the chin is measured there). Returns the constants and the leave-one-out head error of that model."""
    rows = []
    for photo in photos:
        image, factor = _upright(photo["path"])
        found = [{"box": d.frame.box, "detection": d} for d in faces.detect(np.asarray(image), 1.0)]
        outcome = _match(found, photo["faces"], factor)
        for index, match in outcome["taken"].items():
            face = photo["faces"][index]
            if not face.get("required", True) or face.get("pose", "frontal") != "frontal":
                continue
            detection = match["detection"].scaled(factor)
            (mx, my), (dx, dy) = detection.eyes.middle, detection.eyes.down
            crown = (mx - face["crown"][0]) * dx + (my - face["crown"][1]) * dy
            chin = (face["chin"][0] - mx) * dx + (face["chin"][1] - my) * dy
            rows.append(([detection.eyes.distance, detection.nose_below_eyes], crown, chin,
                         _face_geometry(face)[1]))
    features = np.array([row[0] for row in rows], float)
    fitted = {name: np.linalg.lstsq(features, np.array([row[k] for row in rows], float), rcond=None)[0]
              for name, k in (("crown", 1), ("chin", 2))}
    crowns = _leave_one_out([(row[0], row[1]) for row in rows])
    chins = _leave_one_out([(row[0], row[2]) for row in rows])
    error = _head_errors([a + b for a, b in zip(crowns, chins)], [row[3] for row in rows])
    return {"faces": len(rows), "crown_above_eyes": [round(float(v), 3) for v in fitted["crown"]],
            "chin_below_eyes": [round(float(v), 3) for v in fitted["chin"]], "leave_one_out": error}


# dlib's 68-point landmark model (its jaw line gives a chin), from the same pinned archive as the 5-point one: measured
# here only, to know what locating the chin would give. It cannot be deployed: 95 MB (the package would exceed
# Lambda's 250 MB) and trained on a data set whose licence excludes commercial use.
LANDMARKS_68 = {"member": "face_recognition_models-0.3.0/face_recognition_models/models/"
                          "shape_predictor_68_face_landmarks.dat",
                "sha256": "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f"}
CHIN_68 = 8  # the jaw line's lowest point in dlib's 68-point scheme


def _landmarks_68():
    import dlib

    target = fetch.CACHE / "models" / "shape_predictor_68_face_landmarks.dat"
    if not target.exists() or face_model.sha256_of(target) != LANDMARKS_68["sha256"]:
        archive = face_model.download_verified(face_model.ARCHIVE["url"], face_model.ARCHIVE["sha256"],
                                               face_model.CACHE_DIR / face_model.ARCHIVE["url"].rsplit("/", 1)[1])
        with tarfile.open(archive) as tar:
            data = tar.extractfile(LANDMARKS_68["member"]).read()
        if hashlib.sha256(data).hexdigest() != LANDMARKS_68["sha256"]:
            raise face_model.Mismatch(f"{LANDMARKS_68['member']}: not the pinned file; refused")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return dlib.shape_predictor(str(target))


def _below_eyes(point, eyes) -> float:
    """How far ``point`` lies below the eye line, along the face's axis."""
    (mx, my), (dx, dy) = eyes.middle, eyes.down
    return (point[0] - mx) * dx + (point[1] - my) * dy


# A first chin search in the image (measured here, not in the assistant): along the face's axis, in a strip half an eye
# distance wide around the model's chin (+-CHIN_SEARCH eye distances), the row where the picture darkens most going
# down (the chin's skin above, its shadow or the neck below); kept where that darkening is at least CHIN_EDGE_MIN of
# the strip's range, else the model's chin.
CHIN_SEARCH = 0.45
CHIN_EDGE_MIN = 0.12


def _chin_edge(image, detection) -> tuple[float, float]:
    """The chin found by the edge search, as a distance below the eye line (``image``'s pixels), and its strength."""
    eye_distance, size = detection.eyes.distance, detection.frame.size
    model = sum(w * v for w, v in zip(CHIN_BELOW_EYES, (eye_distance, detection.nose_below_eyes)))
    top = -faces.FRAME_CENTRE_BELOW_EYES + (model - CHIN_SEARCH * eye_distance) / size
    bottom = -faces.FRAME_CENTRE_BELOW_EYES + (model + CHIN_SEARCH * eye_distance) / size
    half = 0.25 * eye_distance / size
    strip = faces.face_patch(image, detection.frame, (-half, top, half, bottom), 24, mode="L").astype(np.float32)
    kernel = np.exp(-0.5 * (np.arange(-4, 5) / 1.5) ** 2)
    profile = np.convolve(np.pad(strip.mean(axis=1), 4, mode="edge"), kernel / kernel.sum(), mode="valid")
    steps = np.diff(profile)
    row = int(np.argmin(steps))
    strength = float(-steps[row] / max(1.0, profile.max() - profile.min()))
    return (top + (row + 0.5) / len(profile) * (bottom - top) + faces.FRAME_CENTRE_BELOW_EYES) * size, strength


def head_bounds(photos: list[dict]) -> dict:
    """Why the head model stops where it does, on the faces of ``fit_head_model``: the part of its leave-one-out error
    that comes from the crown and from the chin; the error if the chin were located exactly (crown still placed from
    eyes, nose and that chin); and the error with the chin of dlib's 68-point model (measured, not deployable)."""
    landmarks_68 = _landmarks_68()
    rows = []
    for photo in photos:
        image, factor = _upright(photo["path"])
        pixels = np.asarray(image)
        rectangles, scores, _ = faces._detector().run(pixels, 0, 0.0)
        for rectangle, score in zip(rectangles, scores):
            shape = faces._landmarks()(pixels, rectangle)
            detection = faces._detection([(float(shape.part(i).x), float(shape.part(i).y)) for i in range(5)],
                                         float(score))
            taken = _match([{"box": detection.frame.box}], photo["faces"], factor)["taken"]
            if not taken:
                continue
            face = photo["faces"][next(iter(taken))]
            if not face.get("required", True) or face.get("pose", "frontal") != "frontal":
                continue
            jaw = landmarks_68(pixels, rectangle).part(CHIN_68)
            edge, strength = _chin_edge(image, detection)
            detection = detection.scaled(factor)
            eyes = detection.eyes
            rows.append({"features": [eyes.distance, detection.nose_below_eyes],
                         "crown": -_below_eyes(face["crown"], eyes), "chin": _below_eyes(face["chin"], eyes),
                         "chin_68": _below_eyes((jaw.x * factor, jaw.y * factor), eyes),
                         "chin_edge": edge * factor, "edge_strength": strength,
                         "head": _face_geometry(face)[1]})

    def errors(crowns, chins):
        return _head_errors([a + b for a, b in zip(crowns, chins)], [r["head"] for r in rows])

    crowns = _leave_one_out([(r["features"], r["crown"]) for r in rows])
    chins = _leave_one_out([(r["features"], r["chin"]) for r in rows])
    crown_part = [TARGET_RATIO * (c - r["crown"]) / r["head"] for c, r in zip(crowns, rows)]
    chin_part = [TARGET_RATIO * (c - r["chin"]) / r["head"] for c, r in zip(chins, rows)]
    exact = _leave_one_out([(r["features"] + [r["chin"]], r["crown"]) for r in rows])
    with_68 = (_leave_one_out([(r["features"] + [r["chin_68"]], r["crown"]) for r in rows]),
               _leave_one_out([([r["chin_68"]], r["chin"]) for r in rows]))
    searched = [r["chin_edge"] if r["edge_strength"] >= CHIN_EDGE_MIN else c for r, c in zip(rows, chins)]
    with_edge = _leave_one_out([(r["features"] + [c], r["crown"]) for r, c in zip(rows, searched)])
    return {"faces": len(rows), "chin_edge": errors(with_edge, searched),
            "rms_crown": math.sqrt(statistics.fmean(e * e for e in crown_part)),
            "rms_chin": math.sqrt(statistics.fmean(e * e for e in chin_part)),
            "chin_exact": errors(exact, [r["chin"] for r in rows]),
            "chin_68": errors(*with_68)}


def non_face_figures(photos: list[dict]) -> dict:
    """What ``faces.not_a_face`` measures on every candidate of dlib's upright pass: on the labelled faces (which it
    must never refuse) and on the candidates that are no labelled face (drawings, masks), so that the margins of its
    thresholds can be read."""
    faces_seen, others = [], []
    for photo in photos:
        image, factor = _upright(photo["path"])
        pixels = np.asarray(image)
        rectangles, scores, _ = faces._detector().run(pixels, 0, 0.0)
        for rectangle, score in zip(rectangles, scores):
            shape = faces._landmarks()(pixels, rectangle)
            detection = faces._detection([(float(shape.part(i).x), float(shape.part(i).y)) for i in range(5)],
                                         float(score))
            measures: dict = {}
            reason = faces.not_a_face(image, detection, measures)
            taken = _match([{"box": detection.frame.box}], photo["faces"], factor)["taken"]
            labelled = photo["faces"][next(iter(taken))] if taken else None
            row = {"id": photo["id"], "reason": reason, **measures}
            if labelled is not None and photo["kind"] != "face_like":
                faces_seen.append(row)
            else:
                others.append(row)

    def hue(row):  # the hue the skin test keeps: the higher of the two where there is colour to read
        return max((row[k + "hue"] for k in ("", "balanced_") if row.get(k + "chroma", 0) >= faces.COLOUR_CHROMA_MIN),
                   default=None)

    hues = [h for h in map(hue, faces_seen) if h is not None]
    return {"faces": len(faces_seen), "refused_faces": [r["id"] for r in faces_seen if r["reason"]],
            "flat": (min(r["flat"] for r in faces_seen), max(r["flat"] for r in faces_seen)),
            "hue": (min(hues), max(hues)), "hue_judged": len(hues),
            "others": [{"id": r["id"], "reason": r["reason"], "flat": r.get("flat"), "hue": hue(r)} for r in others]}


# Colour casts the skin test must survive: per-channel gains on the whole photo (a warm light left uncorrected takes
# blue away, a fluorescent one adds green), on the portraits with the lowest skin hues and a few others.
CASTS = {"blue x 0.8": (1.0, 1.0, 0.8), "blue x 0.6": (1.0, 1.0, 0.6), "green x 1.1": (1.0, 1.1, 1.0),
         "green x 1.2": (1.0, 1.2, 1.0), "green x 1.3": (1.0, 1.3, 1.0)}
CAST_PHOTOS = ("astronaut", "rihanna", "cage-1", "obama-1", "queen", "freckles")
# Black-and-white portraits toned as old prints are (sepia; yellowed paper): no colour of skin to read.
TONES = {"sepia": (1.0, 0.8, 0.55), "yellowed": (1.0, 0.95, 0.72)}
TONE_PHOTOS = ("takeo", "einstein-tongue", "astronaut")


def cast_figures(photos: list[dict]) -> dict:
    """For each cast (and toning), the photos of CAST_PHOTOS (TONE_PHOTOS) whose face is no longer found."""
    by_id = {photo["id"]: photo for photo in photos}
    lost = {}
    for name, gains in [*CASTS.items(), *TONES.items()]:
        toned = name in TONES
        lost[name] = []
        for photo_id in TONE_PHOTOS if toned else CAST_PHOTOS:
            image, _ = _upright(by_id[photo_id]["path"])
            pixels = np.asarray(image.convert("L") if toned else image, np.float32)
            if toned:
                pixels = pixels[..., None]
            changed = (pixels * np.array(gains, np.float32)).clip(0, 255).astype(np.uint8)
            if not faces.detect(changed, 1.0):
                lost[name].append(photo_id)
    return lost


def check_cost(photos: list[dict]) -> dict:
    """The face search's time with and without ``faces.not_a_face``, runs interleaved photo by photo (so that a busy
    machine weighs on both alike): medians over the photos with a labelled face, those without, and those whose
    candidates are all refused (which then take the path of a photo without a face, the turned passes)."""
    check = faces.not_a_face
    groups: dict[str, list[tuple[float, float]]] = {"with a face": [], "without a face": [], "all refused": []}
    try:
        for photo in photos:
            image, _ = _upright(photo["path"])
            best = {True: math.inf, False: math.inf}
            refused = False
            for _ in range(RUNS):
                for on in (True, False):
                    faces.not_a_face = check if on else (lambda *args, **kwargs: None)
                    analysis = assistant.analyse(image)
                    best[on] = min(best[on], analysis.measures["detect_seconds"])
                    refused = refused or (on and not analysis.faces
                                          and any(p.startswith("rejected") for p in analysis.measures["search_passes"]))
            group = "all refused" if refused else "with a face" if photo["faces"] else "without a face"
            groups[group].append((best[True], best[False]))
    finally:
        faces.not_a_face = check
    return {name: {"photos": len(times), "ms_with_check": 1000 * statistics.median(t[0] for t in times),
                   "ms_without_check": 1000 * statistics.median(t[1] for t in times)}
            for name, times in groups.items() if times}


# --------------------------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------------------------

def _percent(value) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def report(results: dict, photos: list[dict], kept: dict | None = None) -> str:
    """The figures as Markdown. ``kept``: the table and detail lines of detectors not measured this time, copied from
    the previous block of the docs (``--keep-others``), by detector name."""
    kept = kept or {}
    portraits = sum(1 for p in photos if p["kind"] == "portrait")
    required = sum(1 for p in photos for f in p["faces"] if f.get("required", True))
    header = (f"Measured by `make faces` on {time.strftime('%Y-%m-%d')}, on {len(photos)} photos ({portraits} "
              f"one-person portraits, {len(photos) - portraits} negatives; {required} faces to be found), each reduced "
              f"to {ANALYSIS_SIDE} px, one thread, best of {RUNS} runs.")
    if LOAD:
        header += (f" The machine's load average (1 min) was {LOAD[0]:.1f} when the timings started and "
                   f"{LOAD[-1]:.1f} when they ended, on {os.cpu_count()} processors (on a busy machine every time "
                   f"is longer).")
    if kept:
        header += f" Not re-measured this time, their figures kept from the previous run: {', '.join(kept)}."
    lines = [header, "",
             "| Detector | Precision | Recall | Head height: mean error | worst | within ±5 % | "
             "Search, with a face | without |",
             "|---|---|---|---|---|---|---|---|"]
    for result in results.values():
        head = result.get("head_error") or {}
        within = f"{head['within_band']} / {head['count']}" if head else "—"
        lines.append(f"| {result['name']} | {result['precision']:.3f} | {result['recall']:.3f} | "
                     f"{_percent(head.get('mean_abs'))} | {_percent(head.get('max_abs'))} | {within} | "
                     f"{result['ms_with_face']:.0f} ms | "
                     + (f"{result['ms_without_face']:.0f} ms |" if result["ms_without_face"] is not None else "— |"))
    lines += [row for row, _ in kept.values()]
    lines += ["", "Missed faces and false alarms (photo ids):", ""]
    for result in results.values():
        lines.append(f"- {result['name']}: missed {', '.join(result['missed']) or 'none'}; "
                     f"false alarms {', '.join(result['false_alarms']) or 'none'}; head model: "
                     f"{result.get('head_model', '—')}.")
    lines += [detail for _, detail in kept.values()]
    return "\n".join(lines)


def kept_rows(measured: set[str]) -> dict:
    """The table row and the detail line of each detector of the docs' current block whose name is not in
    ``measured``: what ``--keep-others`` carries over."""
    content = DOCS.read_text()
    block = content.split(BEGIN, 1)[1].split(END, 1)[0] if BEGIN in content else ""
    names = [cls.name for cls in DETECTORS if cls.name not in measured]
    kept = {}
    for name in names:
        row = next((line for line in block.splitlines() if line.startswith(f"| {name} |")), None)
        detail = next((line for line in block.splitlines() if line.startswith(f"- {name}:")), None)
        if row and detail:
            kept[name] = (row, detail)
    return kept


def set_table(photos: list[dict]) -> str:
    """The labelled set, photo by photo: where it comes from and under which licence (from the manifest)."""
    archives = fetch.manifest()["archives"]
    lines = ["| Photo | Kind | Traits | Package (licence) | The photo itself | Its licence |", "|---|---|---|---|---|---|"]
    for photo in photos:
        archive = archives[photo["archive"]]
        lines.append(f"| `{photo['id']}` | {photo['kind']} | {', '.join(photo.get('traits', [])) or '—'} | "
                     f"{archive['package']} ({archive['licence']}) | {photo.get('origin', '—')} | "
                     f"{photo.get('licence', '—')} |")
    return "\n".join(lines)


def write_docs(text: str) -> None:
    content = DOCS.read_text()
    if BEGIN not in content or END not in content:
        raise SystemExit(f"{DOCS}: the {BEGIN} / {END} markers are missing")
    head, rest = content.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOCS.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="detector keys (project, opencv, dlib, mtcnn)")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/photo-assistant.md")
    parser.add_argument("--keep-others", action="store_true",
                        help="with --only: keep the docs' figures of the detectors not measured (their rows say so)")
    arguments = parser.parse_args(argv)
    pin_to_one_core()
    photos = fetch.photos()
    detectors = [cls() for cls in DETECTORS if not arguments.only or cls.key in arguments.only]
    results = measure(photos, detectors)
    fit = fit_head_model(photos)
    non_faces = non_face_figures(photos)
    non_faces["casts"] = cast_figures(photos)
    bounds = head_bounds(photos)
    cost = check_cost(photos)
    VAR_DIR.mkdir(exist_ok=True)
    (VAR_DIR / "faces.json").write_text(json.dumps({"detectors": results, "head_model_fit": fit,
                                                    "not_a_face": non_faces, "check_cost": cost,
                                                    "head_bounds": bounds}, indent=1,
                                                   default=str))
    kept = kept_rows({d.name for d in detectors}) if arguments.keep_others else {}
    text = report(results, photos, kept)
    others = "; ".join(f"{o['id']} ({o['reason'] or 'kept'}: flat {o['flat']}, hue "
                       f"{'—' if o['hue'] is None else round(o['hue'], 1)})" for o in non_faces["others"])
    text += (f"\n\nNot a face (`faces.not_a_face`), on every candidate of dlib's upright pass: the "
             f"{non_faces['faces']} labelled real faces it finds have a flat inner face of {non_faces['flat'][0]} to "
             f"{non_faces['flat'][1]} "
             f"(refused as a drawing above {faces.FLAT_MAX}) and, on the {non_faces['hue_judged']} in colour, a skin "
             f"hue of {non_faces['hue'][0]:.1f} to {non_faces['hue'][1]:.1f} degrees (refused under "
             f"{faces.SKIN_HUE_MIN:.0f}); real faces refused: {', '.join(non_faces['refused_faces']) or 'none'}. The "
             f"other candidates: {others}. Colour casts on {', '.join(CAST_PHOTOS)}, and toned prints of "
             f"{', '.join(TONE_PHOTOS)}, faces no longer found: "
             + "; ".join(f"{name}: {', '.join(lost) or 'none'}" for name, lost in non_faces["casts"].items()) + ". "
             + "Its cost, the face search timed with and without it, interleaved (median per photo): "
             + "; ".join(f"{name} ({c['photos']} photos) {c['ms_with_check']:.1f} against "
                         f"{c['ms_without_check']:.1f} ms" for name, c in cost.items()) + ".")
    loo = fit["leave_one_out"]
    text += (f"\n\nThe assistant's head model, fitted on the {fit['faces']} labelled frontal faces the project finds "
             f"(crown above the eye line = {fit['crown_above_eyes'][0]} eye distances + {fit['crown_above_eyes'][1]} "
             f"eye-to-nose distances; chin below = {fit['chin_below_eyes'][0]} + {fit['chin_below_eyes'][1]}; in "
             f"`chalicelib/imaging/assistant.py`: {list(CROWN_ABOVE_EYES)} and {list(CHIN_BELOW_EYES)}). Measured "
             f"leave-one-out, each face predicted by the model fitted on the others: mean error "
             f"{_percent(loo['mean_abs'])}, worst {_percent(loo['max_abs'])}, within ±5 % for {loo['within_band']} "
             f"of {loo['count']} faces.")
    project_errors = results.get("project", {}).get("head_error", {}).get("errors")
    if project_errors:
        low, high = min(project_errors), max(project_errors)
        text += (f" On a photo framed at the norm's middle ({100 * TARGET_RATIO:.0f} %), the project's errors on the "
                 f"portraits above ({100 * low:+.1f} to {100 * high:+.1f} % of the height) give a measured face of "
                 f"{TARGET_RATIO + low:.3f} to {TARGET_RATIO + high:.3f}, inside the error limits "
                 f"{assistant.SIZE_ERROR_LOW} and {assistant.SIZE_ERROR_HIGH}: no such photo is blocked.")
    exact, with_68 = bounds["chin_exact"], bounds["chin_68"]
    text += (f"\n\nWhy not closer (`head_bounds`, on the same {bounds['faces']} faces, leave-one-out): the crown and "
             f"the chin share the error about equally (root mean square {_percent(bounds['rms_crown'])} and "
             f"{_percent(bounds['rms_chin'])} of the photo's height). With the chin located exactly (its label), the "
             f"crown placed from eyes, nose and that chin: mean {_percent(exact['mean_abs'])}, worst "
             f"{_percent(exact['max_abs'])}, within ±5 % for {exact['within_band']} of {exact['count']}. With the "
             f"chin of dlib's 68-point model (its jaw line; not deployable): mean {_percent(with_68['mean_abs'])}, "
             f"worst {_percent(with_68['max_abs'])}, within ±5 % for {with_68['within_band']} of {with_68['count']}. "
             f"With a first chin search in the image (`_chin_edge`, not in the assistant): mean "
             f"{_percent(bounds['chin_edge']['mean_abs'])}, worst {_percent(bounds['chin_edge']['max_abs'])}, within "
             f"±5 % for {bounds['chin_edge']['within_band']} of {bounds['chin_edge']['count']}.")
    print(text)
    text += "\n\nThe photos (labels in `bench/faces/portraits.json`, conventions in `bench/faces/README.md`):\n\n"
    text += set_table(photos)
    if not arguments.no_docs:
        write_docs(text)


if __name__ == "__main__":
    main()
