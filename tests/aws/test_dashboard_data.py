"""The dashboard's reads against the provisioned stack in moto (in-process).

Aggregates are written by the real transactions (``requests.transition``, as
the extractor commits them) where the count is small; for hundreds of files
the same cell items are put directly, and a test proves both ways leave the
same items.
"""

from __future__ import annotations

import pytest

from common import aws
from common.catalogue import FileStatus
from common.schema.aggregates import AGG_GRAINS, AGG_SHARDS, CELL_WRITES, document_people
from common.schema.keys import upload_key
from common.schema.record import FileRecord, to_item
from portal.dashboard import analytics, data
from portal.dashboard.data import CallCounter, read_aggregates
from portal.dashboard.filters import DashboardFilters, Viewer
from portal.users.service import owner_emails
from tests.helpers.records import DAYS, OWNERS, aggregate_items, make_records, tagged
from tests.helpers.recount import recount_kpis
from tests.helpers.tables import aggregate_table, commit

FORMATS = ("pdf", "png")


def files_in_fixed_cells(n: int) -> list[FileRecord]:
    """``n`` >= 32 files that always fill the same cells: 2 days x 8 shards x (1 + 2 formats + 2 owners)."""
    assert n >= 32
    base = make_records(n, seed=n, days=DAYS[:2], owners=OWNERS[:2])
    records = []
    for i, r in enumerate(base):
        day, shard, k = DAYS[i % 2], (i // 2) % AGG_SHARDS, (i // 16) % 2
        file_id = f"{shard:08x}{i:024x}"
        owner = OWNERS[(k + i // 32) % 2]
        records.append(FileRecord(**{
            **r.__dict__, "file_id": file_id, "owner": owner, "format": FORMATS[k],
            # no names: their cells would depend on which files happen to be processed
            "metadata": {k2: v for k2, v in r.metadata.items() if k2 not in ("author", "artist", "producer", "creator")},
            "key": upload_key(owner, file_id, "f.bin"),
            "uploaded_at": day + r.uploaded_at[10:], "processed_at": day + r.processed_at[10:] if r.processed_at else ""}))
    return records


def put_directly(table: str, records: list[FileRecord]) -> None:
    """The file items and the summed cell items, written at once: what the transactions would leave."""
    ddb = aws.client("dynamodb")
    requests = [{"PutRequest": {"Item": to_item(r)}} for r in records]
    requests += [{"PutRequest": {"Item": item}} for item in aggregate_items(records)]
    for i in range(0, len(requests), 25):
        ddb.batch_write_item(RequestItems={table: requests[i:i + 25]})


def without_writes(items: dict[tuple[str, str], dict]) -> dict[tuple[str, str], dict]:
    """The items without ``writes``: how often each was updated, which direct puts do not say."""
    return {key: {k: v for k, v in item.items() if k != CELL_WRITES} for key, item in items.items()}


def cell_keys(items: list[dict]) -> list[tuple[str, str]]:
    return sorted((i["pk"]["S"], i["sk"]["S"]) for i in items)


def test_direct_writes_leave_exactly_what_the_transactions_leave(stack):
    records = make_records(30, seed=3)
    commit(stack.table, records)
    by_transactions = without_writes(aggregate_table(stack.table))
    assert by_transactions
    assert by_transactions == {(i["pk"]["S"], i["sk"]["S"]): i for i in aggregate_items(records)}


def test_a_range_reads_exactly_its_days_and_nothing_else(stack):
    records = tagged(make_records(40, seed=11, days=DAYS[:5]))  # tags: every grain has cells
    commit(stack.table, records)
    stored = aggregate_table(stack.table)
    ddb = aws.client("dynamodb")
    for grain in AGG_GRAINS:
        counter = CallCounter()
        got = read_aggregates(ddb, stack.table, grain, DAYS[1], DAYS[3], counter=counter)
        want = [k for k in stored if k[0] == f"AGG#{grain}" and DAYS[1] <= k[1][:10] <= DAYS[3]]
        assert cell_keys(got) == sorted(want)
        assert {k[1][:10] for k in want} == set(DAYS[1:4]), grain  # the first and last day are included
        assert all(item == stored[(item["pk"]["S"], item["sk"]["S"])] for item in got)  # whole items
        assert counter.calls == 1
    assert read_aggregates(ddb, stack.table, "DAY", "2030-01-01", "2030-12-31") == []
    one_day = read_aggregates(ddb, stack.table, "DAY_FORMAT", DAYS[4], DAYS[4])
    assert one_day and {i["sk"]["S"][:10] for i in one_day} == {DAYS[4]}


def test_one_dimension_is_filtered_from_the_grain(stack):
    records = make_records(40, seed=5, days=DAYS[:3])
    commit(stack.table, records)
    ddb = aws.client("dynamodb")
    mine = read_aggregates(ddb, stack.table, "DAY_OWNER", DAYS[0], DAYS[2], OWNERS[1])
    assert mine and {i["sk"]["S"].split("#")[1] for i in mine} == {OWNERS[1]}
    frame = analytics.aggregate_frame(mine)
    assert frame["files"].sum() == sum(r.owner == OWNERS[1] for r in records)
    pdfs = read_aggregates(ddb, stack.table, "DAY_FORMAT", DAYS[0], DAYS[2], "pdf")
    assert analytics.aggregate_frame(pdfs)["files"].sum() == sum(r.format == "pdf" for r in records)
    with pytest.raises(ValueError):
        read_aggregates(ddb, stack.table, "DAY", DAYS[0], DAYS[2], "pdf")
    with pytest.raises(ValueError):
        read_aggregates(ddb, stack.table, "FILES", DAYS[0], DAYS[2])


def test_small_pages_are_followed_to_the_end(stack):
    records = files_in_fixed_cells(40)
    put_directly(stack.table, records)
    ddb = aws.client("dynamodb")
    whole = read_aggregates(ddb, stack.table, "DAY_FORMAT", DAYS[0], DAYS[1])
    assert len(whole) == 2 * 2 * AGG_SHARDS
    counter = CallCounter()
    paged = read_aggregates(ddb, stack.table, "DAY_FORMAT", DAYS[0], DAYS[1], page_size=5, counter=counter)
    assert cell_keys(paged) == cell_keys(whole)
    assert counter.calls >= -(-len(whole) // 5)


@pytest.mark.parametrize("page_size", [None, 7])
def test_the_number_of_calls_does_not_depend_on_the_number_of_files(stack, page_size):
    ddb = aws.client("dynamodb")
    analyst = Viewer("someone", sees_everyone=True)
    outcomes = []
    for n in (50, 500):
        ddb.delete_table(TableName=stack.table)  # the same table, empty again, as the template defines it
        _recreate(stack.table)
        records = files_in_fixed_cells(n)
        put_directly(stack.table, records)
        loaded = data.load(ddb, stack.table, analyst, DAYS[0], DAYS[1], page_size=page_size)
        board = analytics.build_dashboard(loaded.frame, DashboardFilters(DAYS[0], DAYS[1]), analyst)
        assert board.kpis.files == n == recount_kpis(records, DashboardFilters(DAYS[0], DAYS[1])).files
        outcomes.append((loaded.calls, len(loaded.frame)))
    assert outcomes[0] == outcomes[1]
    calls, _ = outcomes[0]
    assert calls == 4 if page_size is None else calls >= -(-32 // page_size) * 2


def _recreate(table: str) -> None:
    from devstack import template as tpl

    props = tpl.load()["Resources"]["FilesTable"]["Properties"]
    aws.client("dynamodb").create_table(
        TableName=table, KeySchema=props["KeySchema"], AttributeDefinitions=props["AttributeDefinitions"],
        GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"], BillingMode="PAY_PER_REQUEST")


def test_an_uploader_reads_only_their_own_cells(stack):
    records = tagged(make_records(40, seed=9, days=DAYS[:3]))
    commit(stack.table, records)
    ddb = aws.client("dynamodb")
    loaded = data.load(ddb, stack.table, Viewer(OWNERS[2], sees_everyone=False), DAYS[0], DAYS[2])
    assert loaded.grains == ("DAY_OWNER", "DAY_PEOPLE", "DAY_TAG")
    assert set(loaded.frame["grain"]) == {"DAY_OWNER", "DAY_PEOPLE", "DAY_TAG"}
    assert {d.partition("#")[0] for d in loaded.frame["dimension"]} == {OWNERS[2]}  # no one else's names or tags
    assert loaded.calls == 3
    analyst = data.load(ddb, stack.table, Viewer("x", sees_everyone=True), DAYS[0], DAYS[2])
    assert analyst.grains == ("DAY_FORMAT", "DAY_OWNER", "DAY_PEOPLE", "DAY_TAG") and analyst.calls == 4
    assert {d.partition("#")[0] for d in analyst.frame["dimension"][analyst.frame["grain"] == "DAY_TAG"]} == {
        r.owner for r in records if r.tags}
    assert {d.partition("#")[0] for d in analyst.frame["dimension"][analyst.frame["grain"] == "DAY_PEOPLE"]} == {
        r.owner for r in records if r.status is FileStatus.PROCESSED and document_people(r.metadata)}
    assert set(analyst.frame["dimension"][analyst.frame["grain"] == "DAY_OWNER"]) == {r.owner for r in records}


def test_the_dashboard_for_a_viewer_is_the_recount(stack):
    records = make_records(40, seed=13, days=DAYS[:3])
    commit(stack.table, records)
    ddb = aws.client("dynamodb")
    asked = DashboardFilters(DAYS[0], DAYS[2], owner=OWNERS[3])  # an uploader asking for someone else's numbers
    viewer = Viewer(OWNERS[0], sees_everyone=False)
    loaded = data.load(ddb, stack.table, viewer, asked.start, asked.end)  # as the page reads, then builds
    board = analytics.build_dashboard(loaded.frame, asked, viewer)
    assert board.filters.owner == OWNERS[0] and loaded.calls == 3
    want = recount_kpis(records, DashboardFilters(DAYS[0], DAYS[2], owner=OWNERS[0]))
    assert (board.kpis.files, board.kpis.failures, board.kpis.storage_bytes) == (
        want.files, want.failures, want.storage_bytes)


def test_uploaders_are_named_by_their_e_mail(stack):
    cognito = aws.client("cognito-idp")
    for email in ("ann@example.com", "bob@example.com"):
        cognito.admin_create_user(UserPoolId=stack.user_pool_id, Username=email, MessageAction="SUPPRESS",
                                  UserAttributes=[{"Name": "email", "Value": email}])
    names = owner_emails(cognito, stack.user_pool_id)
    assert sorted(names.values()) == ["ann@example.com", "bob@example.com"]
    assert all(len(sub) == 36 for sub in names)
    assert owner_emails(cognito, "us-east-1_nosuchpool") == {}
    assert owner_emails(cognito, "") == {}
