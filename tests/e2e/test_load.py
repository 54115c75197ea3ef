"""A burst of concurrent uploads through the local pipeline: nothing lost, every count exact.

Own moto server, the template provisioned on it, two worker processes (as
`make run` starts them) and four concurrent uploaders. The full-size variant
(2,000 uploads) belongs to `make bench`; this one keeps `make test` quick.
"""

import io
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.corpus import generate
from common import schema
from devstack import processes
from portal.files import store_upload
from portal.tokens import User
from tests.unit.test_hostile import BILLION_LAUGHS, png_bomb, zip_bomb_docx

pytestmark = pytest.mark.e2e

UPLOADS = 120
WORKERS = 2
USERS = [User(sub=f"{i:08x}-1111-4222-8333-444455556666", email=f"user{i}@example.com",
              groups=frozenset({"uploaders"}), expires_at=0) for i in range(4)]


@pytest.fixture(scope="module")
def pipeline(fresh_stack):
    """The fresh stack with worker processes polling it."""
    workers = [fresh_stack.start_worker(f"worker{i}") for i in range(WORKERS)]
    yield fresh_stack.settings, fresh_stack.client, fresh_stack.logs
    processes.stop(workers)


def test_a_burst_of_uploads_ends_with_one_terminal_item_each_and_exact_aggregates(pipeline, tmp_path):
    settings, client, logs = pipeline
    corpus = generate(tmp_path / "corpus", UPLOADS - 3, seed=11, max_scale=1)
    files = [(p.name, p.read_bytes()) for p in corpus]
    files += [("laughs.xml", BILLION_LAUGHS), ("bomb.png", png_bomb()), ("bomb.docx", zip_bomb_docx())]
    s3, ddb = client("s3"), client("dynamodb")

    def upload(index: int) -> str:
        name, data = files[index]
        record = store_upload(user=USERS[index % len(USERS)], name=name, body=io.BytesIO(data),
                              content_type="", s3=s3, ddb=ddb, settings=settings)
        return record.file_id

    with ThreadPoolExecutor(max_workers=4) as pool:
        uploaded = list(pool.map(upload, range(len(files))))
    assert len(set(uploaded)) == UPLOADS

    records = {}
    for _ in range(600):  # bounded wait; no time is asserted
        items = _scan(ddb, settings.table)
        records = {i["file_id"]["S"]: schema.from_item(i) for i in items if i["pk"]["S"].startswith("FILE#")}
        if len(records) == UPLOADS and all(r.status.terminal for r in records.values()):
            break
        time.sleep(0.5)
    worker_logs = "\n".join((logs / f"worker{i}.log").read_text()[-3000:] for i in range(WORKERS))
    assert set(records) == set(uploaded), worker_logs
    unfinished = {r.name: r.status for r in records.values() if not r.status.terminal}
    assert not unfinished, worker_logs

    failed = {r.name: r.reason for r in records.values() if r.status is schema.FileStatus.FAILED}
    assert set(failed) == {"laughs.xml", "bomb.png", "bomb.docx"}, failed
    assert all(reason and "Traceback" not in reason for reason in failed.values())

    # Every counter equals a recount from the final file items.
    recount: dict[tuple[str, str, str], int] = {}
    for record in records.values():
        for (pk, sk), counts in schema.contributions(record).items():
            for name, value in counts.items():
                recount[(pk, sk, name)] = recount.get((pk, sk, name), 0) + value
    stored = {(i["pk"]["S"], i["sk"]["S"], name): int(v["N"]) for i in _scan(ddb, settings.table)
              if i["pk"]["S"].startswith("AGG#") for name, v in i.items() if "N" in v and v["N"] != "0"}
    assert stored == {k: v for k, v in recount.items() if v}
    day_total = sum(v for (pk, _, name), v in stored.items() if pk == "AGG#DAY" and name == "files")
    assert day_total == UPLOADS

    # Nothing waits in the queue, nothing went to the dead-letter queue.
    sqs = client("sqs")
    for url in (settings.queue_url, settings.dlq_url):
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert (attrs["ApproximateNumberOfMessages"], attrs["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")


def _scan(ddb, table):
    items, kwargs = [], {"TableName": table, "ConsistentRead": True}
    while True:
        page = ddb.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
