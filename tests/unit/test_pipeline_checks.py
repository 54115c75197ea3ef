"""The load checks of bench.pipeline: what "nothing lost, every count exact" means, and the figures."""

from dataclasses import replace

import pytest

from bench import checks
from common.catalogue import FileStatus
from common.schema.record import FileRecord

OWNER = "a0000000-1111-4222-8333-444455556666"


def record(i: int, status=FileStatus.PROCESSED, name: str | None = None, reason: str = "") -> FileRecord:
    return FileRecord(
        file_id=f"{i:032x}", owner=OWNER, name=name or f"f{i}.txt", bucket="b", key=f"uploads/{OWNER}/{i:032x}",
        status=status, uploaded_at="2026-11-30T10:00:00.000Z", updated_at="2026-11-30T10:00:01.000Z",
        size=100 + i, format="text", reason=reason, started_at=f"2026-11-30T10:00:0{i % 2}.000Z",
        processed_at=f"2026-11-30T10:00:0{1 + i % 3}.500Z" if status.terminal else "", duration_ms=10,
        rev="x#finished" if status.terminal else "x#claimed")


def as_items(counters: checks.Counters) -> list[dict]:
    cells: dict[tuple[str, str], dict] = {}
    for (pk, sk, name), value in counters.items():
        cells.setdefault((pk, sk), {"pk": {"S": pk}, "sk": {"S": f"{sk}#s0"}, "writes": {"N": "7"}})[name] = {
            "N": str(value)}
    return list(cells.values())


def healthy():
    records = {r.file_id: r for r in [record(i) for i in range(5)]
               + [record(5, FileStatus.FAILED, "hostile-bomb.png", "image is too large")]}
    uploaded = {i: r.name for i, r in records.items()}
    return uploaded, records, checks.recount(records.values())


def test_a_clean_burst_has_no_problems():
    uploaded, records, counters = healthy()
    assert checks.problems(uploaded, records, counters, {"hostile-bomb.png"}, []) == []


def test_the_dead_letter_queue_may_hold_hostile_files_only():
    uploaded, records, counters = healthy()
    bomb = next(i for i, name in uploaded.items() if name == "hostile-bomb.png")
    assert checks.problems(uploaded, records, counters, {"hostile-bomb.png"}, [bomb]) == []
    found = checks.problems(uploaded, records, counters, {"hostile-bomb.png"}, [f"{0:032x}"])
    assert len(found) == 1 and "dead-letter" in found[0] and "f0.txt" in found[0]


def test_a_lost_upload_is_reported():
    uploaded, records, _ = healthy()
    del records[f"{2:032x}"]
    found = checks.problems(uploaded, records, checks.recount(records.values()), {"hostile-bomb.png"}, [])
    assert len(found) == 1 and "no item" in found[0] and "f2.txt" in found[0]


def test_an_unfinished_file_is_reported():
    uploaded, records, _ = healthy()
    records[f"{3:032x}"] = record(3, FileStatus.PROCESSING)
    found = checks.problems(uploaded, records, checks.recount(records.values()), {"hostile-bomb.png"}, [])
    assert len(found) == 1 and "never finished" in found[0]


def test_failures_must_be_exactly_the_hostile_files_each_with_a_reason():
    uploaded, records, _ = healthy()
    records[f"{1:032x}"] = record(1, FileStatus.FAILED, reason="")
    found = checks.problems(uploaded, records, checks.recount(records.values()), {"hostile-bomb.png"}, [])
    assert any("failed but not hostile: ['f1.txt']" in f for f in found)
    assert any("readable reason" in f for f in found)
    uploaded, records, _ = healthy()
    bomb = next(i for i, name in uploaded.items() if name == "hostile-bomb.png")
    records[bomb] = replace(records[bomb], status=FileStatus.PROCESSED, reason="")
    found = checks.problems(uploaded, records, checks.recount(records.values()), {"hostile-bomb.png"}, [])
    assert any("hostile but not failed: ['hostile-bomb.png']" in f for f in found)


def test_deleted_files_are_not_expected_in_the_day_counters():
    uploaded, records, _ = healthy()
    deleted = f"{2:032x}"
    records[deleted] = replace(records[deleted], status=FileStatus.DELETED, rev="x#deleted")
    counters = checks.recount(records.values())  # what the table holds: deletion took the file's share back
    assert checks.problems(uploaded, records, counters, {"hostile-bomb.png"}, []) == []


def test_a_counter_off_by_one_is_reported():
    uploaded, records, counters = healthy()
    key = next(k for k in counters if k[0] == "AGG#DAY" and k[2] == "files")
    doubled = {**counters, key: counters[key] + 1}
    found = checks.problems(uploaded, records, doubled, {"hostile-bomb.png"}, [])
    assert any("recount" in f for f in found) and any("day counters count 7 files" in f for f in found)


def test_stored_counters_read_back_what_recount_gives():
    _, records, counters = healthy()
    items = [*as_items(counters), {"pk": {"S": "FILE#x"}, "sk": {"S": "FILE"}, "size": {"N": "3"}},
             {"pk": {"S": "AGG#DAY"}, "sk": {"S": "2026-11-30#s9"}, "files": {"N": "0"}}]
    assert checks.stored_counters(items) == counters
    assert sum(v for (pk, _, n), v in counters.items() if pk == "AGG#DAY" and n == "files") == len(records)


def test_stored_counters_sum_a_cells_shards_and_skip_its_write_count():
    items = [{"pk": {"S": "AGG#DAY_FORMAT"}, "sk": {"S": f"2026-11-30#pdf#s{shard}"}, "files": {"N": str(n)},
              "writes": {"N": "5"}} for shard, n in ((0, 2), (3, 1), (7, -1))]
    assert checks.stored_counters(items) == {("AGG#DAY_FORMAT", "2026-11-30#pdf", "files"): 2}


def test_percentiles_are_nearest_rank():
    values = list(range(100, 0, -1))
    assert [checks.percentile(values, q) for q in (50, 95, 99, 100)] == [50, 95, 99, 100]
    assert checks.percentile([0.3], 99) == 0.3
    with pytest.raises(ValueError):
        checks.percentile([], 50)


def test_latency_and_throughput_come_from_the_items_timestamps():
    records = [record(i) for i in range(4)] + [record(9, FileStatus.PROCESSING)]
    assert checks.latencies(records) == [1.5, 2.5, 3.5, 1.5]
    # first claim 10:00:00.000, last finish 10:00:03.500
    assert checks.throughput(records[:4]) == pytest.approx(4 / 3.5)
