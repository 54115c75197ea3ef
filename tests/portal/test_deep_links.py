"""A link opened while signed out leads, after sign-in, to the page and filters it asked for (AppTest, moto server)."""

from __future__ import annotations

import pytest

from devstack.provision import DEFAULT_DEMO_PASSWORD
from tests.helpers.signin import app, sign_in


def test_a_dashboard_link_returns_to_the_dashboard_with_its_filters(on_server):
    at = app("/dashboard", range="90 days")
    assert [t.label for t in at.text_input] == ["E-mail", "Password"]  # signed out: the form first
    at = sign_in(at, "uploader@example.com", DEFAULT_DEMO_PASSWORD)
    assert not at.exception
    assert at.title[0].value == "Dashboard"
    assert at.query_params["range"] == "90 days"
    assert at.selectbox(key="range").value == "90d"
    assert "docportal_deep_link" not in at.session_state  # followed once, then forgotten


def test_every_filter_of_the_link_is_kept(on_server):
    at = sign_in(app("/dashboard", range="7 days", status="Failed"), "analyst@example.com",
                 DEFAULT_DEMO_PASSWORD)
    assert not at.exception
    assert at.title[0].value == "Dashboard"
    assert (at.selectbox(key="range").value, at.selectbox(key="status").value) == ("7d", "failed")


def test_a_trailing_slash_still_names_the_page(on_server):
    at = sign_in(app("/account/"), "uploader@example.com", DEFAULT_DEMO_PASSWORD)
    assert at.title[0].value == "Account"


@pytest.mark.parametrize("path", ["", "/", "/no-such-page"])
def test_no_page_or_an_unknown_page_opens_the_default_page(on_server, path):
    at = sign_in(app(path), "uploader@example.com", DEFAULT_DEMO_PASSWORD)
    assert not at.exception
    assert at.title[0].value == "My files"


def test_a_page_the_role_may_not_open_gives_the_default_page(on_server):
    at = sign_in(app("/users"), "uploader@example.com", DEFAULT_DEMO_PASSWORD)
    assert not at.exception
    assert at.title[0].value == "My files"


def test_later_runs_do_not_return_to_the_link(on_server):
    at = sign_in(app("/dashboard"), "uploader@example.com", DEFAULT_DEMO_PASSWORD)
    assert at.title[0].value == "Dashboard"
    at.switch_page("app_pages/files.py").run()
    assert at.title[0].value == "My files"
    at.run()
    assert at.title[0].value == "My files"
