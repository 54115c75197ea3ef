"""`make run` heals and remembers: a killed worker or moto server is replaced, and the state outlives a restart.

Each test runs the real supervisor (`python -m devstack run`) on a state folder
of its own, uploads through the portal's own `store_upload` (bench.pipeline)
and checks with bench.checks what "nothing lost, every count exact" means.
The queue keeps the template's visibility timeout (six minutes): a killed
worker's batch must come back without waiting it out.
"""

import os
import signal
import time
import urllib.request

import pytest

from bench import checks, pipeline
from bench.corpus import generate
from devstack import processes
from tests.helpers.procs import children
from tests.helpers.system import System, alive
from tests.helpers.users import CHOSEN_PASSWORD, create_user

pytestmark = pytest.mark.e2e

BURST = 60
#: Well under the queue's visibility timeout (366 s): a batch that waited it out would not make it.
FINISH_SECONDS = 120
#: Ctrl-C after files were parsed ends every process within this (issue 17; 10.2 s before bug 1's fix).
STOP_SECONDS = 5


def upload(system, paths):
    return pipeline.upload_all(paths, system.stack_settings, system.client, clients=4)


def terminal(system, ids):
    records = checks.file_records(pipeline.scan(system.client("dynamodb"), system.stack_settings.table))
    return sum(1 for i in ids if i in records and records[i].status.terminal)


def wait_until(predicate, timeout, pause=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(pause)
    return False


def assert_all_finished_and_counted(system, uploads, timeout=FINISH_SECONDS):
    """Every upload has one terminal item, the counters equal a recount, nothing is dead-lettered."""
    settings = system.stack_settings
    items = pipeline.wait_finished(settings, system.client, [u.file_id for u in uploads], timeout=timeout)
    letters = pipeline.dead_letter_files(settings, system.client)
    records = checks.file_records(items)
    wrong = checks.problems({u.file_id: u.name for u in uploads}, records, checks.stored_counters(items),
                            hostile=(), dead_letters=letters)
    assert wrong == [], (wrong, system.output.read_text()[-3000:],
                         (system.state / "worker.log").read_text()[-3000:])
    assert checks.stored_counters(items) == checks.recount(records.values())


def portal_answers(system):
    try:
        with urllib.request.urlopen(f"http://localhost:{system.portal_port}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def events_dlq(system):
    """The queue for events EventBridge could not deliver: nothing reads it, so what is sent there stays."""
    (url,) = [u for u in system.client("sqs").list_queues()["QueueUrls"] if u.endswith("-events-dlq")]
    return url


def view(system):
    """What a person would find: the file items and counters, the objects' versions, the users and their
    groups, the queues. (The counters' shards are summed: the worker's compaction merges them on start.)"""
    settings = system.stack_settings
    s3, cognito, sqs = system.client("s3"), system.client("cognito-idp"), system.client("sqs")
    table = pipeline.scan(system.client("dynamodb"), settings.table)
    items = sorted(repr(sorted(i.items())) for i in table if not i["pk"]["S"].startswith("AGG#"))
    versions = s3.list_object_versions(Bucket=settings.bucket)
    objects = sorted((v["Key"], v["VersionId"], v["ETag"], v["Size"]) for v in versions.get("Versions", []))
    users = sorted(
        (u["Username"], u["UserStatus"], u["Enabled"], tuple(sorted(
            g["GroupName"] for g in cognito.admin_list_groups_for_user(
                UserPoolId=settings.user_pool_id, Username=u["Username"])["Groups"])))
        for u in cognito.list_users(UserPoolId=settings.user_pool_id)["Users"])
    queues = tuple(pipeline.queue_depth(sqs, url) for url in (settings.queue_url, settings.dlq_url,
                                                                 events_dlq(system)))
    return {"items": items, "counters": checks.stored_counters(table), "objects": objects, "users": users,
            "queues": queues,
            "pool": (settings.user_pool_id, settings.client_id)}


def test_a_worker_killed_during_a_burst_is_replaced_and_its_batch_finishes_without_the_timeout(tmp_path):
    """Injected: SIGKILL of the worker while it works through a burst of uploads."""
    system = System(tmp_path / "state").start()
    try:
        uploads = upload(system, generate(tmp_path / "burst", BURST, seed=21, max_scale=1))
        ids = [u.file_id for u in uploads]
        assert wait_until(lambda: terminal(system, ids) >= 1, 60, pause=0.05)
        worker = system.child("worker")
        killed_at = time.monotonic()
        os.kill(worker, signal.SIGKILL)  # the worker only: its parser process is left behind

        out = system.wait_for_output(f"The worker (pid {worker}) was killed by SIGKILL", timeout=30)
        assert "back in the queue" in out.split(f"pid {worker})", 1)[1].split("\n", 1)[0], out
        system.wait_for_output("The worker is running again", timeout=60)
        assert system.proc.poll() is None
        replacement = system.child("worker")
        assert replacement != worker and alive(replacement)
        assert alive(system.child("moto")) and portal_answers(system)

        assert_all_finished_and_counted(system, uploads)
        assert time.monotonic() - killed_at < FINISH_SECONDS
    finally:
        assert system.stop() == 0


def test_a_crash_loop_is_given_up_on_with_a_clear_message(tmp_path):
    """Injected: the worker killed as soon as it is back, again and again."""
    system = System(tmp_path / "state").start()
    killed = []
    try:
        deadline = time.monotonic() + 120
        while system.proc.poll() is None and time.monotonic() < deadline:
            try:
                pid = system.child("worker")
            except FileNotFoundError:  # it gave up, and is stopping
                continue
            if pid and pid not in killed:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.1)
        code = system.proc.wait(timeout=120)
    finally:
        system.stop()
    out = system.output.read_text()
    assert code == 1, out
    assert "crashed 5 times within 60 s" in out and "giving up" in out, out
    assert len(killed) == 5
    assert not system.processes()


def test_a_killed_moto_server_comes_back_with_its_state_while_the_portal_answers(tmp_path):
    """Injected: SIGKILL of the moto server once its state is saved; then more uploads."""
    system = System(tmp_path / "state").start()
    try:
        before_uploads = upload(system, generate(tmp_path / "before", 10, seed=22, max_scale=1))
        assert_all_finished_and_counted(system, before_uploads)
        create_user(system.client("cognito-idp"), system.stack_settings.user_pool_id, "invited",
                    CHOSEN_PASSWORD, "uploaders")
        before, changed_at = view(system), time.time()
        system.wait_saved(since=changed_at)

        moto = system.child("moto")
        os.kill(moto, signal.SIGKILL)
        system.wait_for_output(f"The moto server (pid {moto}) was killed by SIGKILL", timeout=30)
        assert portal_answers(system)  # while storage is away
        system.wait_for_output("The moto server is running again", timeout=120)
        system.wait_for_output("Its saved state is back", timeout=60)
        assert system.proc.poll() is None and portal_answers(system)
        assert system.child("moto") != moto
        assert view(system) == before

        after_uploads = upload(system, generate(tmp_path / "after", 10, seed=23, max_scale=1))
        assert_all_finished_and_counted(system, before_uploads + after_uploads)
    finally:
        assert system.stop() == 0


def test_files_users_and_messages_outlive_a_clean_stop_and_a_killed_supervisor(tmp_path):
    """Injected: Ctrl-C and a new run; then SIGKILL of the supervisor, an upload to its orphans, a new run."""
    first = System(tmp_path / "state").start()
    try:
        uploads = upload(first, generate(tmp_path / "files", 12, seed=24, max_scale=1))
        assert_all_finished_and_counted(first, uploads)
        invited = create_user(first.client("cognito-idp"), first.stack_settings.user_pool_id, "invited",
                              CHOSEN_PASSWORD, "uploaders")
        first.client("sqs").send_message(QueueUrl=events_dlq(first), MessageBody="kept")
        before = view(first)
    finally:
        assert first.stop() == 0

    second = first.again().start()
    try:
        assert view(second) == before
        assert "kept from the last run" in second.output.read_text()
        users = second.client("cognito-idp").list_users(UserPoolId=second.stack_settings.user_pool_id)["Users"]
        emails = [a["Value"] for u in users for a in u["Attributes"] if a["Name"] == "email"]
        assert sorted(emails) == sorted([  # the demo users are not created twice
            "admin@example.com", "analyst@example.com", "uploader@example.com", invited])
        late = upload(second, generate(tmp_path / "late", 3, seed=25, max_scale=1))
        assert_all_finished_and_counted(second, uploads + late)
        orphans = second.children()
        assert second.stop(signal.SIGKILL) == -signal.SIGKILL
        # The orphans still serve the stack: what they do now must be there after the next start.
        last = upload(second, generate(tmp_path / "last", 2, seed=27, max_scale=1))
        assert_all_finished_and_counted(second, uploads + late + last)
        after_crash = view(second)
        assert all(alive(pid) for pid in orphans)
    finally:
        second.stop()

    third = first.again().start()
    try:
        assert not any(alive(pid) for pid in orphans)
        assert view(third) == after_crash
    finally:
        assert third.stop() == 0


def test_ctrl_c_stops_every_process_of_the_run(tmp_path):
    """Injected: a worker killed mid-burst (replaced), then Ctrl-C while the burst goes on."""
    system = System(tmp_path / "state").start()
    try:
        uploads = upload(system, generate(tmp_path / "burst", 40, seed=26, max_scale=1))
        ids = [u.file_id for u in uploads]
        assert wait_until(lambda: terminal(system, ids) >= 1, 60, pause=0.05)
        worker = system.child("worker")
        os.kill(worker, signal.SIGKILL)
        system.wait_for_output("The worker is running again", timeout=60)
        done = terminal(system, ids)
        assert wait_until(lambda: terminal(system, ids) > done, 60)  # the new worker is at work
        assert system.processes()
    finally:
        code = system.stop()
    assert code == 0
    assert wait_until(lambda: not system.processes(), 10), system.processes()
    # The worker ended by itself, its parser processes with it, instead of being killed after the grace.
    assert "worker stopped" in (system.state / "worker.log").read_text()
    assert not (system.state / "pids.json").exists()
    assert processes.port_free(system.moto_port) and processes.port_free(system.portal_port)


def test_ctrl_c_after_parsing_stops_everything_within_five_seconds(tmp_path):
    """Injected: Ctrl-C once files were parsed. Parser processes inherited the worker's SIGTERM handler and
    their socket's both ends, so the worker waited for them and the run took the whole grace, then SIGKILL."""
    system = System(tmp_path / "state").start()
    try:
        uploads = upload(system, generate(tmp_path / "parsed", 3, seed=28, max_scale=1))
        assert_all_finished_and_counted(system, uploads)
        parsers = children(system.child("worker"))
        assert parsers, "the worker holds no parser process: nothing to stop"
        run = system.processes()
    finally:
        started = time.monotonic()
        code = system.stop()
        took = time.monotonic() - started
    assert code == 0
    assert took < STOP_SECONDS, f"Ctrl-C took {took:.1f} s"
    assert not any(alive(pid) for pid in [*run, *parsers]), system.processes()
    assert "worker stopped" in (system.state / "worker.log").read_text()
