"""The ID-photo pipeline against libvips and naive Pillow: time, quality (SSIM), extra peak memory.

The input is a generated 4032 x 3024 phone-like JPEG (quality 92, 4:2:0, camera EXIF), about 4 MB: 1/f ("pink")
luminance texture like natural scenes, smooth chroma, a face with hair, eyes and shoulders, a bright window with hard
edges, and sensor noise. The crop is 2000 x 2570 (35:45) in the middle, the output 413 x 531, JPEG quality 90,
no metadata.

- ours: ``chalicelib.imaging.photo.normalize_photo`` (header checks with Pillow, decode, crop and Lanczos with
  libvips, the clean encode with Pillow).
- vips: libvips through pyvips doing the same work the way libvips does it best: JPEG shrink-on-load by the factor
  that ``vips_thumbnail`` would pick (at most half the total reduction, so that the Lanczos resize still has twice the
  pixels), sequential access, crop, ``resize`` with the lanczos3 kernel, ``jpegsave`` Q 90, 4:4:4, nothing kept.
- pillow: Pillow alone, the pipeline as it was until 2026-11-27: DCT-scaled decode (``draft``) to at least twice the
  output, LANCZOS from the crop box, the same clean encoder. Kept as a figure: what libvips brings.
- naive: Pillow decoding every pixel (no draft), orient, crop, LANCZOS, save q90 4:4:4.
- reference for SSIM: the naive pipeline's pixels before encoding (full-resolution decode, LANCZOS). The target is
  on our pipeline's pixels as handed to the JPEG encoder: encoding at quality 90, which every pipeline must do, costs
  far more SSIM on a detailed photo than resampling does, and would hide what the shortcut (draft decode) loses.

The photo assistant (``chalicelib.imaging.assistant.analyse_jpeg``: face detection and the checks), which the image
trigger runs on every upload besides the pipeline, is timed on the same photo and crop, apart: its figure is not in
``photo_vs_vips`` but beside it (``assistant`` in the details), and what an upload costs with it
(``photo_with_assistant_vs_vips``). When it cannot run (its detector missing or failing), it is reported as not
measured and the rest of the figures stand.

Memory: each pipeline runs in a fresh interpreter (``python -m bench.photo --memory-worker NAME PATH``) after the
libraries are loaded and warmed up on a small image; the figure is the peak RSS that the photo adds (VmHWM - VmRSS
before), with glibc's mmap threshold fixed so that freed buffers are returned at once (see ``_worker_environment``);
the peak over several workers. Ours is the same every time; libvips' is not (about 7 or about 10 MiB from one run to
the next, as its write-behind thread holds one more buffer or not), so the range is reported too.
"""
from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

from .common import CACHE_DIR, PROJECT_DIR, extra_peak_mib, interleaved, median

PHOTO_SIZE = (4032, 3024)
OUTPUT_SIZE = (413, 531)
# Centred; the top edge rounded to an even row so that libvips' integer crop after its shrink-by-2 on load lands on
# exactly the same pixels (an odd edge would shift its output by half a pixel and lower its SSIM, not its time).
CROP = {"x": (4032 - 2000) // 2, "y": (3024 - 2570) // 2 - 1, "width": 2000, "height": 2570}
QUALITY = 90
GENERATOR_VERSION = 1
PIPELINES = ("ours", "vips", "pillow", "naive")


# --- the input photo ------------------------------------------------------------------------------------------------

def _pink_noise(rng, height: int, width: int, beta: float):
    """Gaussian noise whose amplitude spectrum falls as 1/f**beta (natural images: beta about 1), unit variance."""
    import numpy as np

    spectrum = np.fft.rfft2(rng.standard_normal((height, width), dtype=np.float32))
    fy = np.fft.fftfreq(height).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(width).astype(np.float32)[None, :]
    radius = np.hypot(fx, fy)
    radius[0, 0] = 1.0
    spectrum *= radius ** -beta
    plane = np.fft.irfft2(spectrum, s=(height, width)).astype(np.float32)
    plane -= plane.mean()
    plane /= plane.std()
    return plane


def make_photo(seed: int = 7) -> bytes:
    """The 4032 x 3024 phone-like JPEG (deterministic for a seed; a few seconds: cached by ``photo_bytes``)."""
    import numpy as np
    from PIL import ExifTags, Image, ImageDraw, ImageFilter

    width, height = PHOTO_SIZE
    rng = np.random.default_rng(seed)

    def smooth(beta: float, scale: int = 8):
        small = _pink_noise(rng, height // scale, width // scale, beta)
        return np.asarray(Image.fromarray(small).resize(PHOTO_SIZE, Image.Resampling.BICUBIC))

    texture = _pink_noise(rng, height, width, 1.2)
    y = 120 + 38 * texture
    cb = 128 + 10 * smooth(1.3)
    cr = 128 + 10 * smooth(1.3)

    # Shapes drawn as soft masks: (mask, luma, cb, cr, how much of the texture shows through).
    def mask(draw_shapes, blur: float):
        layer = Image.new("L", PHOTO_SIZE, 0)
        draw_shapes(ImageDraw.Draw(layer))
        return np.asarray(layer.filter(ImageFilter.GaussianBlur(blur)), dtype=np.float32) / 255

    cx, cy = width // 2, height // 2
    window = mask(lambda d: d.rectangle((250, 200, 1300, 1500), fill=255), 1.5)
    shoulders = mask(lambda d: d.polygon([(cx - 1100, height), (cx - 700, cy + 650), (cx + 700, cy + 650),
                                          (cx + 1100, height)], fill=255), 3)
    hair = mask(lambda d: d.ellipse((cx - 560, cy - 900, cx + 560, cy + 150), fill=255), 6)
    face = mask(lambda d: d.ellipse((cx - 470, cy - 700, cx + 470, cy + 620), fill=255), 4)
    eyes = mask(lambda d: [d.ellipse((cx + dx - 90, cy - 210, cx + dx + 90, cy - 140), fill=255)
                           for dx in (-200, 200)], 2)
    for layer, (luma, blue, red, texture_share) in ((window, (235, 126, 130, 0.1)), (shoulders, (45, 135, 122, 0.5)),
                                                   (hair, (40, 122, 136, 0.8)), (face, (170, 112, 150, 0.3)),
                                                   (eyes, (30, 128, 128, 0.2))):
        y = y * (1 - layer) + (luma + texture_share * (y - 120)) * layer
        cb = cb * (1 - layer) + blue * layer
        cr = cr * (1 - layer) + red * layer
    planes = []
    for plane in (y, cb, cr):
        plane = plane + rng.standard_normal((height, width), dtype=np.float32) * 1.4  # sensor noise
        planes.append(Image.fromarray(np.clip(plane, 0, 255).astype(np.uint8)))
    image = Image.merge("YCbCr", planes).convert("RGB")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 12"
    exif[ExifTags.Base.Orientation] = 1
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92, subsampling=2, exif=exif.tobytes())
    return out.getvalue()


def _cached(name: str, make) -> Path:
    """The generated photo ``name`` in the bench's cache, made once (written whole, by a rename)."""
    path = CACHE_DIR / f"{name}-v{GENERATOR_VERSION}.jpg"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(make())
        temporary.replace(path)
    return path


def photo_path() -> Path:
    return _cached("phone-photo", make_photo)


def photo_bytes() -> bytes:
    return photo_path().read_bytes()


# A real portrait (data/photos/: NASA's Eileen Collins, public domain) for the benches that need a face the assistant
# finds, as town halls upload: the phone photo above with the portrait scaled into its crop (CROP frames it to the
# norm). The drawn face of ``make_photo`` is not a face for dlib: it measures the no-face path.
PORTRAIT = PROJECT_DIR / "data" / "photos" / "portrait-astronaute.jpg"


def make_portrait_photo() -> bytes:
    from PIL import Image

    image = Image.open(io.BytesIO(photo_bytes())).convert("RGB")
    portrait = Image.open(PORTRAIT).convert("RGB").resize((CROP["width"], CROP["height"]), Image.Resampling.LANCZOS)
    image.paste(portrait, (CROP["x"], CROP["y"]))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92, subsampling=2, exif=Image.open(photo_path()).getexif().tobytes())
    return out.getvalue()


def portrait_photo_bytes() -> bytes:
    return _cached("phone-portrait", make_portrait_photo).read_bytes()


# --- the pipelines --------------------------------------------------------------------------------------------------

def ours(data: bytes, crop: dict = CROP) -> bytes:
    from chalicelib.imaging.photo import normalize_photo

    return normalize_photo(data, crop)


def ours_pixels(data: bytes, pipeline=ours):
    """Our pipeline's 413 x 531 image as handed to the JPEG encoder (captured at ``photo._encode``)."""
    from unittest import mock

    from chalicelib.imaging import photo as module

    captured = []
    encode = module._encode

    def capture(image):
        captured.append(image.copy())
        return encode(image)

    with mock.patch.object(module, "_encode", capture):
        pipeline(data)
    return captured[0]


def jpeg_shrink(crop: dict, output=OUTPUT_SIZE) -> int:
    """The shrink-on-load factor vips_thumbnail picks: the largest of 8/4/2 at most half the total reduction."""
    total = min(crop["width"] / output[0], crop["height"] / output[1])
    for factor in (8, 4, 2):
        if total >= 2 * factor:
            return factor
    return 1


def vips(data: bytes, crop: dict = CROP, shrink: int | None = None) -> bytes:
    import pyvips

    shrink = jpeg_shrink(crop) if shrink is None else shrink
    image = pyvips.Image.new_from_buffer(data, "", shrink=shrink, access="sequential")
    image = image.autorot() if image.get_typeof("orientation") else image
    left, top = round(crop["x"] / shrink), round(crop["y"] / shrink)
    width = min(round(crop["width"] / shrink), image.width - left)
    height = min(round(crop["height"] / shrink), image.height - top)
    image = image.crop(left, top, width, height)
    image = image.resize(OUTPUT_SIZE[0] / width, vscale=OUTPUT_SIZE[1] / height, kernel="lanczos3")
    if image.interpretation != "srgb":
        image = image.colourspace("srgb")
    image = image.copy(xres=300 / 25.4, yres=300 / 25.4)
    return image.jpegsave_buffer(Q=QUALITY, keep="none", subsample_mode="off", optimize_coding=False,
                                 interlace=False)


def full_resolution(data: bytes, crop: dict = CROP):
    """Every pixel decoded, oriented, cropped and resized with LANCZOS: the quality reference (a PIL image)."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as image:
        image = ImageOps.exif_transpose(image.convert("RGB"))
    box = (crop["x"], crop["y"], crop["x"] + crop["width"], crop["y"] + crop["height"])
    return image.resize(OUTPUT_SIZE, Image.Resampling.LANCZOS, box=box)


def pillow(data: bytes, crop: dict = CROP) -> bytes:
    """Pillow alone (the pipeline until 2026-11-27): draft decode to >= 2x the output, LANCZOS from the crop box."""
    import math

    from PIL import Image

    from chalicelib.imaging import photo as module

    im = module._open_jpeg(data)
    room = min(crop["width"] / (2 * OUTPUT_SIZE[0]), crop["height"] / (2 * OUTPUT_SIZE[1]))
    full_width = im.size[0]
    if room >= 2:
        im.draft("RGB", tuple(math.ceil(side / room) for side in im.size))
    factor = full_width / im.size[0]
    box = (crop["x"], crop["y"], crop["x"] + crop["width"], crop["y"] + crop["height"])
    return module._encode(im.resize(OUTPUT_SIZE, Image.Resampling.LANCZOS, box=[side / factor for side in box]))


def naive(data: bytes, crop: dict = CROP) -> bytes:
    out = io.BytesIO()
    full_resolution(data, crop).save(out, format="JPEG", quality=QUALITY, subsampling=0)
    return out.getvalue()


PIPELINE_FUNCTIONS = {"ours": ours, "vips": vips, "pillow": pillow, "naive": naive}


def assistant(data: bytes, crop: dict = CROP):
    """The photo assistant as the image trigger calls it on an upload with the agent's crop (public API only)."""
    from chalicelib.imaging.assistant import analyse_jpeg

    return analyse_jpeg(data, crop)


def run_pipeline(name: str, data: bytes) -> bytes:
    return PIPELINE_FUNCTIONS[name](data)


def _decoded(jpeg: bytes):
    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as image:
        return image.convert("RGB")


def _setup_vips() -> None:
    import pyvips

    pyvips.cache_set_max(0)  # every run does the whole work: no operation cache between repetitions


# --- measurements ---------------------------------------------------------------------------------------------------

def quality(data: bytes) -> dict:
    """SSIM (luminance) against the full-resolution LANCZOS reference.

    ``*_pixels``: the 413 x 531 image each pipeline hands to its JPEG encoder (what the resampling path loses: the
    figure the target is about); ``*_jpeg``: the decoded q90 output (JPEG q90 itself costs as much on a detailed
    photo: ``reference_q90_jpeg`` is the reference's own pixels through the same encoder).
    """
    import numpy as np

    from .ssim import ssim

    reference = full_resolution(data)
    reference_q90 = _decoded(naive(data))
    vips_pixels = _vips_pixels(data)
    return {
        "ours_pixels": ssim(ours_pixels(data), reference),
        "vips_pixels": ssim(np.asarray(vips_pixels), reference),
        "pillow_pixels": ssim(ours_pixels(data, pillow), reference),
        "ours_jpeg": ssim(_decoded(ours(data)), reference),
        "vips_jpeg": ssim(_decoded(vips(data)), reference),
        "reference_q90_jpeg": ssim(reference_q90, reference),
        "ours_jpeg_vs_reference_q90_jpeg": ssim(_decoded(ours(data)), reference_q90),
    }


def _vips_pixels(data: bytes, crop: dict = CROP):
    """The vips pipeline's image before its JPEG encoder (as an H x W x 3 array)."""
    import pyvips

    shrink = jpeg_shrink(crop)
    image = pyvips.Image.new_from_buffer(data, "", shrink=shrink, access="sequential")
    width, height = round(crop["width"] / shrink), round(crop["height"] / shrink)
    image = image.crop(round(crop["x"] / shrink), round(crop["y"] / shrink), width, height)
    return image.resize(OUTPUT_SIZE[0] / width, vscale=OUTPUT_SIZE[1] / height, kernel="lanczos3").numpy()


def output_checks(data: bytes) -> dict:
    """What each pipeline writes: size, markers besides the image data, chroma subsampling."""
    from PIL import Image, JpegImagePlugin

    checks = {}
    for name in PIPELINES:
        output = run_pipeline(name, data)
        with Image.open(io.BytesIO(output)) as image:
            checks[name] = {"bytes": len(output), "size": list(image.size),
                            "metadata": sorted(k for k in image.info if k in ("exif", "icc_profile", "xmp", "comment")),
                            "subsampling": JpegImagePlugin.get_sampling(image)}
    return checks


def timings(data: bytes, rounds: int) -> dict[str, list[float]]:
    _setup_vips()
    return interleaved({name: (lambda name=name: run_pipeline(name, data)) for name in PIPELINES}, rounds)


def stages(data: bytes, rounds: int) -> dict[str, float]:
    """Where each pipeline's time goes (ms, medians of interleaved runs), the stages run one at a time on the previous
    stage's kept result: ours (``photo``'s own steps: the header checks with Pillow, libvips' decode at 1/2 + crop +
    Lanczos to memory through ``resampling.decode_resized``, the clean re-encode with Pillow) and libvips' (decoding up
    to the crop's last row, as its sequential pipeline does, the lanczos3 resize from memory, jpegsave); both whole
    pipelines take turns with them, so that the stages can be set against the wholes of the same moments."""
    import pyvips

    from chalicelib.imaging import photo as module, resampling

    _setup_vips()
    rect = module._parse_crop(CROP)

    def checks():
        im = module._open_jpeg(data)
        module._check_crop(rect, module._oriented_size(im.size, module._orientation(im)))

    factor = module._shrink_factor(rect)
    box = resampling.Box(rect.x / factor, rect.y / factor, rect.width / factor, rect.height / factor)
    resized = resampling.decode_resized(data, OUTPUT_SIZE, factor, box)
    shrink = jpeg_shrink(CROP)
    left, top = round(CROP["x"] / shrink), round(CROP["y"] / shrink)
    width, height = round(CROP["width"] / shrink), round(CROP["height"] / shrink)

    def vips_decode():
        image = pyvips.Image.new_from_buffer(data, "", shrink=shrink, access="sequential")
        return image.crop(left, top, width, height).copy_memory()

    vips_region = vips_decode()

    def vips_resize():
        return vips_region.resize(OUTPUT_SIZE[0] / width, vscale=OUTPUT_SIZE[1] / height,
                                  kernel="lanczos3").copy_memory()

    vips_resized = vips_resize()
    times = interleaved({
        "ours_checks": checks,
        "ours_decode_resample": lambda: resampling.decode_resized(data, OUTPUT_SIZE, factor, box),
        "ours_encode": lambda: module._encode(resized),
        "vips_decode": vips_decode,
        "vips_resample": vips_resize,
        "vips_encode": lambda: vips_resized.jpegsave_buffer(Q=QUALITY, keep="none", subsample_mode="off",
                                                            optimize_coding=False, interlace=False),
        "ours": lambda: ours(data),
        "vips": lambda: vips(data),
    }, rounds)
    return {name: round(median(values) * 1000, 2) for name, values in times.items()}


# A warm analysis slower than this is timed over fewer rounds, so that a slow detector does not stretch the run.
ASSISTANT_SLOW_SECONDS = 0.5


def assistant_timings(data: bytes, rounds: int) -> dict:
    """The assistant's time on the bench photo, taking turns with our pipeline and libvips (so that its ratio to them
    shares their moments), or ``{"measured": False, "reason": ...}`` when it cannot run."""
    import time

    try:
        started = time.perf_counter()
        first = assistant(data)
        first_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        assistant(data)
        warm_seconds = time.perf_counter() - started
    except Exception as error:  # noqa: BLE001 - any failure of the assistant: reported, never fatal to the bench
        return {"measured": False, "reason": f"{type(error).__name__}: {error}"[:300]}
    if warm_seconds > ASSISTANT_SLOW_SECONDS:
        rounds = max(5, rounds // 3)
    detect_ms: list[float] = []

    def run_assistant():
        analysis = assistant(data)
        detect = analysis.measures.get("detect_seconds") if isinstance(analysis.measures, dict) else None
        if isinstance(detect, (int, float)):
            detect_ms.append(detect * 1000)

    try:
        times = interleaved({"ours": lambda: ours(data), "assistant": run_assistant, "vips": lambda: vips(data)},
                            rounds, warmup=1)
    except Exception as error:  # noqa: BLE001
        return {"measured": False, "reason": f"{type(error).__name__}: {error}"[:300]}
    medians = {name: median(values) * 1000 for name, values in times.items()}
    return {
        "measured": True,
        "runs": rounds,
        "time_ms": {name: round(value, 2) for name, value in medians.items()},
        # The assistant's own measure of its face search (the rest: its reduced decode, the checks).
        "detect_ms": round(median(detect_ms), 2) if detect_ms else None,
        "first_call_ms": round(first_ms, 1),  # imports, detector loading: once per container
        "assistant_vs_pipeline": medians["assistant"] / medians["ours"],
        "assistant_vs_vips": medians["assistant"] / medians["vips"],
        "photo_with_assistant_vs_vips": (medians["ours"] + medians["assistant"]) / medians["vips"],
        "faces": len(getattr(first, "faces", None) or []),
        "checks": [getattr(check, "code", str(check)) for check in getattr(first, "checks", None) or []],
    }


def memory(path: Path, repeats: int) -> dict[str, list[float]]:
    """Extra peak RSS (MiB) of each pipeline, each run in a fresh interpreter, the pipelines taking turns."""
    results: dict[str, list[float]] = {name: [] for name in PIPELINES}
    for _ in range(repeats):
        for name in PIPELINES:
            output = subprocess.run([sys.executable, "-m", "bench.photo", "--memory-worker", name, str(path)],
                                    cwd=PROJECT_DIR, check=True, capture_output=True, text=True,
                                    env=_worker_environment()).stdout
            results[name].append(json.loads(output.strip().splitlines()[-1])["extra_peak_mib"])
    return results


def _worker_environment() -> dict:
    import os

    # A fixed mmap threshold turns off glibc's adaptive one: every large buffer (decoded images, libvips regions) is
    # mapped on allocation and unmapped when freed, so the warm-up's buffers cannot be reused unseen by the measure and
    # the peak RSS is the memory the work really needs, for every pipeline alike.
    return {**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": "131072"}


def _memory_worker(name: str, path: Path) -> dict:
    from PIL import Image

    data = path.read_bytes()
    if name == "vips":
        _setup_vips()
    # Load every library and code path once, on a small photo, so that only the work itself is measured.
    small = io.BytesIO()
    Image.new("RGB", (900, 1200), "grey").save(small, format="JPEG")
    small_crop = {"x": 0, "y": 0, "width": 700, "height": 900}
    PIPELINE_FUNCTIONS[name](small.getvalue(), small_crop)
    return {"pipeline": name, "extra_peak_mib": round(extra_peak_mib(lambda: run_pipeline(name, data)), 2)}


def measure(rounds: int = 15, memory_repeats: int = 5) -> dict:
    path = photo_path()
    data = path.read_bytes()
    times = timings(data, rounds)
    mem = memory(path, memory_repeats)
    helper = assistant_timings(data, rounds)
    try:
        where = stages(data, rounds)
    except Exception as error:  # noqa: BLE001 - the breakdown explains the figures; it must not cost them
        where = {"error": f"{type(error).__name__}: {error}"[:300]}
    medians_ms = {name: median(values) * 1000 for name, values in times.items()}
    # The peak over the runs: what a function must be sized for. Ours is the same on every run; libvips' takes one of
    # two values (see the module's doc), and a median would pick one of them at random.
    mem_peaks = {name: max(values) for name, values in mem.items()}
    return {
        "input": {"bytes": len(data), "size": list(PHOTO_SIZE), "crop": CROP, "output": list(OUTPUT_SIZE),
                  "vips_shrink_on_load": jpeg_shrink(CROP)},
        "time_ms": {name: round(value, 2) for name, value in medians_ms.items()},
        "time_runs": rounds,
        "photo_vs_vips": medians_ms["ours"] / medians_ms["vips"],
        "photo_vs_naive": medians_ms["ours"] / medians_ms["naive"],
        "photo_vs_pillow": medians_ms["ours"] / medians_ms["pillow"],
        "extra_peak_mib": {name: round(value, 2) for name, value in mem_peaks.items()},
        "extra_peak_mib_range": {name: [min(values), max(values)] for name, values in mem.items()},
        "memory_runs": memory_repeats,
        "photo_mem_vs_vips": mem_peaks["ours"] / mem_peaks["vips"],
        "photo_mem_vs_vips_lower_mode": mem_peaks["ours"] / min(mem["vips"]),
        "pillow_vs_vips": {"time": medians_ms["pillow"] / medians_ms["vips"],
                           "memory": mem_peaks["pillow"] / mem_peaks["vips"]},
        "stages_ms": where,
        "assistant": helper,
        "photo_with_assistant_vs_vips": helper.get("photo_with_assistant_vs_vips"),
        "quality": quality(data),
        "outputs": output_checks(data),
        "vips_version": _vips_version(),
    }


def _vips_version() -> str:
    import pyvips

    return f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}, pyvips {pyvips.__version__}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--memory-worker", nargs=2, metavar=("PIPELINE", "PATH"))
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    if args.memory_worker:
        name, path = args.memory_worker
        print(json.dumps(_memory_worker(name, Path(path))))
        return 0
    print(json.dumps(measure(args.rounds), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
