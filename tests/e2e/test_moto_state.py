"""devstack.moto_server --state: what the server held comes back after a crash or a stop, ids and all."""

import re
import signal
import sys
import threading
import time
from datetime import datetime

import pytest

from devstack import processes
from tests.helpers.env import ROOT, server_client

pytestmark = pytest.mark.e2e
_SAVED = re.compile(r"state as of (\S+) saved")


class Server:
    """A `devstack.moto_server --state` of the test's own, started and stopped at will."""

    def __init__(self, state):
        self.state, self.port = state, processes.free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = state.parent / "moto.log"
        self.proc = None

    def start(self):
        self.proc = processes.start([sys.executable, "-m", "devstack.moto_server", "-H", "127.0.0.1",
                                     "-p", str(self.port), "--state", str(self.state)], log=self.log, cwd=ROOT)
        processes.wait_http(f"{self.endpoint}/moto-api/", timeout=120, proc=self.proc, log=self.log)
        return self

    def client(self, service):
        return server_client(self.endpoint, service)

    def wait_saved(self, since, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(datetime.fromisoformat(m).timestamp() > since for m in _SAVED.findall(self.log.read_text())):
                return time.monotonic()
            time.sleep(0.05)
        raise AssertionError(f"no snapshot after {since}:\n{self.log.read_text()[-2000:]}")

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=60)


@pytest.fixture
def server(tmp_path):
    server = Server(tmp_path / "state").start()
    yield server
    processes.stop([server.proc])


def fill(server):
    """A little of everything the stack uses; returns what to compare afterwards."""
    s3, ddb, sqs, cognito = (server.client(s) for s in ("s3", "dynamodb", "sqs", "cognito-idp"))
    s3.create_bucket(Bucket="kept")
    s3.put_bucket_versioning(Bucket="kept", VersioningConfiguration={"Status": "Enabled"})
    big = bytes(range(256)) * 8192  # 2 MiB: moto keeps it in a temporary file, not in memory
    s3.put_object(Bucket="kept", Key="k", Body=b"first")
    s3.put_object(Bucket="kept", Key="k", Body=b"second")
    s3.put_object(Bucket="kept", Key="big", Body=big)
    ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    ddb.put_item(TableName="t", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "3600"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="one")
    sqs.send_message(QueueUrl=url, MessageBody="two")
    held = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"][0]
    pool = cognito.create_user_pool(PoolName="p")["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c",
                                                ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH",
                                                                   "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
    cognito.admin_create_user(UserPoolId=pool, Username="someone", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username="someone", Password="Pass-word-2026", Permanent=True)
    versions = sorted((v["Key"], v["VersionId"], v["ETag"]) for v in s3.list_object_versions(Bucket="kept")["Versions"])
    return {"versions": versions, "big": big, "url": url, "held": held, "pool": pool,
            "client": client_id["ClientId"]}


def test_everything_comes_back_after_a_sigkill_once_saved_and_held_messages_return_at_once(server):
    """Injected: SIGKILL of the server after its last snapshot."""
    before = fill(server)
    server.wait_saved(since=time.time())
    assert server.kill() == -signal.SIGKILL
    server.start()

    s3, ddb, sqs, cognito = (server.client(s) for s in ("s3", "dynamodb", "sqs", "cognito-idp"))
    versions = s3.list_object_versions(Bucket="kept")["Versions"]
    assert sorted((v["Key"], v["VersionId"], v["ETag"]) for v in versions) == before["versions"]
    assert s3.get_object(Bucket="kept", Key="k")["Body"].read() == b"second"
    first = next(v["VersionId"] for v in versions if v["Key"] == "k" and not v["IsLatest"])
    assert s3.get_object(Bucket="kept", Key="k", VersionId=first)["Body"].read() == b"first"
    assert s3.get_object(Bucket="kept", Key="big")["Body"].read() == before["big"]
    assert ddb.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"]["n"] == {"N": "1"}

    # The held message is visible again at once (its holder is gone), its receive counted.
    got = sqs.receive_message(QueueUrl=before["url"], MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert sorted(m["Body"] for m in got) == ["one", "two"]
    counts = {m["Body"]: m["Attributes"]["ApproximateReceiveCount"] for m in got}
    other = ({"one", "two"} - {before["held"]["Body"]}).pop()
    assert counts == {before["held"]["Body"]: "2", other: "1"}

    tokens = cognito.admin_initiate_auth(UserPoolId=before["pool"], ClientId=before["client"],
                                         AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                         AuthParameters={"USERNAME": "someone", "PASSWORD": "Pass-word-2026"})
    assert tokens["AuthenticationResult"]["AccessToken"]

    # And the restored server goes on saving: a change after the restart survives the next crash.
    ddb.put_item(TableName="t", Item={"pk": {"S": "b"}})
    server.wait_saved(since=time.time())
    server.kill()
    server.start()
    assert "Item" in server.client("dynamodb").get_item(TableName="t", Key={"pk": {"S": "b"}})


def test_a_stop_saves_the_last_change_and_bodies_nothing_refers_to_are_removed(server):
    """Injected: SIGTERM straight after a change, before any snapshot could take it."""
    s3 = server.client("s3")
    s3.create_bucket(Bucket="plain")
    for i in range(3):
        s3.put_object(Bucket="plain", Key=f"k{i}", Body=b"x" * (i + 1))
    s3.put_object(Bucket="plain", Key="k0", Body=b"rewritten")
    s3.delete_object(Bucket="plain", Key="k2")
    assert server.kill(signal.SIGTERM) == 0
    server.start()
    s3 = server.client("s3")
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket="plain")["Contents"]) == ["k0", "k1"]
    assert s3.get_object(Bucket="plain", Key="k0")["Body"].read() == b"rewritten"
    assert len(list((server.state / "objects").iterdir())) == 2


def test_a_long_poll_neither_holds_up_a_snapshot_nor_misses_a_new_message(server):
    """A worker waits up to 20 s for messages; meanwhile a change is saved, and a new message reaches it."""
    sqs, ddb = server.client("sqs"), server.client("dynamodb")
    url = sqs.create_queue(QueueName="idle")["QueueUrl"]
    got = {}

    def poll():
        started = time.monotonic()
        got["messages"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20).get("Messages", [])
        got["seconds"] = time.monotonic() - started

    server.wait_saved(since=time.time())  # the queue is saved; the poll starts on a quiet server
    waiting = threading.Thread(target=poll)
    waiting.start()
    time.sleep(0.5)
    changed = time.time()
    ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    saved = server.wait_saved(since=changed, timeout=10)
    sent = time.monotonic()
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    waiting.join(timeout=30)
    assert [m["Body"] for m in got["messages"]] == ["hello"]
    assert got["seconds"] < 10 and saved < sent


def test_a_state_that_cannot_be_read_stops_the_server_with_what_to_do(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / "moto.pickle").write_bytes(b"not a snapshot")
    with pytest.raises(processes.StartupError, match="make reset"):
        Server(state).start()
