"""``docportal`` against make run's API server, the moto pool and a worker: the issue's script, and its failures.

Each test keeps its logins in its own config folder (``XDG_CONFIG_HOME``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from api import app as api_app
from api.cli import commands, login
from devstack.processes import free_port
from devstack.provision import DEFAULT_DEMO_PASSWORD
from portal.files.upload_policy import MiB
from tests.helpers.api import serving
from tests.helpers.env import worker_thread
from tests.helpers.files import tiny_pdf
from tests.helpers.users import new_uploader, new_user

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def people(moto_server) -> dict[str, str]:
    """An uploader and an analyst of this module's own: the stand-in is shared."""
    return {"uploader": new_uploader(moto_server, "cli", DEFAULT_DEMO_PASSWORD),
            "analyst": new_user(moto_server, "cli-analyst", DEFAULT_DEMO_PASSWORD, "analysts")}


@pytest.fixture
def stack(on_server, monkeypatch, tmp_path):
    """The API on a port of this test's own (forked parsers may hold an earlier one), a worker, a config folder."""
    monkeypatch.setenv("DOCPORTAL_API_PASSWORD", DEFAULT_DEMO_PASSWORD)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    with serving(on_server.settings, free_port()) as url, worker_thread(on_server.settings):
        monkeypatch.setenv("DOCPORTAL_API_URL", url)
        yield on_server


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return commands.main(list(argv), out=out), out.getvalue()


def stored_ids(summary: str) -> list[str]:
    """The file ids of upload's summary table (between its "Stored" line and any "Refused")."""
    table = summary.split("Refused:")[0].splitlines()[2:]
    return [line.split()[0] for line in table]


def test_sign_in_upload_20_files_wait_list_and_export_them(stack, people, tmp_path, monkeypatch, capsys):
    assert run("login", "--user", people["uploader"])[0] == 0
    paths = []
    for n in range(20):
        paths.append(tmp_path / f"report-{n:02}.pdf")
        paths[-1].write_bytes(tiny_pdf(f"report {n}"))
    code, summary = run("upload", *map(str, paths), "--tag", "cli")
    assert code == 0, capsys.readouterr().err
    ids = stored_ids(summary)
    assert summary.startswith("Stored 20 of 20 files:") and len(set(ids)) == 20
    assert capsys.readouterr().err.count(": stored ") == 20  # a progress line per file, off a terminal
    code, changes = run("status", *ids, "--timeout", "120")
    assert code == 0, changes
    assert {line.split()[0] for line in changes.splitlines() if line.split()[1] == "processed"} == set(ids)
    code, listing = run("files", "--json")
    files = {f["file_id"]: f for f in json.loads(listing)["files"]}
    assert code == 0 and set(ids) <= set(files)
    assert {(files[i]["status"], tuple(files[i]["tags"])) for i in ids} == {("processed", ("cli",))}
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "analyst"))
    assert run("login", "--user", people["analyst"])[0] == 0
    today = datetime.now(UTC).date().isoformat()
    target = tmp_path / "export.csv"
    assert run("export", "--from", today, "--to", today, "-o", str(target))[0] == 0
    rows = [r for r in csv.DictReader(target.open(encoding="utf-8-sig"))
            if r["owner_email"] == people["uploader"] and r["name"].startswith("report-")]
    assert {r["name"]: (r["status"], r["size"]) for r in rows} == {
        p.name: ("processed", str(p.stat().st_size)) for p in paths}


def test_a_large_file_goes_in_parts_and_is_processed(stack, people, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCPORTAL_UPLOAD_MULTIPART_MB", "5")
    api_app.reset()
    big = tmp_path / "big.txt"
    big.write_bytes((b"Twelve MiB of plain text, in parts.\n" * (12 * MiB // 36 + 1))[:12 * MiB])
    assert run("login", "--user", people["uploader"])[0] == 0
    code, summary = run("upload", str(big))
    assert code == 0
    [file_id] = stored_ids(summary)
    assert f"{12 * MiB}" in summary
    assert run("status", file_id, "--timeout", "120")[0] == 0
    code, detail = run("get", file_id)
    assert (json.loads(detail)["status"], json.loads(detail)["size"]) == ("processed", 12 * MiB)


def test_an_expired_person_login_is_refreshed_with_the_pool(stack, people):
    assert run("login", "--user", people["uploader"])[0] == 0
    kept = login.load(os.environ)
    assert kept is not None and kept.refresh_token
    login.save(replace(kept, expires_at=0.0, token="stale"), os.environ)
    assert run("files")[0] == 0
    fresh = login.load(os.environ)
    assert fresh is not None and fresh.token != "stale" and fresh.expires_at > time.time()


def test_a_wrong_password_exits_2(stack, people, monkeypatch, capsys):
    monkeypatch.setenv("DOCPORTAL_API_PASSWORD", "not-the-password-1A!")
    assert run("login", "--user", people["uploader"])[0] == 2
    assert "wrong e-mail or password" in capsys.readouterr().err


def test_a_token_the_api_does_not_accept_exits_2(stack, monkeypatch, capsys):
    monkeypatch.setenv("DOCPORTAL_API_TOKEN", "not-a-token")
    assert run("files")[0] == 2
    assert "docportal login" in capsys.readouterr().err


def test_refused_access_exits_1_with_the_problems_detail(stack, people, capsys):
    assert run("login", "--user", people["uploader"])[0] == 0
    assert run("export", "--from", "2026-01-01", "--to", "2026-01-31")[0] == 1
    assert "Only analysts and admins may export metadata." in capsys.readouterr().err
    assert run("get", "0" * 32)[0] == 1
    assert "There is no such file." in capsys.readouterr().err


def test_a_file_over_the_limit_is_refused_by_the_api_before_its_bytes_are_sent(stack, people, tmp_path,
                                                                               monkeypatch):
    monkeypatch.setenv("DOCPORTAL_UPLOAD_MAX_MB", "1")
    api_app.reset()
    small, large = tmp_path / "small.pdf", tmp_path / "large.pdf"
    small.write_bytes(tiny_pdf("small"))
    large.write_bytes(tiny_pdf("large") + b"%" * (2 * MiB))
    assert run("login", "--user", people["uploader"])[0] == 0
    code, summary = run("upload", str(small), str(large))
    assert code == 1
    assert summary.startswith("Stored 1 of 2 files:")
    refusal = summary.split("Refused:")[1]
    assert str(large) in refusal and "1 MB" in refusal
    assert stored_ids(summary) and str(large) not in summary.split("Refused:")[0]


def test_a_large_export_is_fetched_through_its_link_without_the_token(stack, people, tmp_path, monkeypatch):
    monkeypatch.setattr(api_app, "INLINE_EXPORT_BYTES", 16)  # every export is "large": a 303 to S3
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "analyst"))
    assert run("login", "--user", people["analyst"])[0] == 0
    today = datetime.now(UTC).date().isoformat()
    code, printed = run("export", "--from", today, "--to", today)
    assert code == 0 and printed.lstrip("\ufeff").startswith("name,owner_email,status")
    target = tmp_path / "export.csv"
    assert run("export", "--from", today, "--to", today, "-o", str(target))[0] == 0
    assert target.read_bytes().decode("utf-8") == printed
