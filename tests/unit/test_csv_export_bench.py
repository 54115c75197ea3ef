"""The export bench's stand-in table answers projections as DynamoDB does, so its figures compare like with like."""

import pytest

from bench import export as bench_export
from bench.indexed import IndexedTable
from common.schema import requests, timeline
from common.schema.keys import UPLOAD_INDEX, upload_shard
from common.schema.record import to_item
from portal.export.service import projection

NOVEMBER = timeline.span("2026-11-01", "2026-11-30", newest_first=False)


def table_of(rows: int) -> IndexedTable:
    return IndexedTable(to_item(bench_export._record(i)) for i in range(rows))


def shard_of(i: int) -> int:
    return upload_shard(f"{i:032x}")


def test_a_plain_read_gets_whole_items_and_every_row():
    table = table_of(2500)
    assert bench_export._bare_read(table) == 2500
    first = table.query(**requests.query_upload_range("t", shard_of(0), NOVEMBER, 10))["Items"][0]
    assert first == to_item(bench_export._record(0))


def test_a_projected_read_gets_only_the_projected_paths():
    table = table_of(1500)
    kwargs = requests.query_upload_range("t", shard_of(7), NOVEMBER, 2000)
    kwargs |= {"ProjectionExpression": "#a, #m.#t, #m.missing, size, nowhere",
               "ExpressionAttributeNames": {**kwargs["ExpressionAttributeNames"],
                                            "#a": "name", "#m": "metadata", "#t": "title"}}
    items = table.query(**kwargs)["Items"]
    assert {"name": {"S": "report 7.pdf"}, "size": {"N": "1007"},
            "metadata": {"M": {"title": {"S": "Quarterly report 7"}}}} in items
    kwargs["ProjectionExpression"] = "nowhere.deeper, size.deeper, metadata.missing"
    assert set(map(str, table.query(**kwargs)["Items"])) == {"{}"}  # items are kept, empty, as DynamoDB keeps them


def test_the_bench_export_reads_every_row_through_the_index():
    table = table_of(2500)
    assert bench_export._export(table) > 2500 * 100
    assert table.requests >= 8
    assert bench_export._bare_read(table, projected=True) == 2500
    assert projection(bench_export._request(), keep=(UPLOAD_INDEX.sort_key,))


def test_list_indexes_are_refused_rather_than_answered_wrongly():
    kwargs = requests.query_upload_range("t", 0, NOVEMBER, 10) | {"ProjectionExpression": "flags[0]"}
    with pytest.raises(ValueError, match="list indexes"):
        table_of(10).query(**kwargs)
