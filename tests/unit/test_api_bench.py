"""The API bench's arithmetic: nearest-rank percentiles and the sides taking turns."""

from bench.api import _percentile, _row, _taking_turns


def test_percentiles_are_nearest_rank() -> None:
    times = [float(i) for i in range(1, 101)]
    assert _percentile(times, 0.50) == 50.0
    assert _percentile(times, 0.95) == 95.0
    assert _percentile([3.0, 1.0, 2.0], 0.95) == 3.0
    assert _percentile([7.0], 0.5) == 7.0


def test_the_sides_take_turns_and_each_is_timed_once_per_round() -> None:
    calls: list[str] = []
    times = _taking_turns([lambda: calls.append("api"), lambda: calls.append("direct")], 3)
    assert calls == ["api", "direct"] * 3
    assert [len(t) for t in times] == [3, 3]


def test_a_row_is_the_ratio_of_the_api_to_the_in_process_call() -> None:
    rows = _row("list", [0.2] * 20, [0.1] * 20)
    assert rows[0] == ("API list: p50", "200.0 ms", "100.0 ms in-process", "2.00")
    assert rows[1][0] == "API list: p95"
