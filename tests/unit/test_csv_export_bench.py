"""The export bench's stand-in table answers projections as DynamoDB does, so its figures compare like with like."""

import pytest

from bench import export as bench_export
from common.schema.record import to_item
from portal.export.service import projection


def test_a_plain_read_gets_whole_items_and_every_page():
    table = bench_export.PagedTable(2500)
    assert bench_export._bare_read(table) == 2500
    assert table.projections == [None, None, None]
    first = table.scan(TableName="t")["Items"][0]
    assert first == to_item(bench_export._record(0))


def test_a_projected_read_gets_only_the_projected_paths():
    table = bench_export.PagedTable(1500)
    page = table.scan(TableName="t", ProjectionExpression="#a, #m.#t, #m.missing, size, nowhere",
                      ExpressionAttributeNames={"#a": "name", "#m": "metadata", "#t": "title"})
    assert page["LastEvaluatedKey"] == {"page": 1} and len(page["Items"]) == bench_export.PAGE
    assert page["Items"][7] == {"name": {"S": "report 7.pdf"}, "size": {"N": "1007"},
                                "metadata": {"M": {"title": {"S": "Quarterly report 7"}}}}
    nothing = table.scan(TableName="t", ProjectionExpression="nowhere.deeper, size.deeper, metadata.missing")["Items"]
    assert nothing == [{}] * bench_export.PAGE  # items are kept, empty, as DynamoDB keeps them


def test_the_bench_export_sends_its_projection_and_reads_every_row():
    table = bench_export.PagedTable(2500)
    exported = bench_export._export(table)
    assert exported > 2500 * 100
    wanted = projection(bench_export._request())["ProjectionExpression"]
    assert table.projections == [wanted] * 3
    assert bench_export._bare_read(table, projected=True) == 2500


def test_list_indexes_are_refused_rather_than_answered_wrongly():
    with pytest.raises(ValueError, match="list indexes"):
        bench_export.PagedTable(10).scan(ProjectionExpression="flags[0]")
