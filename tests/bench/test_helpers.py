"""The benchmark's own helpers: metrics, timing, peak memory, the docs section, importtime parsing, the photo set-up."""
import pytest

from bench import coldstart, run
from bench.common import Metric, interleaved


def test_a_metric_is_ok_on_the_right_side_of_its_target():
    assert Metric("t", 1.0, 1.0, "ratio").ok and not Metric("t", 1.01, 1.0, "ratio").ok
    assert Metric("s", 0.999, 0.998, "SSIM", higher_is_better=True).ok
    assert not Metric("s", 0.99, 0.998, "SSIM", higher_is_better=True).ok
    assert Metric("c", 0, 0, "calls").as_json() == {"value": 0, "target": 0, "unit": "calls", "ok": True}


def test_the_table_shows_each_figure_and_what_is_missed():
    text = run.table([Metric("photo_vs_vips", 1.2, 1.0, "ratio", note="slow"),
                      Metric("photo_ssim", 0.999, 0.998, "SSIM", higher_is_better=True)], [("photo", "100 ms")])
    assert "MISSED" in text.splitlines()[2] and "slow" in text
    assert ">= 0.998" in text and "0.9990" in text and "100 ms" in text


def test_interleaved_runs_each_function_once_per_round():
    counts = {"a": 0, "b": 0}

    def bump(name):
        counts[name] += 1

    times = interleaved({"a": lambda: bump("a"), "b": lambda: bump("b")}, rounds=4, warmup=1)
    assert counts == {"a": 5, "b": 5} and [len(v) for v in times.values()] == [4, 4]


MEASURE_IN_A_FRESH_PROCESS = """
from bench.common import extra_peak_mib

def allocate():
    block = bytearray(32 * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])  # touch every page
    del block

print(extra_peak_mib(allocate), extra_peak_mib(lambda: None))
"""


def test_extra_peak_memory_sees_a_temporary_allocation():
    # In a fresh interpreter, as the bench measures: a long-lived test worker keeps freed pages resident and would
    # serve the allocation from them.
    import subprocess
    import sys
    from pathlib import Path

    output = subprocess.run([sys.executable, "-c", MEASURE_IN_A_FRESH_PROCESS], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parents[2]).stdout
    allocated, nothing = (float(value) for value in output.split())
    assert allocated >= 30
    assert nothing < 5


def test_the_docs_section_between_the_markers_is_replaced(tmp_path, monkeypatch):
    docs = tmp_path / "performance.md"
    docs.write_text(f"# Performance\nhand-written\n{run.DOCS_START}\nold\n{run.DOCS_END}\nafter\n")
    monkeypatch.setattr(run, "DOCS", docs)
    assert run.update_docs("new figures")
    assert docs.read_text() == f"# Performance\nhand-written\n{run.DOCS_START}\nnew figures\n{run.DOCS_END}\nafter\n"
    docs.write_text("no markers")
    assert not run.update_docs("x") and docs.read_text() == "no markers"


def test_importtime_output_is_parsed():
    stderr = ("import time: self [us] | cumulative | imported package\n"
              "import time:       120 |        120 |   _io\n"
              "import time:      2000 |       2500 | email_validator\n")
    assert coldstart.parse_importtime(stderr) == {"_io": 120, "email_validator": 2000}


def test_the_vips_reference_shrinks_on_load_as_vips_thumbnail_would():
    from bench.photo import CROP, jpeg_shrink

    assert jpeg_shrink(CROP) == 2  # 2000 x 2570 to 413 x 531 is 4.8x: decode at 1/2, Lanczos for the rest
    assert jpeg_shrink({"width": 413 * 16, "height": 531 * 16}) == 8
    assert jpeg_shrink({"width": 500, "height": 640}) == 1


def test_ours_and_the_references_make_the_same_id_photo():
    pytest.importorskip("pyvips")
    import io

    from PIL import Image

    from bench import photo

    source = io.BytesIO()
    Image.linear_gradient("L").convert("RGB").resize((1000, 1300)).save(source, format="JPEG")
    crop = {"x": 50, "y": 20, "width": 900, "height": 1157}
    for pipeline in (photo.ours, photo.vips, photo.naive):
        with Image.open(io.BytesIO(pipeline(source.getvalue(), crop))) as output:
            assert output.size == (413, 531) and "exif" not in output.info, pipeline.__name__


def test_the_national_import_counts_the_write_units_of_its_batches():
    from types import SimpleNamespace

    from bench import national_import

    counts = {"calls": {}, "items": 0, "table_units": 0, "index_units": 0, "other_units": 0}
    count = national_import._count_writes(counts)
    small = {"insee_code": {"S": "01053"}, "row_key": {"S": "a#rne_cm#"}, "generation": {"S": "rne_cm#x#3"}}
    large = {"insee_code": {"S": "01053"}, "row_key": {"S": "b#rne_cm#"}, "commune_label": {"S": "é" * 600}}
    count(model=SimpleNamespace(name="BatchWriteItem"),
          params={"RequestItems": {"directory": [{"PutRequest": {"Item": small}}, {"PutRequest": {"Item": large}}]}})
    count(model=SimpleNamespace(name="UpdateItem"), params={})
    # 1 + 2 units for the items (the second is over 1 KB: 1,200 bytes of accented letters), 1 for the first's entry
    # in the keys-only index (the second has no generation), 1 for the progress update.
    assert counts == {"calls": {"BatchWriteItem": 1, "UpdateItem": 1}, "items": 2, "table_units": 3,
                      "index_units": 1, "other_units": 1}


def test_the_first_request_is_an_api_gateway_proxy_event_for_the_officials():
    event = coldstart._officials_event("abc.def")
    assert (event["httpMethod"], event["path"], event["requestContext"]["resourcePath"]) == ("GET", "/officials",
                                                                                             "/officials")
    assert event["headers"]["Authorization"] == "Bearer abc.def"
    assert event["multiValueHeaders"]["Authorization"] == ["Bearer abc.def"]


def test_a_run_without_the_national_import_still_writes_the_docs_with_its_kept_figures(tmp_path, monkeypatch):
    kept = tmp_path / "national.json"
    monkeypatch.setattr(run, "NATIONAL_KEPT", kept)
    assert run.kept_national() is None
    figures = {"rows": 511000, "file_mb": 69.6, "seconds": 1800.0, "rows_per_second": 284, "cpu_seconds": 150.0,
               "peak_rss_mib": 70.0, "dynamodb_calls": {"BatchWriteItem": 20440}, "write_units": 1022000}
    kept.write_text(__import__("json").dumps({"rne_cm": figures, "rne_maires": {**figures, "rows": 34826},
                                              "measured_at": "2026-12-07 17:40 UTC"}))
    lines = dict(run.information({}))
    assert "20,440 BatchWriteItem" in lines["national import, rne_cm (511,000 rows, 70 MB)"]
    assert "2026-12-07 17:40 UTC" in lines["national import, rne_maires (34,826 rows, 70 MB)"]
    assert set(run.SECTIONS) - set(run.SLOW_SECTIONS) == {"photo", "previews", "coldstart", "journey", "import",
                                                          "export", "overhead", "upload"}
