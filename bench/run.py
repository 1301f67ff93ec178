"""``make bench``: every benchmark as a ratio against a reference measured in the same run; prints a table, writes
``var/bench.json`` (the figures and their targets), ``var/bench-details.json`` (everything measured) and the figures
section of ``docs/performance.md``.

    python -m bench.run [--quick] [--only photo,previews,coldstart,journey,import,export,overhead,upload,national]
                        [--no-docs]

The whole run is pinned to one CPU (children inherit it), so that the shared machine's other work is less in the
figures, and every time is the median of repeated, interleaved runs. The reference tools (pyvips with the libvips
wheel, numpy) are in requirements.txt: the photo pipeline uses them too, and ``make bench`` installs them first.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
import traceback
from importlib import metadata
from pathlib import Path

from .common import CACHE_DIR, PROJECT_DIR, VAR_DIR, Metric, pin_to_one_core

DOCS = PROJECT_DIR / "docs" / "performance.md"
DOCS_START = "<!-- bench:figures:start (written by `make bench`: do not edit by hand) -->"
DOCS_END = "<!-- bench:figures:end -->"
SECTIONS = ("photo", "previews", "coldstart", "journey", "import", "export", "overhead", "upload", "national")
# The national import takes about half an hour on the emulation: a run may leave it out (``--only`` the others) and
# still rewrite the docs, whose national figures are then those of its last run, kept here with their date.
SLOW_SECTIONS = ("national",)
NATIONAL_KEPT = CACHE_DIR / "national.json"


# --- the machine ----------------------------------------------------------------------------------------------------

def machine(cpu: int | None) -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    import os

    from PIL import __version__ as pillow_version, features

    info = {
        "cpu": model, "cpus": os.cpu_count(), "pinned_cpu": cpu, "memory_gib": memory_gib,
        "kernel": platform.release(), "python": platform.python_version(),
        "pillow": pillow_version, "libjpeg": f"{'libjpeg-turbo ' if features.check_feature('libjpeg_turbo') else ''}"
                                             f"{features.version('libjpeg_turbo') or features.version('jpg')}",
    }
    for name in ("pyvips", "pyvips-binary", "numpy", "boto3", "moto", "chalice", "pynamodb", "argon2-cffi"):
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    try:
        import pyvips

        info["libvips"] = f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"
    except Exception:  # noqa: BLE001 - informative only
        pass
    return info


# --- the sections ---------------------------------------------------------------------------------------------------

def run_photo(quick: bool) -> dict:
    from . import photo

    return photo.measure(rounds=7 if quick else 21, memory_repeats=3 if quick else 9)


def run_previews(quick: bool) -> dict:
    from . import previews

    return previews.measure(rounds=3 if quick else 9)


def run_coldstart(quick: bool) -> dict:
    from . import coldstart

    result = coldstart.measure(rounds=5 if quick else 21)
    result["first_request"] = coldstart.first_request(rounds=5 if quick else 15)
    # What dominates beyond a bare boto3 import (python -X importtime; figures inflated by the tracing, shares not).
    result["beyond_boto3"] = {"api": coldstart.beyond_boto3("api"), "image": coldstart.beyond_boto3("image")}
    return result


def run_journey(quick: bool) -> dict:
    output = subprocess.run([sys.executable, "-m", "bench.journey"], cwd=PROJECT_DIR, check=True,
                            capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def run_import(quick: bool) -> dict:
    from . import import_memory

    sizes = {50_000: 1 if quick else 3, 500_000: 1 if quick else 2}
    runs = {rows: [import_memory.run(rows, VAR_DIR) for _ in range(repeats)] for rows, repeats in sizes.items()}
    from .common import median

    summary = {}
    for rows, results in runs.items():
        summary[rows] = {
            "runs": len(results),
            "peak_rss_mib": median(r["peak_rss_mib"] for r in results),
            "rows_per_second": round(median(r["rows_per_second"] for r in results)),
            "seconds": median(r["seconds"] for r in results),
            "batch_writes_per_row": results[0]["batch_writes_per_row"],
            "progress_writes": results[0]["progress_writes"],
        }
    return {"sizes": summary,
            "import_mem_500k_vs_50k": summary[500_000]["peak_rss_mib"] / summary[50_000]["peak_rss_mib"]}


def run_overhead(quick: bool) -> dict:
    from . import request_overhead

    return request_overhead.measure(rounds=7 if quick else 21)


def run_upload(quick: bool) -> dict:
    output = subprocess.run([sys.executable, "-m", "bench.upload", "--rounds", "5" if quick else "21"],
                            cwd=PROJECT_DIR, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def run_export(quick: bool) -> dict:
    """A national list's file written by the worker: memory at two sizes (it must not grow with the list), and the
    rows a second against the writer alone (the reference: what reading and the views add)."""
    from . import export_memory, export_tables
    from .common import median

    small, large = (5_000, 50_000) if quick else (20_000, 200_000)
    sizes = {rows: [export_memory.run(rows) for _ in range(1 if quick or rows == large else 2)]
             for rows in (small, large)}
    writer_seconds = median(export_tables.write("csv", small, traced=False)[0] for _ in range(3))
    summary = {rows: {"peak_rss_mib": median(r["peak_rss_mib"] for r in runs),
                      "rows_per_second": round(median(r["rows_per_second"] for r in runs)),
                      "file_mb": runs[0]["file_mb"], "queries": runs[0]["queries"],
                      "progress_writes": runs[0]["progress_writes"]} for rows, runs in sizes.items()}
    return {"sizes": summary, "small": small, "large": large,
            "export_mem_large_vs_small": summary[large]["peak_rss_mib"] / summary[small]["peak_rss_mib"],
            "writer_rows_per_second": round(small / writer_seconds),
            "worker_vs_writer": (small / summary[small]["rows_per_second"]) / writer_seconds}


def run_national(quick: bool) -> dict:
    from . import national_import

    result = national_import.measure(*((50_000, 5_000) if quick else (national_import.CM_ROWS,
                                                                       national_import.MAIRES_ROWS)))
    result["measured_at"] = time.strftime("%Y-%m-%d %H:%M %Z")
    if not quick:
        NATIONAL_KEPT.parent.mkdir(parents=True, exist_ok=True)
        NATIONAL_KEPT.write_text(json.dumps(result, indent=2) + "\n")
    return result


def kept_national() -> dict | None:
    """The national import's figures of its last full run (``SLOW_SECTIONS``), or None."""
    try:
        return json.loads(NATIONAL_KEPT.read_text())
    except (OSError, ValueError):
        return None


RUNNERS = {"photo": run_photo, "previews": run_previews, "coldstart": run_coldstart, "journey": run_journey,
           "import": run_import, "export": run_export, "overhead": run_overhead, "upload": run_upload,
           "national": run_national}


def metrics(results: dict) -> list[Metric]:
    """The figures with a target, from whichever sections ran."""
    out: list[Metric] = []
    photo = results.get("photo")
    if photo:
        out += [
            Metric("photo_vs_vips", photo["photo_vs_vips"], 1.0, "ratio",
                   note=f"{photo['time_ms']['ours']:.0f} ms vs libvips {photo['time_ms']['vips']:.0f} ms"),
            Metric("photo_ssim", photo["quality"]["ours_pixels"], 0.998, "SSIM", higher_is_better=True,
                   note="413x531 pixels vs full-resolution LANCZOS"),
            Metric("photo_mem_vs_vips", photo["photo_mem_vs_vips"], 1.5, "ratio",
                   note=f"{photo['extra_peak_mib']['ours']:.1f} MiB vs libvips {photo['extra_peak_mib']['vips']:.1f}"
                        " MiB extra peak over {0} runs (libvips from {1:.1f}: {2:.2f} x that)".format(
                            photo["memory_runs"], photo["extra_peak_mib_range"]["vips"][0],
                            photo["photo_mem_vs_vips_lower_mode"])),
        ]
    previews = results.get("previews")
    if previews:
        out.append(Metric("previews40_vs_photo", previews["previews40_vs_photo"], 6.0, "ratio",
                          note=f"{previews['per_card_ms']:.1f} ms a card; one preview "
                               f"{previews['preview_vs_photo']:.2f} x the photo"))
    cold = results.get("coldstart")
    if cold:
        ms = cold["import_ms"]
        out += [
            Metric("cold_api_vs_boto3", cold["cold_api_vs_boto3"], 1.15, "ratio",
                   note=f"{ms['api']:.0f} ms CPU vs import boto3 {ms['boto3']:.0f} ms"),
            Metric("cold_image_vs_boto3", cold["cold_image_vs_boto3"], 1.3, "ratio",
                   note=f"{ms['image']:.0f} ms CPU"),
        ]
        first = cold.get("first_request")
        if first:
            out.append(Metric("first_request_vs_boto3", first["first_request_vs_boto3"], 2.0, "ratio",
                              note=f"fresh process, import + first GET /officials {first['cpu_ms']['first_request']:.0f}"
                                   f" ms CPU vs import boto3 + one GetItem {first['cpu_ms']['getitem']:.0f} ms (wall "
                                   f"{first['wall_ms']['first_request']:.0f} vs {first['wall_ms']['getitem']:.0f} ms, "
                                   f"{first['wall_first_request_vs_boto3']:.2f} x), moto server over HTTP"))
    journey = results.get("journey")
    if journey:
        worst = sorted(journey["requests_over_3"], key=lambda r: -r["max_non_page_calls"])
        out += [
            Metric("dynamodb_max_calls_per_request", journey["max_non_page_calls_per_request"], 3, "calls",
                   note=f"{len(worst)} operations over 3" + (f", worst {worst[0]['route']}" if worst else "")),
            Metric("dynamodb_scans", journey["scans"], 0, "calls", note="in every route, handler and the journey"),
            Metric("login_vs_hash", journey["login"]["login_vs_hash"], 1.3, "ratio",
                   note=f"{journey['login']['login_ms']:.0f} ms vs one Argon2id verify "
                        f"{journey['login']['hash_ms']:.0f} ms"),
        ]
    overhead = results.get("overhead")
    if overhead:
        others = overhead["overhead_vs_getitem"]
        ms = overhead["median_ms"]
        out.append(Metric("request_overhead_vs_getitem", overhead["request_overhead_vs_getitem"], 6.0, "ratio",
                          note=f"the worst of the writing routes ({overhead.get('worst_route', 'password_resets')}); "
                               f"(route - GET /health {ms['health']:.1f} ms) / one GetItem {ms['getitem']:.1f} ms: "
                               f"POST /password-resets {others['password_resets']:.1f}, POST /officials "
                               f"{others['post_officials']:.1f}, photo upload {others.get('photo_uploads', 0):.1f}, "
                               f"POST /orders and submit {others['post_orders']:.1f}, a back-office move "
                               f"{others['admin_move']:.1f}"))
    upload = results.get("upload")
    if upload:
        t = upload["time_ms"]
        out.append(Metric("upload_to_ready_vs_pipeline", upload["upload_to_ready_vs_pipeline"], 3.0, "ratio",
                          note=f"a portrait: process_photo_event from the S3 event to `ready` "
                               f"{t['upload_to_ready']:.0f} ms (p90 {t['upload_to_ready_p90']:.0f}) vs libvips alone "
                               f"{t['vips']:.0f} ms; assistant's verdicts: "
                               f"{', '.join(upload['photo']['checks']) or 'none'}; a photo where no face is found: "
                               f"{_no_face(upload)}"))
    imports = results.get("import")
    if imports:
        sizes = imports["sizes"]
        out.append(Metric("import_mem_500k_vs_50k", imports["import_mem_500k_vs_50k"], 1.1, "ratio",
                          note=f"{sizes[500_000]['peak_rss_mib']:.1f} vs {sizes[50_000]['peak_rss_mib']:.1f} MiB "
                               "peak RSS"))
    export = results.get("export")
    if export:
        sizes, small, large = export["sizes"], export["small"], export["large"]
        out.append(Metric("export_mem_large_vs_small", export["export_mem_large_vs_small"], 1.1, "ratio",
                          note=f"a national list's file by its worker, {large:,} vs {small:,} rows: "
                               f"{sizes[large]['peak_rss_mib']:.1f} vs {sizes[small]['peak_rss_mib']:.1f} MiB peak RSS"))
    return out


def _no_face(upload: dict) -> str:
    no_face = upload.get("no_face")
    if not no_face:
        return "not measured"
    return (f"{no_face['time_ms']['upload_to_ready']:.0f} ms, "
            f"{no_face['upload_to_ready_vs_pipeline']:.2f} x libvips ({', '.join(no_face['photo']['checks'])})")


def information(results: dict) -> list[tuple[str, str]]:
    """Figures without a target, for the table and the docs."""
    lines = []
    photo = results.get("photo")
    if photo:
        t = photo["time_ms"]
        lines += [
            ("photo pipeline (ms, median)", f"ours {t['ours']:.0f}, libvips {t['vips']:.0f}, Pillow alone "
                                            f"{t['pillow']:.0f} ({photo['pillow_vs_vips']['time']:.2f} x libvips), "
                                            f"naive Pillow {t['naive']:.0f} ({photo['photo_vs_naive']:.2f} x naive)"),
            ("where the photo time goes (ms)", _stages_line(photo)),
            ("photo assistant, same photo and crop", _assistant_line(photo.get("assistant"))),
            ("photo SSIM of the JPEG outputs", f"ours {photo['quality']['ours_jpeg']:.4f}, libvips "
                                              f"{photo['quality']['vips_jpeg']:.4f}, reference through q90 "
                                              f"{photo['quality']['reference_q90_jpeg']:.4f}"),
            ("Pillow alone (draft, LANCZOS; until 2026-11-27)",
             f"time {photo['pillow_vs_vips']['time']:.2f} x libvips, SSIM {photo['quality']['pillow_pixels']:.4f}, "
             f"memory {photo['pillow_vs_vips']['memory']:.2f} x libvips"),
        ]
    previews = results.get("previews")
    if previews:
        lines.append(("card preview (ms)", f"one {previews['time_ms']['preview']:.1f} (first one, fonts cold: "
                                           f"{previews['first_preview_ms']:.0f}), 40 cards "
                                           f"{previews['time_ms']['order40']:.0f}"))
    cold = results.get("coldstart")
    if cold:
        walls = "boto3 {boto3:.0f}, api {api:.0f}, image {image:.0f}".format(**cold["wall_ms"])
        lines.append(("cold start, wall time (ms, median)",
                      f"{walls} ({cold['wall_api_vs_boto3']:.2f} and {cold['wall_image_vs_boto3']:.2f} x)"))
    imports = results.get("import")
    if imports:
        for rows, size in imports["sizes"].items():
            lines.append((f"directory import {rows:,} rows", f"{size['rows_per_second']:,} rows/s, "
                                                             f"{size['batch_writes_per_row']} BatchWriteItem a row, "
                                                             f"peak RSS {size['peak_rss_mib']:.1f} MiB"))
    export = results.get("export")
    if export:
        large = export["sizes"][export["large"]]
        lines.append((f"national list export, {export['large']:,} rows (CSV)",
                      f"{large['rows_per_second']:,} rows/s client side ({export['worker_vs_writer']:.1f} x the "
                      f"time of the writer alone, {export['writer_rows_per_second']:,} rows/s), {large['file_mb']} MB,"
                      f" {large['queries']:,} Query, {large['progress_writes']} progress writes"))
    national = results.get("national") or kept_national()
    if national:
        for kind in ("rne_cm", "rne_maires"):
            n = national[kind]
            lines.append((f"national import, {kind} ({n['rows']:,} rows, {n['file_mb']:.0f} MB)",
                          f"{n['seconds']:.0f} s on the emulation ({n['rows_per_second']:,} rows/s), handler CPU "
                          f"{n['cpu_seconds']:.0f} s, peak RSS {n['peak_rss_mib']:.0f} MiB, "
                          f"{n['dynamodb_calls'].get('BatchWriteItem', 0):,} BatchWriteItem, {n['write_units']:,} WRU"
                          f" (measured {national.get('measured_at', '?')})"))
    journey = results.get("journey")
    if journey:
        j = journey["journey"]
        lines += [
            ("journey of a commune, 40 officials", f"{j['requests']} requests + {j['handler_invocations']} handler "
                                                   f"runs, {j['calls']} DynamoDB calls ({j['calls_per_card']:.1f} a "
                                                   f"card), {j['read_units']:.0f} RRU + {j['write_units']:.0f} WRU"),
            ("journey cost at on-demand prices", f"${j['cost_usd']:.6f}, ${j['cost_per_card_usd']:.7f} a card "
                                                 f"(eu-west-3, prices {j['prices']['date'][:10]})"),
            ("Argon2id in use",
             "m={memory_kib} KiB, t={time_cost}, p={parallelism}".format(**journey["login"]["argon2"])),
        ]
    return lines


def _stages_line(photo: dict) -> str:
    s = photo.get("stages_ms")
    if not s or "error" in s:
        return f"not measured ({s['error']})" if s else "not measured"
    return (f"ours: header checks {s['ours_checks']:.1f}, libvips decode at 1/2 + crop + lanczos3 "
            f"{s['ours_decode_resample']:.1f}, Pillow encode {s['ours_encode']:.1f}; libvips alone: decode to the "
            f"crop's last row {s['vips_decode']:.1f}, lanczos3 {s['vips_resample']:.1f}, jpegsave "
            f"{s['vips_encode']:.1f} (timed with them: ours {s['ours']:.1f}, libvips {s['vips']:.1f})")


def _assistant_line(assistant: dict | None) -> str:
    """The photo assistant's figure, apart from the pipeline's (the image trigger runs both on an upload)."""
    if not assistant:
        return "not measured"
    if not assistant.get("measured"):
        return f"not measured ({assistant.get('reason', 'unavailable')})"
    t = assistant["time_ms"]
    detect = f" (face search {assistant['detect_ms']:.0f})" if assistant.get("detect_ms") is not None else ""
    found = f"{assistant['faces']} face{'s' if assistant['faces'] != 1 else ''} found"
    if assistant.get("checks"):
        found += ", checks " + ", ".join(assistant["checks"])
    return (f"{t['assistant']:.0f} ms{detect}, {assistant['assistant_vs_pipeline']:.1f} x our pipeline; pipeline + "
            f"assistant {t['ours'] + t['assistant']:.0f} ms = {assistant['photo_with_assistant_vs_vips']:.2f} x "
            f"libvips alone; first call {assistant['first_call_ms']:.0f} ms; {found}")


# --- output ---------------------------------------------------------------------------------------------------------

def table(found: list[Metric], info: list[tuple[str, str]]) -> str:
    rows = [("metric", "value", "target", "unit", "ok", "")]
    for m in found:
        target = f"{'>=' if m.higher_is_better else '<='} {m.target:g}"
        value = f"{m.value:.4f}" if m.unit == "SSIM" else (f"{m.value:g}" if m.unit == "calls" else f"{m.value:.2f}")
        rows.append((m.name, value, target, m.unit, "ok" if m.ok else "MISSED", m.note))
    widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
    lines = ["  ".join(str(cell).ljust(widths[i]) if i < 5 else str(cell) for i, cell in enumerate(r)).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if info:
        lines.append("")
        width = max(len(name) for name, _ in info)
        lines += [f"{name.ljust(width)}  {text}" for name, text in info]
    return "\n".join(lines)


def markdown(found: list[Metric], results: dict, details: dict) -> str:
    m = details["machine"]
    out = [f"Latest run: {details['finished_at']}, {details['seconds']:.0f} s for `make bench`. Machine: {m['cpu']}, "
           f"{m['cpus']} vCPU (shared; the run pinned to CPU {m['pinned_cpu']}), {m['memory_gib']} GiB, Linux "
           f"{m['kernel']}, Python {m['python']}, Pillow {m['pillow']} ({m['libjpeg']}), libvips {m.get('libvips')} "
           f"(pyvips {m.get('pyvips')}), numpy {m.get('numpy')}.", "",
           "| metric | value | target | met | what |", "|---|---|---|---|---|"]
    for metric in found:
        value = f"{metric.value:.4f}" if metric.unit == "SSIM" else (
            f"{metric.value:g}" if metric.unit == "calls" else f"{metric.value:.2f}")
        target = f"{'≥' if metric.higher_is_better else '≤'} {metric.target:g}"
        out.append(f"| `{metric.name}` | {value} {metric.unit} | {target} | {'yes' if metric.ok else '**no**'} | "
                   f"{metric.note} |")
    info = information(results)
    if info:
        out += ["", "| figure | value |", "|---|---|"] + [f"| {name} | {text} |" for name, text in info]
    journey = results.get("journey")
    if journey:
        out += ["", "DynamoDB calls of each API operation and handler (the worst of its requests in the run; list "
                "routes: queries are pages and are not counted against the limit of 3; RRU/WRU: estimated request "
                "units per request):", "",
                "| operation | requests | calls | besides pages | RRU | WRU | calls of the worst request |",
                "|---|---|---|---|---|---|---|"]
        for r in journey["routes"]:
            flag = " **> 3**" if not r["handler"] and r["max_non_page_calls"] > 3 else ""
            out.append(f"| `{r['route']}` | {r['requests']} | {r['max_calls']} | {r['max_non_page_calls']}{flag} | "
                       f"{r['read_units_per_request']:g} | {r['write_units_per_request']:g} | {r['breakdown']} |")
        j = journey["journey"]
        out += ["", "The journey by phase:", "", "| phase | DynamoDB calls | RRU | WRU | operations |",
                "|---|---|---|---|---|"]
        for phase, s in j["by_phase"].items():
            ops = ", ".join(f"{k} {v}" for k, v in s["operations"].items())
            out.append(f"| {phase} | {s['calls']} | {s['read_units']:g} | {s['write_units']:g} | {ops} |")
        out.append(f"| **total** | **{j['calls']}** | **{j['read_units']:g}** | **{j['write_units']:g}** | "
                   f"emulation-reported ConsumedCapacity: {j['reported_units']:g} units |")
    cold = results.get("coldstart")
    if cold:
        out += ["", "What the imports cost beyond a bare `import boto3` (self time per package under "
                "`python -X importtime`, inflated by the tracing; the shares are what matter):", ""]
        for variant, packages in cold["beyond_boto3"].items():
            listed = ", ".join(f"{p['package']} {p['self_ms']:g} ms ({p['share']:.0%})" for p in packages)
            out.append(f"- {variant}: {listed}")
    return "\n".join(out)


def update_docs(text: str) -> bool:
    if not DOCS.exists():
        return False
    content = DOCS.read_text()
    if DOCS_START not in content or DOCS_END not in content:
        return False
    before, rest = content.split(DOCS_START, 1)
    _, after = rest.split(DOCS_END, 1)
    DOCS.write_text(f"{before}{DOCS_START}\n{text}\n{DOCS_END}{after}")
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run, not figures)")
    parser.add_argument("--only", help="comma-separated sections: " + ",".join(SECTIONS))
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite the figures in docs/performance.md")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    cpu = pin_to_one_core()  # before pyvips is loaded: libvips sizes its thread pool from the CPUs it may use
    sections = args.only.split(",") if args.only else list(SECTIONS)
    results, errors = {}, {}
    for name in sections:
        print(f"bench: {name} ...", flush=True)
        section_started = time.perf_counter()
        try:
            results[name] = RUNNERS[name](args.quick)
        except Exception:  # noqa: BLE001 - one broken section must not hide the others' figures
            errors[name] = traceback.format_exc()
            print(errors[name], file=sys.stderr, flush=True)
        print(f"bench: {name} done in {time.perf_counter() - section_started:.0f} s", flush=True)
    found = metrics(results)
    details = {"machine": machine(cpu), "quick": args.quick, "results": results, "errors": errors,
               "seconds": round(time.perf_counter() - started, 1),
               "finished_at": time.strftime("%Y-%m-%d %H:%M %Z")}
    VAR_DIR.mkdir(exist_ok=True)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "bench.json").write_text(json.dumps({m.name: m.as_json() for m in found}, indent=2) + "\n")
    (VAR_DIR / "bench-details.json").write_text(json.dumps(details, indent=2, default=str) + "\n")
    print()
    print(table(found, information(results)))
    print(f"\nvar/bench.json written ({len(found)} figures); details in var/bench-details.json; "
          f"{details['seconds']:.0f} s.")
    complete = not errors and set(SECTIONS) - set(SLOW_SECTIONS) <= set(sections) and not args.quick
    if complete and not args.no_docs and update_docs(markdown(found, results, details)):
        print("docs/performance.md: figures updated.")
    if errors:
        print(f"bench: sections that failed: {', '.join(errors)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
