"""Attacks on sessions: a revoked user acting through a part of a page that skips the sign-in check.

The Files page refreshes itself in an ``st.fragment``; a fragment's rerun runs
neither ``portal/app.py`` nor the page's top-level code, so the entry's check
(expiry, the Cognito re-check, group refresh) does not run there. A run of the
page inside the harness (``tests/helpers/harness.py``: the app's navigation,
no entry check) with a signed-in session's state is that situation. Each
attack revokes a real session on a moto server, lets the re-check fall due,
and tries to act through such a run.
"""

from __future__ import annotations

import io

import pytest
from streamlit.testing.v1 import AppTest

from common import aws
from portal.access import NotAllowed, User
from portal.files import actions, service
from portal.files.uploads import store_upload
from tests.helpers.env import Server
from tests.helpers.files import tiny_pdf
from tests.helpers.pages import page_as
from tests.helpers.signin import app, enrol_authenticator, sign_in, sign_in_with_code
from tests.helpers.users import SESSION_PASSWORD, new_user

VICTIM = User(sub="5eeeeeee-1111-4222-8333-444455556666", email="victim@example.com",
              groups=frozenset({"uploaders"}), expires_at=2**40)


@pytest.fixture
def victims_file(on_server: Server) -> str:
    record = store_upload(user=VICTIM, name="Salaries 2027.pdf", body=io.BytesIO(tiny_pdf()), content_type="",
                          s3=aws.client("s3"), ddb=aws.client("dynamodb"), settings=on_server.settings)
    return record.file_id


def signed_in(email: str) -> AppTest:
    at = sign_in(app(), email, SESSION_PASSWORD)
    assert "docportal_user" in at.session_state, "the sign-in itself failed"
    return at


def files_page_without_the_entry(session: AppTest, file_id: str) -> AppTest:
    """The Files page run with ``session``'s state but without app.py: what a fragment rerun does."""
    page = page_as(session.session_state["docportal_user"], "files", run=False, file=file_id)
    for key in session.session_state:
        if key.startswith(("auth_", "docportal_")):
            page.session_state[key] = session.session_state[key]
    return page.run()


def revoke(server: Server, email: str, group: str) -> None:
    cognito, pool = server.client("cognito-idp"), server.settings.user_pool_id
    cognito.admin_remove_user_from_group(UserPoolId=pool, Username=email, GroupName=group)
    cognito.admin_disable_user(UserPoolId=pool, Username=email)
    cognito.admin_user_global_sign_out(UserPoolId=pool, Username=email)


def test_a_revoked_analyst_gets_no_download_link_where_the_entry_check_is_skipped(
        on_server, victims_file, monkeypatch):
    """Attack: an analyst removed from the group, disabled and signed out everywhere keeps a tab open;
    the Files page's self-refreshing part hands out a new link to another user's file."""
    analyst = new_user(on_server, "analyst", SESSION_PASSWORD, "analysts")
    session = signed_in(analyst)
    revoke(on_server, analyst, "analysts")
    monkeypatch.setenv("DOCPORTAL_SESSION_CHECK_SECONDS", "0")  # a minute later: the re-check is due
    page = files_page_without_the_entry(session, victims_file)
    assert not page.exception, page.exception
    assert not [b for b in page.get("link_button")], "a download link was handed out"
    assert "Salaries 2027.pdf" not in str([e.value for e in page.get("markdown")] + [t.value for t in page.table])


def test_an_ex_admin_cannot_delete_where_the_entry_check_is_skipped(on_server, victims_file, monkeypatch):
    """Attack: an admin removed from the admins group deletes another user's file from a page part
    that was rendered for them as an admin."""
    admin = new_user(on_server, "admin", SESSION_PASSWORD, "admins")
    secret = enrol_authenticator(on_server.client("cognito-idp"), on_server.settings.client_id, admin,
                                 SESSION_PASSWORD)
    session = sign_in_with_code(app(), admin, SESSION_PASSWORD, secret)
    assert session.session_state["docportal_user"].second_factor, "the admin's session has its second factor"
    revoke(on_server, admin, "admins")
    monkeypatch.setenv("DOCPORTAL_SESSION_CHECK_SECONDS", "0")
    page = files_page_without_the_entry(session, victims_file)
    for label in ("Delete", "Yes, delete"):
        buttons = [b for b in page.button if b.label == label]
        if buttons:
            buttons[0].click()
            page.run()
    record = service.get_file(user=VICTIM, ddb=aws.client("dynamodb"), settings=on_server.settings,
                              file_id=victims_file)
    assert record.status.value != "deleted"


@pytest.mark.parametrize("action", ["get_file", "download_url", "retry_file", "delete_file", "list_files"])
def test_the_services_refuse_a_user_whose_tokens_expired(on_server, victims_file, action):
    """Attack: a user object whose tokens ran out (a cached object, a page part that skipped the check)
    is still accepted by the file services."""
    expired = User(sub=VICTIM.sub, email=VICTIM.email, groups=VICTIM.groups, expires_at=1)
    args = {"user": expired, "ddb": aws.client("dynamodb"), "settings": on_server.settings}
    if action == "list_files":
        from portal.files.explorer import FileFilters

        args["filters"] = FileFilters()
    else:
        args["file_id"] = victims_file
    if action in ("download_url", "retry_file", "delete_file"):
        args["s3"] = aws.client("s3")
    with pytest.raises(NotAllowed, match="session has expired"):
        getattr(actions if action in ("retry_file", "delete_file") else service, action)(**args)


def test_an_upload_is_refused_for_a_user_whose_tokens_expired(on_server):
    """Attack: an upload started with a user object whose tokens ran out still stores the file."""
    from portal.files.explorer import FileFilters

    expired = User(sub=VICTIM.sub, email=VICTIM.email, groups=VICTIM.groups, expires_at=1)
    with pytest.raises(NotAllowed, match="session has expired"):
        store_upload(user=expired, name="late.pdf", body=io.BytesIO(tiny_pdf()), content_type="",
                     s3=aws.client("s3"), ddb=aws.client("dynamodb"), settings=on_server.settings)
    assert service.list_files(user=VICTIM, ddb=aws.client("dynamodb"), settings=on_server.settings,
                              filters=FileFilters(text="late")).records == ()


def test_an_export_is_refused_for_an_analyst_whose_tokens_expired(on_server):
    """Attack: an export started with an analyst object whose tokens ran out still reads every user's rows."""
    from portal.export.service import ExportRequest, csv_chunks

    expired = User(sub="an-1", email="an@example.com", groups=frozenset({"analysts"}), expires_at=1)
    with pytest.raises(NotAllowed, match="session has expired"):
        next(iter(csv_chunks(aws.client("dynamodb"), on_server.settings.table, ExportRequest("2026-01-01", "2026-12-31"), expired)))
