"""The API bench runs end to end on a stack of its own (a few calls, so it stays quick)."""

from bench import api


def test_the_api_bench_times_both_routes_over_http_and_in_process() -> None:
    rows = api.latency_rows(2)
    assert [r[0] for r in rows] == ["API list files (2 calls): p50", "API list files (2 calls): p95",
                                    "API create upload (2 calls): p50", "API create upload (2 calls): p95"]
    for _, value, baseline, ratio in rows:
        assert value.endswith(" ms") and baseline.endswith(" ms in-process")
        assert float(ratio) > 0
