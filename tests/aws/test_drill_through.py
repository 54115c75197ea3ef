"""Drill-through on moto: each dashboard figure, read from the counters, equals the total the
Files view counts for its link, read through the Files view's own reads.

Files are finished by the extractor's transactions; then some are retried,
some deleted (both through the Files service, as the page does), and some
uploads are ended ``failed`` by the portal itself, which no counter ever saw.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from common import aws
from common.catalogue import FileStatus
from common.schema import requests
from common.schema.record import FileRecord
from portal.access import User
from portal.dashboard import analytics, data, drill
from portal.dashboard.filters import DashboardFilters, Viewer
from portal.files import actions, links, service
from portal.files.explorer import FileFilters
from portal.files.labels import LabelEdit
from portal.files.uploads import UPLOAD_FAILED_REASON
from tests.helpers.records import DAYS, OWNERS, make_records, portal_item, tagged
from tests.helpers.tables import commit

ANALYST = User(sub="cccccccc-9999-4222-8333-000000000003", email="ana@example.com",
               groups=frozenset({"analysts"}), expires_at=2**40)
ADMIN = User(sub="dddddddd-9999-4222-8333-000000000004", email="adm@example.com",
             groups=frozenset({"admins"}), expires_at=2**40, second_factor=True)
UPLOADER = User(sub=OWNERS[1], email="bob@example.com", groups=frozenset({"uploaders"}), expires_at=2**40)


@pytest.fixture
def files(stack) -> list[FileRecord]:
    """60 finished, tagged files; then 4 failed ones retried, 6 deleted, 8 retagged, 5 uploads ended
    failed by the portal."""
    s3, ddb = aws.client("s3"), aws.client("dynamodb")
    records = [replace(r, bucket=stack.bucket, sequencer=f"{i:016X}", rev=f"{i:016X}#finished")
               for i, r in enumerate(tagged(make_records(60, seed=1616)))]
    commit(stack.table, records)
    for r in records:
        s3.put_object(Bucket=stack.bucket, Key=r.key, Body=b"x")
    failed = [r for r in records if r.status is FileStatus.FAILED][:4]
    for r in failed:
        actions.retry_file(user=ADMIN, s3=s3, ddb=ddb, settings=stack, file_id=r.file_id)
    for r in [r for r in records if r not in failed][:6]:
        actions.delete_file(user=ADMIN, s3=s3, ddb=ddb, settings=stack, file_id=r.file_id)
    for r in [r for r in records if r not in failed][6:14]:
        actions.set_labels(user=ADMIN, ddb=ddb, settings=stack, file_id=r.file_id,
                           edit=LabelEdit.of(add=["retagged"], remove=["q3"]))
    for i in range(5):
        item = replace(portal_item(f"{0xabc00 + i:032x}", owner=OWNERS[i % 2]),
                       uploaded_at=f"{DAYS[i % 3]}T12:00:00.000Z", format="pdf")
        ddb.put_item(**requests.put_new_file(stack.table, item))
        ddb.update_item(**requests.mark_upload_failed(stack.table, item.file_id, UPLOAD_FAILED_REASON,
                                                      item.uploaded_at))
    return records


def view_total(stack, user: User, link: drill.Link) -> int:
    parsed = links.parse(link.params, owners=set(OWNERS) if user is ANALYST else None)
    assert parsed.notes == ()
    count = service.count_files(user=user, ddb=aws.client("dynamodb"), settings=stack, filters=parsed.filters)
    assert count.complete
    return count.files


FILTERS = (
    DashboardFilters(DAYS[0], DAYS[-1]),
    DashboardFilters(DAYS[1], DAYS[4], status="failed"),
    DashboardFilters(DAYS[0], DAYS[-1], formats=frozenset({"pdf", "png"}), status="processed"),
    DashboardFilters(DAYS[0], DAYS[-1], owner=OWNERS[0]),
)


def test_every_figure_equals_the_files_views_total_for_its_link(stack, files):
    """One table for every case: each setup costs moto seconds of transactions."""
    charts: set[str] = set()
    for user in (ANALYST, UPLOADER):
        viewer = Viewer.of(user)
        for filters in FILTERS:
            loaded = data.load(aws.client("dynamodb"), stack.table, viewer, filters.start, filters.end)
            board = analytics.build_dashboard(loaded.frame, filters, viewer)
            for chart, found in drill.links_for(board, everyone=viewer.sees_everyone).items():
                for link in found:
                    assert link.figure == view_total(stack, user, link), (user.email, filters, chart, link.label)
                    charts.add(chart)
    assert charts == {"kpis", "uploads", "formats", "sizes", "failures", "flags", "tags", "tags_over_time",
                      "size_distribution", "pages_histogram", "uploaders"}


def test_the_portals_own_failures_are_listed_but_not_drilled_to_and_a_capped_count_says_so(stack, files):
    ddb = aws.client("dynamodb")
    every_failed = FileFilters(statuses=frozenset({FileStatus.FAILED}))
    counted_failed = replace(every_failed, counted=True)
    total = service.count_files(user=ANALYST, ddb=ddb, settings=stack, filters=every_failed).files
    counted = service.count_files(user=ANALYST, ddb=ddb, settings=stack, filters=counted_failed).files
    assert total - counted == 5
    capped = service.count_files(user=ANALYST, ddb=ddb, settings=stack, filters=FileFilters(), max_examined=30)
    assert not capped.complete and 0 < capped.files <= 30
