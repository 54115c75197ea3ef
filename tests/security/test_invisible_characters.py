"""Attacks with invisible characters in file names (Trojan Source, CVE-2021-42574; forged log lines).

A file name is whatever the uploader's browser sent. A right-to-left override
makes ``invoice<U+202E>fdp.exe`` read as ``invoiceexe.pdf``; a line break in a
name forges a line in the portal's log. Pages, download names and logs must
show such characters as something a person can see, or not at all.
"""

from __future__ import annotations

import datetime as dt
import io
import logging

import pytest
from botocore.exceptions import ClientError

from common import aws
from portal.files.uploads import UploadError, store_upload
from portal.files.views import content_disposition, detail_groups, file_rows
from portal.text import md_escape, plain, plot_escape
from tests.helpers.records import sample_record
from tests.helpers.users import ANN

#: Bidi overrides, embeddings, isolates and marks, a zero-width no-break and controls.
INVISIBLE = ["\u202e", "\u202d", "\u202a", "\u202b", "\u202c", "\u2066", "\u2067", "\u2068", "\u2069",
             "\u200e", "\u200f", "\u061c", "\x00", "\x1b", "\x7f", "\x85"]
TROJAN = "invoice\u202efdp.exe"


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_a_name_on_a_page_shows_no_invisible_character(char):
    name = f"report{char}.pdf"
    shown = [file_rows([sample_record(name=name)], dt.UTC)[0]["Name"], md_escape(name), plot_escape(name)]
    shown += [value for group in detail_groups(sample_record(name=name), dt.UTC) for label, value in group.rows
              if label == "Name"]
    for text in shown:
        assert char not in text, repr(text)
        assert "report\ufffd" in text or "report " in text, f"{text!r} hides that the name held something"


def test_a_right_to_left_override_cannot_disguise_a_download_as_a_pdf():
    disposition = content_disposition(TROJAN)
    assert "\u202e" not in disposition
    assert "%E2%80%AE" not in disposition, "the exact name would still reverse in the browser's save dialog"
    assert disposition.endswith("exe") or ".exe" in disposition


def test_plain_keeps_every_visible_character():
    name = "Q3 rapport été – 日本語 עברית 🇪🇺 (v2).pdf"
    assert plain(name) == name


def test_a_name_cannot_forge_a_line_in_the_log(stack, caplog):
    class BrokenS3:
        def upload_fileobj(self, *args, **kwargs):
            raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "PutObject")

    name = "a.pdf\n2026-12-01 12:00:00 INFO admin@example.com granted admins to eve\u202e.pdf"
    with caplog.at_level(logging.INFO), pytest.raises(UploadError):
        store_upload(user=ANN, name=name, body=io.BytesIO(b"%PDF-1.4"), content_type="",
                     s3=BrokenS3(), ddb=aws.client("dynamodb"), settings=stack)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "\n2026-12-01 12:00:00 INFO" not in logged
    assert "\u202e" not in logged
