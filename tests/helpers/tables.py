"""Reading and filling a stack's table the way the extractor does, for tests."""

from __future__ import annotations

from common import aws
from common.schema import requests
from common.schema.keys import PK
from common.schema.record import FileRecord, attributes, from_item


def commit(table: str, records: list[FileRecord]) -> None:
    """Each file's finishing transaction, as the extractor commits it."""
    ddb = aws.client("dynamodb")
    for record in records:
        ddb.transact_write_items(**requests.transition(table, None, record))


def aggregate_table(table: str) -> dict[tuple[str, str], dict]:
    """Every aggregate item of the table, by key."""
    items = aws.client("dynamodb").scan(TableName=table)["Items"]
    return {(i["pk"]["S"], i["sk"]["S"]): i for i in items if i["pk"]["S"].startswith("AGG#")}


def files_of(table: str, owner: str) -> list[FileRecord]:
    """Every file item of one owner, newest first, read straight from the owner index."""
    request = requests.query_owner_range(table, owner, "0000-01-01", "9999-12-31")
    request["ScanIndexForward"] = False
    pages = aws.client("dynamodb").get_paginator("query").paginate(**request)
    return [from_item(item) for page in pages for item in page.get("Items", [])]


def every_item(table: str) -> dict[tuple[str, str], dict]:
    """Every item of the table (files, markers, counters), by key."""
    pages = aws.client("dynamodb").get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return {(i["pk"]["S"], i["sk"]["S"]): i for page in pages for i in page["Items"]}


def scanned_files(table: str, start_day: str = "0000-01-01", end_day: str = "9999-12-31") -> list[FileRecord]:
    """Every file of the period read the old way, by a whole-table scan: the oracle the index is checked against."""
    request = {
        "TableName": table,
        "FilterExpression": "begins_with(#pk, :file) AND #up BETWEEN :start AND :end",
        "ExpressionAttributeNames": {"#pk": PK, "#up": "uploaded_at"},
        "ExpressionAttributeValues": attributes({":file": "FILE#", ":start": start_day,
                                                 ":end": f"{end_day}~"}),
    }
    pages = aws.client("dynamodb").get_paginator("scan").paginate(**request)
    return [from_item(item) for page in pages for item in page.get("Items", [])]
