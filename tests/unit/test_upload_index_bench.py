"""The index bench's model reads as DynamoDB's index does, and its figures are what they claim."""

from bench import upload_index as bench
from bench.indexed import IndexedTable
from common.schema import requests, timeline
from common.schema.keys import UPLOAD_INDEX, upload_keys


def items(n):
    for i in range(n):
        stamp = f"2026-11-{1 + i % 28:02d}T00:00:00.000Z"
        keys = upload_keys(stamp, f"{i:032x}")
        yield {"pk": {"S": f"FILE#{i:032x}"}, "sk": {"S": "FILE"}, **{k: {"S": v} for k, v in keys.items()}}


def test_the_model_answers_between_in_both_directions_and_pages_on():
    table = IndexedTable(items(400))
    for newest_first in (True, False):
        whole = timeline.span("2026-11-03", "2026-11-05", newest_first=newest_first)
        got, kwargs = [], requests.query_upload_range("t", 3, whole, 7)
        while True:
            page = table.query(**kwargs)
            got += [i[UPLOAD_INDEX.sort_key]["S"] for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        expected = sorted((i[UPLOAD_INDEX.sort_key]["S"] for i in items(400) if i[UPLOAD_INDEX.partition_key]["S"]
                           == "UPLOADS#3" and "2026-11-03" <= i[UPLOAD_INDEX.sort_key]["S"][:10] <= "2026-11-05"),
                          reverse=newest_first)
        assert got == expected and got


def test_the_bench_reads_the_same_from_a_big_table_as_from_a_small_one():
    rows = bench.rows(big=12_000, small=3000, repeats=1)  # both with 50 files newer than the day
    assert [r[0] for r in rows] == [
        "export of one day's 1,000 files, 12,000 items vs 1,000", "  read by DynamoDB, 12,000 items vs 1,000",
        "analyst's first Files page (50, newest first), 12,000 items vs 3,000",
        "  read by DynamoDB, 12,000 items vs 3,000", "  before the index: a scan of 12,000 items"]
    assert rows[1][1] == rows[1][2]  # the day's files, whatever else the table holds
    big, small = (float(cell.split(" RU")[0]) for cell in rows[3][1:3])
    assert big <= 1.5 * small  # the newest 50 files (which shard runs dry first varies a little)
    assert bench._export(IndexedTable(bench._day_files(1000))) > 1000 * 20
