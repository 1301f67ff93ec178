"""`make bench`'s export section (bench/export_memory.py) runs the national lists' worker on a stubbed DynamoDB and S3:
run here on a small list, so that a rule changed in the worker cannot break the benchmark unnoticed (it did once: the
stub's request was older than a worker may start). Its figures are the bench's, not checked here, except the counts."""
from bench import export_memory


def test_the_export_benchmark_writes_the_whole_list_page_by_page():
    found = export_memory.run(2_000)
    assert found["rows"] == 2_000 and found["queries"] == 40  # pages of 50
    assert found["progress_writes"] == 1 and found["file_mb"] > 0.1
