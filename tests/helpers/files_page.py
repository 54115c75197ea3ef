"""The Files page in AppTest, as its tests drive it: users of the stack's pool, files stored and processed
by production's own code, the page run as a signed-in user, and what it shows read back."""

from __future__ import annotations

import io
import itertools

from streamlit.testing.v1 import AppTest

from common import aws
from common.schema.keys import file_key
from common.schema.record import FileRecord, from_item
from extractor.processor import Deps, process_message
from portal.access import User
from portal.files.uploads import store_upload
from tests.helpers.env import ROOT
from tests.helpers.events import eventbridge_body
from tests.helpers.pages import signed_in_as

PAGE = str(ROOT / "portal" / "app_pages" / "files.py")
_SEQUENCERS = itertools.count(0x5000)


def cognito_user(stack, email: str, group: str) -> User:
    """A user of the stack's pool (so analysts can choose them as uploader)."""
    cognito = aws.client("cognito-idp")
    created = cognito.admin_create_user(UserPoolId=stack.user_pool_id, Username=email, MessageAction="SUPPRESS",
                                        UserAttributes=[{"Name": "email", "Value": email}])
    sub = next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")
    return User(sub=sub, email=email, groups=frozenset({group}), expires_at=2**40)


def announce(stack, key: str) -> str:
    """The EventBridge message S3 sends for the current version of ``key``, with a later sequencer each time."""
    head = aws.client("s3").head_object(Bucket=stack.bucket, Key=key)
    return eventbridge_body(stack.bucket, key, sequencer=f"{next(_SEQUENCERS):X}", size=head["ContentLength"],
                            etag=head["ETag"].strip('"'), version_id=head["VersionId"])


def upload(stack, user: User, name: str, data: bytes, *, process: bool = True) -> FileRecord:
    """``data`` stored as ``user``'s upload through the portal's own code; processed by the extractor's."""
    s3, ddb = aws.client("s3"), aws.client("dynamodb")
    record = store_upload(user=user, name=name, body=io.BytesIO(data), content_type="", s3=s3, ddb=ddb,
                          settings=stack)
    if process:
        process_message(announce(stack, record.key), 1, Deps(s3=s3, ddb=ddb, table=stack.table))
    return current(stack, record.file_id)


def current(stack, file_id: str) -> FileRecord:
    """The file's item as it is now."""
    return from_item(aws.client("dynamodb").get_item(TableName=stack.table, Key=file_key(file_id),
                                                     ConsistentRead=True)["Item"])


def page(user: User, **params: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    signed_in_as(at, user)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


def listed(at: AppTest) -> list[str]:
    """File names in the list (the selectable table)."""
    return at.dataframe[0].value["Name"].tolist() if at.dataframe else []


def buttons(at: AppTest) -> set[str]:
    return {b.label for b in at.button}


def select(at: AppTest, label: str):
    return next(s for s in at.selectbox if s.label == label)


def texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("error", "warning", "info", "success", "caption", "markdown")
                     for e in getattr(at, kind))
