"""Coverage-guided fuzzing of the photo sanitiser (``chalicelib.imaging.photo.normalize_photo``) with atheris.

    python -m tests.security.photo_fuzz --seconds 60 --report var/security/photo-fuzz.json

Each input is one byte choosing how the crop is made, then the file: 0 = the whole picture as the browser would send
it, 1 = a crop derived from the next three bytes (often valid, so decoding, orientation and resampling are reached),
2 = a malformed crop (wrong types). Only ``PhotoRejected`` may escape; anything else is a crash. libFuzzer bounds each
input's time (``-timeout``) and the process's memory (``-rss_limit_mb``); the seeds are the hostile and odd files of
``tests/unit/photo_corpus.py``. The report gives executions, crashes, hangs and the peak memory.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PER_INPUT_SECONDS = 10
RSS_LIMIT_MB = 2048
MAX_LEN = 256 * 1024


def seeds() -> dict[str, bytes]:
    from tests.unit import photo_corpus as c

    files = {
        "small": c.small_jpeg((700, 900)), "oriented6": c.oriented_pattern_jpeg(6), "cmyk": c.cmyk_jpeg(),
        "gray": c.grayscale_jpeg(), "progressive": c.progressive_jpeg((700, 900)), "gps": c.gps_jpeg(),
        "mpo": c.mpo_jpeg(), "bad_icc": c.bad_icc_jpeg(), "broken_exif": c.broken_exif_jpeg(),
        "truncated": c.truncated_jpeg(), "header_only": c.header_only_jpeg(), "soi": c.soi_only(),
        "png": c.png_named_jpg(), "gif": c.gif_named_jpg(), "html": c.html_named_jpg(),
        "huge_declared": c.huge_declared_jpeg(),
    }
    out = {}
    for name, data in files.items():
        if len(data) < MAX_LEN:
            out[f"{name}-whole"] = b"\x00" + data
            out[f"{name}-crop"] = b"\x01\x00\x00\x00" + data
    return out


def crop_and_file(data: bytes):
    from chalicelib.imaging import photo

    if not data:
        return {"x": 0, "y": 0, "width": 413, "height": 531}, b""
    mode, rest = data[0] % 3, data[1:]
    if mode == 0:
        try:  # the whole upright picture, from the headers as normalize_photo reads them
            image = photo._open_jpeg(rest)
            width, height = photo._oriented_size(image.size, photo._orientation(image))
        except photo.PhotoRejected:
            width, height = 700, 900
        return {"x": 0, "y": 0, "width": width, "height": height}, rest
    if mode == 1 and len(rest) >= 3:
        width = 413 + rest[2] * 3
        return {"x": rest[0], "y": rest[1], "width": width, "height": round(width * 45 / 35)}, rest[3:]
    return {"x": "0", "y": None, "width": True, "height": 531.5}, rest


def fuzz_target():
    import atheris

    with atheris.instrument_imports():
        from chalicelib.imaging import photo

    def test_one_input(data: bytes):
        crop, payload = crop_and_file(data)
        try:
            photo.normalize_photo(payload, crop)
        except photo.PhotoRejected:
            pass

    return test_one_input


def child(argv):
    import atheris

    atheris.Setup(argv, fuzz_target())
    atheris.Fuzz()


def run(seconds: int, workdir: Path) -> dict:
    corpus = workdir / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, data in seeds().items():
        (corpus / name).write_bytes(data)
    artifacts = workdir / "artifacts"
    artifacts.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "tests.security.photo_fuzz", "--child", f"-max_total_time={seconds}",
               f"-timeout={PER_INPUT_SECONDS}", f"-rss_limit_mb={RSS_LIMIT_MB}", f"-max_len={MAX_LEN}",
               f"-artifact_prefix={artifacts}/", "-print_final_stats=1", str(corpus)]
    started = time.monotonic()
    process = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120,
                             cwd=Path(__file__).resolve().parents[2])
    elapsed = time.monotonic() - started
    log = process.stderr + process.stdout
    (workdir / "fuzz.log").write_text(log)
    runs = [int(n) for n in re.findall(r"Done (\d+) runs", log)] or \
        [int(n) for n in re.findall(r"stat::number_of_executed_units: (\d+)", log)]
    rss = [int(n) for n in re.findall(r"rss: (\d+)Mb", log)]
    peak = max(rss + [int(n) for n in re.findall(r"stat::peak_rss_mb: (\d+)", log)] or [0])
    crashes = len(re.findall(r"Uncaught Python exception|==\d+== ERROR: libFuzzer: deadly signal", log))
    hangs = len(re.findall(r"ALARM: working on the last Unit|ERROR: libFuzzer: timeout", log))
    out_of_memory = len(re.findall(r"ERROR: libFuzzer: out-of-memory", log))
    coverage = re.findall(r"cov: (\d+)", log)
    return {
        "tool": "atheris " + _version(), "seconds": round(elapsed, 1), "executions": max(runs or [0]),
        "crashes": crashes, "hangs": hangs, "out_of_memory": out_of_memory, "peak_rss_mb": peak,
        "per_input_limit_s": PER_INPUT_SECONDS, "rss_limit_mb": RSS_LIMIT_MB, "max_input_bytes": MAX_LEN,
        "seeds": len(seeds()), "corpus_after": len(list(corpus.iterdir())),
        "coverage_edges": int(coverage[-1]) if coverage else None, "exit_code": process.returncode,
        "artifacts": sorted(p.name for p in artifacts.iterdir()),
        "children_max_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
    }


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("atheris")
    except Exception:  # noqa: BLE001
        return "?"


def main(argv=None) -> int:
    argv = list(sys.argv if argv is None else argv)
    if "--child" in argv:
        argv.remove("--child")
        child(argv)
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--report")
    args = parser.parse_args(argv[1:])
    with tempfile.TemporaryDirectory() as folder:
        report = run(args.seconds, Path(folder))
    text = json.dumps(report, indent=1)
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text(text)
    print(text)
    return 0 if report["crashes"] == report["hangs"] == report["out_of_memory"] == 0 else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
