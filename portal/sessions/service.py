"""The sessions table: create, read, renew and end lasting sessions (DynamoDB, one item each).

An item is keyed by the SHA-256 of the session id (``pk``), names its user
(``sub``, indexed by ``by_user`` for "Sign out everywhere"), and holds the
refresh token Fernet-encrypted with ``DOCPORTAL_SESSION_KEY`` on top of the
table's own encryption at rest: someone who can read the table or a backup
of it gets neither a live cookie nor a usable token. ``expires_at`` is the
table's TTL attribute; reads check it too, as TTL deletes late.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from portal.sessions.records import NotASessionId, SessionRecord, key_of, new_record, new_token

logger = logging.getLogger(__name__)

INDEX_BY_USER = "by_user"


@functools.cache
def _process_key() -> bytes:
    logger.warning("DOCPORTAL_SESSION_KEY is not set: sessions last only as long as this portal process")
    return Fernet.generate_key()


def cipher(session_key: str) -> Fernet:
    """The Fernet that seals refresh tokens: ``session_key``, else one made for this process."""
    return Fernet(session_key.encode("ascii") if session_key else _process_key())


@dataclass(frozen=True)
class Store:
    """The sessions table of one stack, with the key that seals its tokens."""

    ddb: Any
    table: str
    fernet: Fernet

    def create(self, sub: str, refresh_token: str, second_factor: bool, now: float,
               hours: int) -> tuple[str, SessionRecord]:
        """A new session for ``sub``: its id (for the cookie, never stored) and its record."""
        session_id = new_token()
        record = new_record(key_of(session_id), sub, second_factor, now, hours)
        self.ddb.put_item(
            TableName=self.table, ConditionExpression="attribute_not_exists(pk)",
            Item={"pk": {"S": record.key}, "sub": {"S": sub}, "created_at": {"N": str(record.created_at)},
                  "expires_at": {"N": str(record.expires_at)}, "second_factor": {"BOOL": second_factor},
                  "token": {"B": self.fernet.encrypt(refresh_token.encode("utf-8"))}})
        return session_id, record

    def open(self, session_id: str, now: float) -> tuple[SessionRecord, str] | None:
        """The live session a cookie names, and its refresh token; None for anything else.

        Anything else: a value that is not an id (no read is made), an
        unknown, ended or expired session, or a token this key cannot open.
        """
        try:
            key = key_of(session_id)
        except NotASessionId:
            return None
        item = self._item(key)
        if item is None:
            return None
        record = _record(item)
        if not record.live(now):
            self.end(record.key)
            return None
        try:
            token = self.fernet.decrypt(bytes(item["token"]["B"])).decode("utf-8")
        except InvalidToken:
            logger.warning("a stored session's token cannot be opened with this key; it is ended")
            self.end(record.key)
            return None
        return record, token

    def alive(self, key: str, now: float) -> bool:
        """True while the session with table key ``key`` has not been ended and has not expired."""
        item = self._item(key, projection="pk, expires_at")
        return item is not None and now < int(item["expires_at"]["N"])

    def renew(self, key: str, refresh_token: str) -> None:
        """Keep a refresh token Cognito rotated, if the session still exists."""
        try:
            self.ddb.update_item(
                TableName=self.table, Key={"pk": {"S": key}}, ConditionExpression="attribute_exists(pk)",
                UpdateExpression="SET #t = :t", ExpressionAttributeNames={"#t": "token"},
                ExpressionAttributeValues={":t": {"B": self.fernet.encrypt(refresh_token.encode("utf-8"))}})
        except self.ddb.exceptions.ConditionalCheckFailedException:
            logger.info("a session ended while its tokens were renewed")

    def end(self, key: str) -> None:
        """End one session (already gone is fine)."""
        self.ddb.delete_item(TableName=self.table, Key={"pk": {"S": key}})

    def end_all(self, sub: str, keep: str | None = None) -> int:
        """End every session of user ``sub`` but the one with table key ``keep``; how many were ended."""
        ended = 0
        pages = self.ddb.get_paginator("query").paginate(
            TableName=self.table, IndexName=INDEX_BY_USER, KeyConditionExpression="#s = :s",
            ExpressionAttributeNames={"#s": "sub"}, ExpressionAttributeValues={":s": {"S": sub}})
        for page in pages:
            for item in page["Items"]:
                if item["pk"]["S"] != keep:
                    self.end(item["pk"]["S"])
                    ended += 1
        return ended

    def _item(self, key: str, projection: str | None = None) -> dict[str, Any] | None:
        extra = {"ProjectionExpression": projection} if projection else {}
        item: dict[str, Any] | None = self.ddb.get_item(
            TableName=self.table, Key={"pk": {"S": key}}, ConsistentRead=True, **extra).get("Item")
        return item


def _record(item: dict[str, Any]) -> SessionRecord:
    return SessionRecord(key=item["pk"]["S"], sub=item["sub"]["S"], created_at=int(item["created_at"]["N"]),
                         expires_at=int(item["expires_at"]["N"]), second_factor=item["second_factor"]["BOOL"])
