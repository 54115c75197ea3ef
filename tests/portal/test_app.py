"""The portal's pages in AppTest, signing in against Cognito on a moto server."""

import pytest
from streamlit.testing.v1 import AppTest

from common import aws
from devstack import processes
from devstack.provision import DEFAULT_DEMO_PASSWORD
from portal import auth
from portal.auth import UNAVAILABLE
from tests.helpers.direct_upload import choose, post_forms, report
from tests.helpers.env import ROOT
from tests.helpers.files import tiny_pdf
from tests.helpers.pages import signed_in_as
from tests.helpers.signin import TIMEOUT, app, sign_in, texts
from tests.helpers.tables import files_of


def test_sign_in_form_is_all_an_anonymous_visitor_sees(on_server):
    at = app()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["E-mail", "Password"]
    assert "My files" not in texts(at)


@pytest.mark.parametrize(("email", "password"), [
    ("uploader@example.com", "Wrong-password-1"),
    ("nobody@example.com", DEFAULT_DEMO_PASSWORD),
    ("", ""),
])
def test_bad_credentials_get_a_clear_message_not_a_traceback(on_server, email, password):
    at = sign_in(app(), email, password)
    assert not at.exception
    assert auth.BAD_CREDENTIALS in texts(at)
    assert "My files" not in texts(at)


def test_an_unreachable_cognito_gets_a_clear_message(on_server, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{processes.free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    aws.reset()
    at = sign_in(app(), "uploader@example.com", DEFAULT_DEMO_PASSWORD)
    assert not at.exception
    assert UNAVAILABLE in texts(at)


def test_unusable_settings_get_a_clear_message_not_a_traceback(monkeypatch):
    """Issue 12 item 10: with AWS_DEFAULT_REGION (and the stack) unset, an anonymous browser was shown a
    traceback with file paths; it gets a message for people, and the details go to the log."""
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    at = app()
    assert not at.exception
    assert [e.value for e in at.error] == [auth.MISCONFIGURED]
    assert not at.text_input  # no form that could never work


def test_the_uploader_signs_in_and_lands_on_my_files(on_server):
    at = sign_in(app(), "uploader@example.com", DEFAULT_DEMO_PASSWORD)
    assert not at.exception
    assert at.title[0].value == "My files"
    assert "uploader@example.com" in texts(at)
    assert "No files yet" in texts(at)


def test_a_user_without_a_group_is_asked_to_get_access(on_server):
    cognito = on_server.client("cognito-idp")
    email = "newcomer@example.com"
    cognito.admin_create_user(UserPoolId=on_server.settings.user_pool_id, Username=email, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}])
    cognito.admin_set_user_password(UserPoolId=on_server.settings.user_pool_id, Username=email,
                                    Password=DEFAULT_DEMO_PASSWORD, Permanent=True)
    at = sign_in(app(), email, DEFAULT_DEMO_PASSWORD)
    assert not at.exception
    assert "ask an admin" in texts(at)
    assert "My files" not in [t.value for t in at.title]


def test_sign_out_revokes_the_tokens_and_shows_the_form_again(on_server):
    at = sign_in(app(), "analyst@example.com", DEFAULT_DEMO_PASSWORD)
    access_token = at.session_state["auth_access_token"]
    next(b for b in at.button if b.label == "Sign out").click()
    at.run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["E-mail", "Password"]
    assert "You have signed out." in texts(at)
    assert "docportal_user" not in at.session_state
    with pytest.raises(on_server.client("cognito-idp").exceptions.NotAuthorizedException):
        on_server.client("cognito-idp").get_user(AccessToken=access_token)


def test_upload_page_stores_several_files_for_the_signed_in_user(on_server):
    at = sign_in(app(), "uploader@example.com", DEFAULT_DEMO_PASSWORD)
    at.switch_page("app_pages/upload.py").run()
    assert at.title[0].value == "Upload documents"
    files = [("a.pdf", tiny_pdf(), "application/pdf"), ("notes.txt", b"hello", "text/plain")]
    choose(at, files)
    report(at, post_forms(at, files))  # the browser's part: straight to the moto server's S3
    assert not at.exception
    assert "2 stored. Extraction has started." in texts(at)
    user = at.session_state["docportal_user"]
    assert {r.name for r in files_of(on_server.settings.table, user.sub)} >= {"a.pdf", "notes.txt"}


def test_uploaders_get_no_export_page_and_are_refused_if_they_go_there(on_server):
    at = sign_in(app(), "uploader@example.com", DEFAULT_DEMO_PASSWORD)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/export.py")  # not in an uploader's navigation at all
    # And the page itself refuses, should it ever be reached.
    page = AppTest.from_file(str(ROOT / "portal" / "app_pages" / "export.py"), default_timeout=TIMEOUT)
    signed_in_as(page, at.session_state["docportal_user"])
    page.run()
    assert not page.exception
    assert "Exports are for analysts and admins" in texts(page)
    assert not [b for b in page.button if b.label == "Prepare export"]


def test_an_analyst_exports_csv_to_a_short_lived_link(on_server):
    import csv
    import io
    import urllib.request

    at = sign_in(app(), "analyst@example.com", DEFAULT_DEMO_PASSWORD)
    at.switch_page("app_pages/export.py").run()
    next(b for b in at.button if b.label == "Prepare export").click()
    at.run()
    assert not at.exception
    (link,) = [e for e in at.get("link_button")]
    assert any("15 minutes" in c.value and "deleted after a day" in c.value for c in at.caption)
    url = link.proto.url
    assert url.startswith(on_server.endpoint)
    with urllib.request.urlopen(url) as response:  # noqa: S310 - the presigned link, from the stand-in
        rows = list(csv.reader(io.StringIO(response.read().decode("utf-8"))))
    assert rows[0] == ["name", "owner_email", "status", "reason", "uploaded_at", "size", "sha256", "format",
                       "flags", "title", "author", "pages"]
