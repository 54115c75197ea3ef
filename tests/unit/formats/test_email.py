"""E-mail parser on messages built with the stdlib or written byte by byte."""

from __future__ import annotations

import base64
import json
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from extractor.formats import Limits, Parsed
from extractor.formats.email import parse_eml

LIMITS = Limits()
PDF_BYTES = b"%PDF-1.7\n" + bytes(range(256)) * 4
CSV_TEXT = "item,qty\nPaper,3\nToner,1\n"


def parse(tmp_path: Path, data: bytes) -> Parsed:
    """parse_eml on ``data`` saved as a file."""
    path = tmp_path / "message.eml"
    path.write_bytes(data)
    return parse_eml(path, LIMITS)


def invoice_mail() -> EmailMessage:
    """A typical message: text body, a PDF and a CSV attachment."""
    message = EmailMessage()
    message["From"] = "Ana Lima <ana@example.com>"
    message["To"] = "bob@example.com, \"Carla, Sales\" <carla@example.org>"
    message["Cc"] = "Dan <dan@example.net>"
    message["Subject"] = "Grüße: invoice 42"
    message["Date"] = "Tue, 03 Mar 2026 10:11:12 +0100"
    message.set_content("Please find the invoice attached.\n")
    message.add_attachment(PDF_BYTES, maintype="application", subtype="pdf", filename="invoice-42.pdf")
    message.add_attachment(CSV_TEXT, subtype="csv", filename="items.csv")
    return message


def test_every_field_of_a_message_with_two_attachments(tmp_path: Path) -> None:
    parsed = parse(tmp_path, invoice_mail().as_bytes(policy=SMTP))
    assert dict(parsed.metadata) == {
        "from": "Ana Lima <ana@example.com>",
        "to": ["bob@example.com", '"Carla, Sales" <carla@example.org>'],
        "cc": ["Dan <dan@example.net>"],
        "subject": "Grüße: invoice 42",
        "date": "2026-03-03T10:11:12+01:00",
        "attachments": [
            {"filename": "invoice-42.pdf", "content_type": "application/pdf", "size": len(PDF_BYTES)},
            {"filename": "items.csv", "content_type": "text/csv", "size": len(CSV_TEXT.encode())},
        ],
        "attachment_count": 2,
    }
    assert parsed.flags == frozenset()


MALFORMED = b"""From: "
To: <a@[1.2.3.4>
Cc: <@>, plain
Subject: =?utf-8?q?Quartalsbericht_Q1?= =?bogus?x?zz?=
Date: yesterday at noon
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="XYZ"

--XYZ
Content-Type: text/plain; charset=utf-8

Body text.
--XYZ
Content-Type: application/octet-stream; name="report.bin"
Content-Disposition: attachment; filename="report.bin"
Content-Transfer-Encoding: base64

""" + base64.encodebytes(bytes(range(200)) * 3) + b"""
--XYZ
Content-Type: text/plain; charset=utf-8
Content-Disposition: attachment; filename*=utf-8''Gr%C3%BC%C3%9Fe.txt
Content-Transfer-Encoding: quoted-printable

Gr=C3=BC=C3=9Fe =
aus Bern
--XYZ--
"""


def test_malformed_headers_fall_back_to_raw_text(tmp_path: Path) -> None:
    parsed = parse(tmp_path, MALFORMED)
    assert dict(parsed.metadata) == {
        "from": '"',
        "to": ["<a@[1.2.3.4>"],
        "cc": ["<@>, plain"],
        "subject": "Quartalsbericht Q1 =?bogus?x?zz?=",
        "attachments": [
            {"filename": "report.bin", "content_type": "application/octet-stream", "size": 600},
            {"filename": "Grüße.txt", "content_type": "text/plain", "size": len("Grüße aus Bern".encode())},
        ],
        "attachment_count": 2,
    }


def test_dates_in_utc_and_with_unknown_zone(tmp_path: Path) -> None:
    base = b"From: a@example.com\nSubject: x\n"
    utc = parse(tmp_path, base + b"Date: Tue, 03 Mar 2026 10:11:12 +0000\n\nhi\n")
    assert utc.metadata["date"] == "2026-03-03T10:11:12Z"
    unknown = parse(tmp_path, base + b"Date: Tue, 03 Mar 2026 10:11:12 -0000\n\nhi\n")
    assert unknown.metadata["date"] == "2026-03-03T10:11:12"


def test_a_plain_message_has_no_attachments_and_omits_absent_headers(tmp_path: Path) -> None:
    data = b"From: ana@example.com\nTo: undisclosed-recipients:;\n\nJust text.\n"
    assert dict(parse(tmp_path, data).metadata) == {"from": "ana@example.com", "attachment_count": 0}


def test_an_attached_message_counts_once_and_is_not_opened(tmp_path: Path) -> None:
    inner = invoice_mail()
    outer = EmailMessage()
    outer["From"] = "fwd@example.com"
    outer["Subject"] = "Fwd: invoice"
    outer.set_content("See below.\n")
    outer.add_attachment(inner)
    parsed = parse(tmp_path, outer.as_bytes())
    assert parsed.metadata["attachment_count"] == 1
    [attached] = parsed.metadata["attachments"]
    assert attached["content_type"] == "message/rfc822"
    assert attached["size"] > len(PDF_BYTES)
    assert "filename" not in attached


def test_many_attachments_are_counted_but_listed_up_to_a_cap(tmp_path: Path) -> None:
    message = EmailMessage()
    message["From"] = "scanner@example.com"
    message.set_content("Scans.\n")
    for number in range(150):
        message.add_attachment(b"x" * number, maintype="image", subtype="png", filename=f"scan{number}.png")
    parsed = parse(tmp_path, message.as_bytes())
    assert parsed.metadata["attachment_count"] == 150
    assert len(parsed.metadata["attachments"]) == 100
    assert parsed.metadata["attachments"][7] == {"filename": "scan7.png", "content_type": "image/png", "size": 7}


@pytest.mark.parametrize(("depth", "found"), [(50, 1), (400, 0)])  # 400 is beyond what the walk follows
def test_deeply_nested_multiparts_do_not_crash(tmp_path: Path, depth: int, found: int) -> None:
    head = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i) for i in range(depth))
    leaf = b'Content-Type: text/plain\nContent-Disposition: attachment; filename="deep.txt"\n\ndeep\n'
    tail = b"".join(b"--b%d--\n" % i for i in reversed(range(depth)))
    parsed = parse(tmp_path, b"From: a@example.com\nMIME-Version: 1.0\n" + head + leaf + tail)
    assert parsed.metadata["from"] == "a@example.com"
    assert parsed.metadata["attachment_count"] == found


def test_a_single_part_attachment_body(tmp_path: Path) -> None:
    data = (b"From: scanner@example.com\nContent-Type: application/pdf\n"
            b"Content-Disposition: attachment; filename=scan.pdf\nContent-Transfer-Encoding: base64\n\n"
            + base64.encodebytes(PDF_BYTES))
    assert parse(tmp_path, data).metadata["attachments"] == [
        {"filename": "scan.pdf", "content_type": "application/pdf", "size": len(PDF_BYTES)}]


def test_not_an_email_still_parses_leniently(tmp_path: Path) -> None:
    assert dict(parse(tmp_path, bytes(range(256)) * 8).metadata) == {"attachment_count": 0}


def test_values_are_json_serialisable(tmp_path: Path) -> None:
    metadata = dict(parse(tmp_path, invoice_mail().as_bytes()).metadata)
    assert json.loads(json.dumps(metadata)) == metadata
