"""The upload policy: size limit, allow-list, tags and notes (pure)."""

from __future__ import annotations

import tomllib

import pytest

from common.catalogue import EXTENSION_FORMATS, FAMILIES, FORMAT_NAMES
from common.settings import DEFAULT_MAX_MB, Settings, SettingsError
from devstack import template
from extractor.extract import PARSERS, Config
from portal.files.upload_policy import (
    FRAMING_BYTES,
    MAX_NOTES_CHARS,
    MemoryBudget,
    MiB,
    Refusal,
    UploadPolicy,
    Verdict,
    clean_notes,
    parse_tags,
)
from tests.helpers.env import ROOT

POLICY = UploadPolicy.from_settings(Settings())


def policy_for(env: dict[str, str]) -> UploadPolicy:
    """The policy a portal configured by ``env`` alone would enforce."""
    return UploadPolicy.from_settings(Settings.from_env(env, need_stack=False))
ALLOWED = ("PDF, Word, Excel, PowerPoint, OpenDocument, images, audio and video, text and data, ZIP, e-mail")


# --- check ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["report.pdf", "REPORT.PDF", "scan.JPEG", "notes.txt", "a.b.docx", "mail.eml"])
def test_supported_types_are_accepted(name):
    assert POLICY.check(name, 1000) == Verdict(name, True)


def test_an_unsupported_type_is_refused_naming_what_is_allowed():
    verdict = POLICY.check("report.exe", 10)
    assert not verdict.accepted
    assert verdict.message == f"report.exe: this type of file is not accepted (allowed: {ALLOWED})"


def test_a_name_without_extension_is_refused():
    verdict = POLICY.check("README", 10)
    assert not verdict.accepted
    assert verdict.message == f"README: files without a type in their name are not accepted (allowed: {ALLOWED})"


@pytest.mark.parametrize(("size", "shown"), [(700 * MiB, "700"), (512 * MiB + 1, "512.1"),
                                             (int(600.25 * MiB), "600.3"), (1024 * MiB, "1024")])
def test_a_file_over_the_limit_is_refused_with_both_sizes(size, shown):
    verdict = POLICY.check("big.pdf", size)
    assert not verdict.accepted
    assert verdict.message == f"big.pdf is {shown} MB; the limit is 512 MB"


def test_a_file_of_exactly_the_limit_is_accepted():
    assert POLICY.check("big.pdf", 512 * MiB).accepted
    assert POLICY.check("empty.txt", 0).accepted  # the extractor flags it ``empty``


def test_the_type_is_judged_before_the_size():
    assert "type of file" in POLICY.check("huge.exe", 10_000 * MiB).message


# --- configuration ----------------------------------------------------------------


def test_defaults_match_the_template_and_the_extractor():
    parameters = template.load()["Parameters"]
    assert parameters["MaxFileSizeMB"]["Default"] == DEFAULT_MAX_MB
    assert Config().max_parse_bytes == DEFAULT_MAX_MB * MiB
    assert policy_for({}).max_bytes == DEFAULT_MAX_MB * MiB


def test_streamlits_own_upload_endpoint_is_capped_very_low_and_bounds_only_the_memory_budget():
    """No page sends files through the portal (they go straight to S3), so Streamlit's endpoint takes 1 MB."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == 1
    assert policy_for({}).max_mb == DEFAULT_MAX_MB  # the policy is not capped by it
    budget = MemoryBudget.from_settings(Settings.from_env({}, need_stack=False), file_mb=1)
    assert (budget.file_bytes, budget.session_bytes, budget.process_bytes) == (MiB, 4 * MiB, 64 * MiB)


def test_the_limit_comes_from_the_upload_setting_then_the_parse_limit():
    assert policy_for({"DOCPORTAL_MAX_PARSE_MB": "100"}).max_mb == 100
    assert policy_for({"DOCPORTAL_MAX_PARSE_MB": "100", "DOCPORTAL_UPLOAD_MAX_MB": " 20 "}).max_mb == 20


@pytest.mark.parametrize("value", ["lots", "0", "-5", "1.5"])
def test_an_unusable_limit_is_a_settings_error(value):
    with pytest.raises(SettingsError, match="DOCPORTAL_UPLOAD_MAX_MB"):
        policy_for({"DOCPORTAL_UPLOAD_MAX_MB": value})


def test_the_families_can_be_narrowed():
    policy = policy_for({"DOCPORTAL_UPLOAD_FORMATS": "Word, pdf"})
    assert policy.allowed_text == "PDF, Word"  # shown in the template's order, not the setting's
    assert policy.check("a.docx", 1).accepted
    assert policy.check("a.png", 1).message == "a.png: this type of file is not accepted (allowed: PDF, Word)"


def test_an_unknown_family_is_a_settings_error_listing_the_known_ones():
    with pytest.raises(SettingsError, match=r"unknown families spreadsheets .*known: pdf, word"):
        policy_for({"DOCPORTAL_UPLOAD_FORMATS": "pdf,spreadsheets"})


def test_every_accepted_extension_is_one_the_extractor_knows():
    known = set(EXTENSION_FORMATS)  # what the extractor expects of each extension
    assert POLICY.extensions <= known, POLICY.extensions - known


def test_every_format_the_extractor_parses_can_be_uploaded():
    # epub is parsed as a zip but offered only as a plain zip's format; a .zip may hold one.
    parsed = set(PARSERS)
    reachable = {fmt for ext in POLICY.extensions for fmt in EXTENSION_FORMATS[ext]}
    assert parsed <= reachable, parsed - reachable
    assert parsed <= set(FORMAT_NAMES)


def test_family_names_are_unique():
    assert len({f.name for f in FAMILIES}) == len(FAMILIES)


# --- tags ---------------------------------------------------------------------------


def test_tags_are_trimmed_collapsed_lowercased_and_unique():
    assert parse_tags(" Q3 ,Finance,,  board   pack\nq3, FINANCE ") == ("q3", "finance", "board pack")
    assert parse_tags(["R&D", "cost-centre/42", "été"]) == ("r&d", "cost-centre/42", "été")
    assert parse_tags("") == ()


def test_control_characters_vanish_from_tags():
    assert parse_tags("fin\x00ance\u202e") == ("finance",)


def test_at_most_ten_tags():
    assert len(parse_tags([f"t{i}" for i in range(10)])) == 10
    with pytest.raises(ValueError, match=r"at most 10 tags, please \(there are 11\)"):
        parse_tags([f"t{i}" for i in range(11)])


def test_a_long_tag_is_refused():
    assert parse_tags(["x" * 32]) == ("x" * 32,)
    with pytest.raises(ValueError, match="longer than 32 characters"):
        parse_tags(["x" * 33])


@pytest.mark.parametrize("tag", ["=cmd()", "<script>", "-leading", "a;b"])
def test_tags_hold_only_plain_characters(tag):
    with pytest.raises(ValueError, match="may only hold letters, digits"):
        parse_tags([tag])


# --- notes -----------------------------------------------------------------------------


def test_notes_lose_control_characters_but_keep_lines_and_tabs():
    assert clean_notes("  first\r\nsecond\rthird\tcol\x00\x1b[31m\x7f\u202e  ") == "first\nsecond\nthird\tcol[31m"


def test_notes_are_capped_without_being_cut():
    assert clean_notes("x" * MAX_NOTES_CHARS) == "x" * MAX_NOTES_CHARS
    assert clean_notes("x" * MAX_NOTES_CHARS + "\x00\x00  ") == "x" * MAX_NOTES_CHARS
    with pytest.raises(ValueError, match="notes are 1,001 characters; the limit is 1,000"):
        clean_notes("x" * (MAX_NOTES_CHARS + 1))


# --- the item keeps them -----------------------------------------------------------------


def test_tags_and_notes_survive_the_item_and_every_extractor_transition():
    from common.catalogue import FileStatus
    from common.schema import lifecycle
    from common.schema.record import Extracted, FileRecord, ObjectRef, from_item, to_item

    upload = FileRecord(file_id="f" * 32, owner="o-1", name="a.pdf", bucket="b", key=f"uploads/o-1/{'f' * 32}.pdf",
                        status=FileStatus.UPLOADED, uploaded_at="2026-12-01T08:00:00.000Z",
                        updated_at="2026-12-01T08:00:00.000Z", tags=("q3", "finance"), notes="for the board")
    assert from_item(to_item(upload)) == upload
    ref = ObjectRef(bucket="b", key=upload.key, size=5, etag="e-2", version_id="v1", sequencer="0A")
    claimed = lifecycle.claimed(upload, upload.file_id, upload.owner, upload.name, ref, "2026-12-01T08:00:01.000Z")
    done = lifecycle.finished(claimed, Extracted(size=5, sha256="0" * 64, mime_type="application/pdf", format="pdf",
                                              extension="pdf", flags=(), metadata={}), "2026-12-01T08:00:02.000Z")
    gone = lifecycle.expired(done, "0B", "2026-12-02T08:00:00.000Z")
    for record in (claimed, done, gone, from_item(to_item(gone))):
        assert (record.tags, record.notes) == (("q3", "finance"), "for the board")
    direct = lifecycle.claimed(None, upload.file_id, upload.owner, upload.name, ref, "2026-12-01T08:00:01.000Z")
    assert (direct.tags, direct.notes) == ((), "")


def test_a_bad_parse_limit_is_reported_under_its_own_name():
    with pytest.raises(SettingsError, match="DOCPORTAL_MAX_PARSE_MB must be a whole number"):
        policy_for({"DOCPORTAL_MAX_PARSE_MB": "big"})


# --- the upload endpoint's memory budget ------------------------------------------

BUDGET = MemoryBudget(file_bytes=10 * MiB, session_bytes=30 * MiB, process_bytes=50 * MiB, session_files=3)


def refusal(body: int, session_bytes: int = 0, session_files: int = 0, process_bytes: int = 0) -> Refusal | None:
    return BUDGET.refusal(body, session_bytes=session_bytes, session_files=session_files,
                          process_bytes=process_bytes)


def test_a_body_within_every_share_is_accepted() -> None:
    assert refusal(10 * MiB + FRAMING_BYTES, session_bytes=20 * MiB - FRAMING_BYTES, session_files=2,
                   process_bytes=40 * MiB - FRAMING_BYTES) is None


def test_a_body_over_the_file_limit_is_too_large_naming_the_limit() -> None:
    answer = refusal(10 * MiB + FRAMING_BYTES + 1)
    assert answer is not None and answer.status == 413
    assert "the limit is 10 MB" in answer.message


def test_a_session_over_its_share_is_told_to_upload_what_it_holds_first() -> None:
    answer = refusal(MiB, session_bytes=30 * MiB - MiB + 1)
    assert answer is not None and answer.status == 413
    assert "30 MB may wait" in answer.message and "Upload or remove" in answer.message


def test_a_session_over_its_file_count_is_refused() -> None:
    answer = refusal(1, session_files=3)
    assert answer is not None and answer.status == 413 and "at most 3" in answer.message


def test_a_full_portal_asks_to_try_again_later() -> None:
    answer = refusal(MiB, process_bytes=50 * MiB - MiB + 1)
    assert answer is not None and answer.status == 503 and "try again" in answer.message


def test_the_budget_comes_from_the_settings() -> None:
    budget = MemoryBudget.from_settings(Settings.from_env(
        {"DOCPORTAL_UPLOAD_MAX_MB": "100", "DOCPORTAL_UPLOAD_SESSION_MB": "100",
         "DOCPORTAL_UPLOAD_PROCESS_MB": "300"}, need_stack=False), file_mb=7)
    assert (budget.file_bytes, budget.session_bytes, budget.process_bytes) == (7 * MiB, 100 * MiB, 300 * MiB)


@pytest.mark.parametrize("value", ["0", "-1", "lots"])
def test_a_budget_that_is_not_a_positive_number_is_a_settings_error(value: str) -> None:
    with pytest.raises(SettingsError, match="DOCPORTAL_UPLOAD_SESSION_MB"):
        Settings.from_env({"DOCPORTAL_UPLOAD_SESSION_MB": value}, need_stack=False)
