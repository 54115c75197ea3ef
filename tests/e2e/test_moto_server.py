"""devstack.moto_server: transactions still all-or-nothing, now isolated, and cheap on a big table."""

import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from devstack import processes
from tests.helpers.env import ROOT, server_client

pytestmark = pytest.mark.e2e
TABLE = "t"


@pytest.fixture(scope="module")
def ddb(tmp_path_factory):
    port = processes.free_port()
    log = tmp_path_factory.mktemp("patched") / "moto.log"
    proc = processes.start([sys.executable, "-m", "devstack.moto_server", "-H", "127.0.0.1", "-p", str(port)],
                           log=log, cwd=ROOT)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        processes.wait_http(f"{endpoint}/moto-api/", timeout=60, proc=proc, log=log)
        client = server_client(endpoint, "dynamodb")
        client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk", "AttributeType": "S"}])
        yield client
    finally:
        processes.stop([proc])


def key(pk):
    return {"pk": {"S": pk}, "sk": {"S": "s"}}


def add(pk, n=1, condition=None):
    update = {"TableName": TABLE, "Key": key(pk), "UpdateExpression": "ADD #n :n",
              "ExpressionAttributeNames": {"#n": "n"}, "ExpressionAttributeValues": {":n": {"N": str(n)}}}
    if condition:
        update["ConditionExpression"] = condition
    return {"Update": update}


def value(ddb, pk):
    item = ddb.get_item(TableName=TABLE, Key=key(pk), ConsistentRead=True).get("Item")
    return int(item["n"]["N"]) if item else None


def test_a_cancelled_transaction_changes_nothing(ddb):
    ddb.put_item(TableName=TABLE, Item={**key("old"), "n": {"N": "5"}})
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {**key("new"), "n": {"N": "1"}}}},
            add("old", 10),
            add("third", 1, "attribute_exists(pk)"),
        ])
    assert e.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert (value(ddb, "new"), value(ddb, "old"), value(ddb, "third")) == (None, 5, None)


def test_a_transaction_applies_every_action(ddb):
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": {**key("a"), "n": {"N": "1"}}}}, add("b", 2)])
    assert (value(ddb, "a"), value(ddb, "b")) == (1, 2)


def test_concurrent_transactions_lose_no_update(ddb):
    """Many threads, each transaction adding to a shared counter and failing half the time."""
    for i in range(300):  # a table big enough for moto's own copy to be slow and racy
        ddb.put_item(TableName=TABLE, Item={**key(f"filler{i}"), "n": {"N": "0"}})

    def one(i):
        actions = [add("shared"), add(f"own{i}")]
        if i % 2:
            actions.append(add("missing", 1, "attribute_exists(pk)"))  # cancels the whole transaction
        try:
            ddb.transact_write_items(TransactItems=actions)
            return "ok"
        except ClientError as e:
            return e.response["Error"]["Code"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(one, range(80)))
    assert outcomes.count("ok") == 40 and outcomes.count("TransactionCanceledException") == 40
    assert value(ddb, "shared") == 40
    assert [value(ddb, f"own{i}") for i in range(80)] == [None if i % 2 else 1 for i in range(80)]


def test_compaction_racing_the_extractors_transactions_loses_and_doubles_nothing(ddb):
    """Writers commit files into past days' cells while the compaction job merges those cells, over HTTP."""
    import threading

    from bench.checks import recount, stored_counters
    from common.schema import requests
    from common.schema.aggregates import parse_aggregate_key
    from extractor import compactor
    from tests.helpers.records import DAYS, make_records

    table = "agg"
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}])
    records = make_records(240, seed=21, days=DAYS[:2])
    done = threading.Event()

    def write(part):
        for record in part:
            for _ in range(20):  # a conflict with the job is retried, as the extractor does
                try:
                    ddb.transact_write_items(**requests.transition(table, None, record))
                    break
                except ClientError as e:
                    assert e.response["Error"]["Code"] == "TransactionCanceledException"

    reports = []
    writers = [threading.Thread(target=write, args=(records[i::4],)) for i in range(4)]
    for w in writers:
        w.start()

    def merge_until_done():
        while not done.is_set():
            reports.append(compactor.compact(ddb, table, DAYS[0], DAYS[1]))

    job = threading.Thread(target=merge_until_done)
    job.start()
    for w in writers:
        w.join()
    done.set()
    job.join()
    final = compactor.compact(ddb, table, DAYS[0], DAYS[1])

    items = []
    for page in ddb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items += page["Items"]
    assert stored_counters(items) == recount(records)
    assert sum(r.compacted for r in reports) > 0  # the job did merge while the writers ran
    assert final.busy == 0
    agg = [i for i in items if i["pk"]["S"].startswith("AGG#")]
    assert len(agg) == len({parse_aggregate_key(i["pk"]["S"], i["sk"]["S"])[:3] for i in agg})


def test_revoking_a_refresh_token_ends_it_and_its_access_tokens_and_only_them(ddb):
    cognito = server_client(ddb.meta.endpoint_url, "cognito-idp")
    pool = cognito.create_user_pool(PoolName="revoke")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c",
                                             ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH",
                                                                "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=pool, Username="u@example.com", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username="u@example.com", Password="Pass-word-2026",
                                    Permanent=True)

    def tokens():
        return cognito.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={
            "USERNAME": "u@example.com", "PASSWORD": "Pass-word-2026"})["AuthenticationResult"]

    def refresh(token):
        return cognito.initiate_auth(ClientId=client, AuthFlow="REFRESH_TOKEN_AUTH",
                                     AuthParameters={"REFRESH_TOKEN": token})

    revoked, kept = tokens(), tokens()
    cognito.revoke_token(Token=revoked["RefreshToken"], ClientId=client)
    with pytest.raises(ClientError) as refused:
        refresh(revoked["RefreshToken"])
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    with pytest.raises(ClientError) as refused:
        cognito.get_user(AccessToken=revoked["AccessToken"])
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    assert refresh(kept["RefreshToken"])["AuthenticationResult"]["AccessToken"]
    assert cognito.get_user(AccessToken=kept["AccessToken"])["Username"]
