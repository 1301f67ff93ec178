"""`make bench`'s journey (bench/journey.py) is a whole commune's story through the API, with its own expectations
(purge counts, the photos' states): run here as the bench runs it, so that a rule changed elsewhere cannot break the
benchmark unnoticed (it did once: a new count in the purge's answer). Its figures are the bench's, not checked here
(timings flake), except the two that are counts: no table scan, at most 3 DynamoDB calls in a request."""
from bench import run


def test_the_benchmark_s_journey_runs_to_its_end_with_no_scan_and_three_calls_at_most():
    found = run.run_journey(quick=True)
    assert found["scans"] == 0
    assert found["requests_over_3"] == [] and found["max_non_page_calls_per_request"] <= 3
    assert {"POST /sessions", "POST /orders", "GET /officials"} <= {route["route"] for route in found["routes"]}
