"""A burst of concurrent uploads through the local pipeline: nothing lost, every count exact.

Own moto server, the template provisioned on it, two worker processes (as
`make run` starts them) and four concurrent uploaders, driven by
:mod:`bench.pipeline`, the same driver `make bench` uses for its 2,000
uploads. This variant (120 by default; ``DOCPORTAL_LOAD_UPLOADS`` changes
it) keeps `make test` quick.

The server is :mod:`devstack.moto_server`: moto's own copies the whole table
for every transaction without a lock, and under concurrent writes that copy
fails ("dictionary changed size during iteration", a 500) or its rollback
undoes other requests' writes; DynamoDB isolates transactions. The queue's
visibility timeout is shortened to 30 s (the template's six minutes would
outlast the test when a message is retried), which changes when a retry
happens, not whether.
"""

import os

import pytest

from bench import checks, pipeline
from bench.corpus import HOSTILE, MB, generate
from common.catalogue import FileStatus

pytestmark = pytest.mark.e2e

UPLOADS = int(os.environ.get("DOCPORTAL_LOAD_UPLOADS", "120"))
WORKERS = 2
CLIENTS = 4
LARGE = (1_000, MB)
VISIBILITY = 30


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A stack of this module's own on the bench's moto server."""
    with pipeline.local_stack(tmp_path_factory.mktemp("load")) as stack:
        stack.set_visibility(VISIBILITY)
        yield stack


def test_a_burst_of_uploads_ends_with_one_terminal_item_each_and_exact_aggregates(stack, tmp_path):
    """Injected: nothing but load (every format, 1 KB to 1 MB, and the files hostile on purpose)."""
    corpus = generate(tmp_path / "corpus", UPLOADS - len(LARGE) - len(HOSTILE), seed=11, max_scale=1,
                      large=LARGE, hostile=True)
    with pipeline.workers(stack, WORKERS):
        result = pipeline.burst(stack, corpus, CLIENTS, timeout=240)
    worker_logs = "\n".join(stack.log_tail(f"worker{i}") for i in range(WORKERS))
    uploaded = {u.file_id: u.name for u in result.uploads}
    assert len(uploaded) == UPLOADS

    # Every upload has exactly one item, and it is terminal.
    records = result.records
    assert set(records) == set(uploaded), worker_logs
    unfinished = {r.name: r.status for r in records.values() if not r.status.terminal}
    assert not unfinished, worker_logs

    # Exactly the hostile files failed, each with a reason a person can read.
    failed = {r.name: r.reason for r in records.values() if r.status is FileStatus.FAILED}
    assert set(failed) == set(HOSTILE), failed
    assert all(reason and "Traceback" not in reason for reason in failed.values())

    # Every counter equals a recount from the final file items; each file is counted once.
    stored = checks.stored_counters(result.items)
    assert stored == checks.recount(records.values())
    assert sum(v for (pk, _, name), v in stored.items() if pk == "AGG#DAY" and name == "files") == UPLOADS

    # Nothing waits in the queue; the dead-letter queue is empty (it may hold only hostile files).
    sqs = stack.client("sqs")
    assert pipeline.queue_depth(sqs, stack.settings.queue_url) == 0
    assert pipeline.queue_depth(sqs, stack.settings.dlq_url) == 0
    assert result.dead_letters == []
    assert result.problems(HOSTILE) == []
