"""Attacks on deep links: a crafted link must never lead anywhere but one of the portal's own pages.

After sign-in the portal follows the page a signed-out visitor's link named
(``portal.deep_link``). Each attack is a link an attacker could send; the
portal must answer it with no page (the default page opens), never a page
the link smuggled in by encoding, and never a place outside the portal. The
last attack runs the whole app: a page the role may not see.
"""

from __future__ import annotations

from devstack.provision import DEFAULT_DEMO_PASSWORD
from portal import deep_link, navigation
from tests.helpers.signin import PORTAL_URL, app, sign_in

PAGES = navigation.PAGE_NAMES


def followed(url: str, base: str = "") -> str | None:
    return deep_link.page_of(url, PAGES, base)


def test_an_absolute_url_to_another_host_in_the_path_is_refused():
    assert followed(PORTAL_URL + "/https://evil.example/dashboard") is None


def test_a_protocol_relative_path_is_refused():
    assert followed(PORTAL_URL + "//evil.example/dashboard") is None


def test_a_backslash_path_is_refused():
    assert followed(PORTAL_URL + "/\\evil.example\\dashboard") is None


def test_percent_encoded_slashes_are_refused():
    assert followed(PORTAL_URL + "/%2F%2Fevil.example%2Fdashboard") is None


def test_a_percent_encoded_page_name_is_not_decoded():
    assert followed(PORTAL_URL + "/%64ashboard") is None


def test_a_double_encoded_backslash_is_refused():
    assert followed(PORTAL_URL + "/%255cevil.example") is None


def test_dot_segments_are_refused():
    assert followed(PORTAL_URL + "/x/../dashboard") is None


def test_a_page_below_another_path_is_refused():
    assert followed(PORTAL_URL + "/evil/dashboard") is None


def test_a_javascript_address_is_refused():
    assert followed("javascript:alert(1)//dashboard") is None


def test_a_link_outside_the_portals_base_path_is_refused():
    assert followed(PORTAL_URL + "/dashboard", base="/portal") is None


def test_a_script_outside_the_pages_is_refused():
    assert followed(PORTAL_URL + "/server") is None


def test_query_keys_an_attacker_invents_are_dropped():
    kept = deep_link.kept_query([("range", ["90 days"]), ("x y", ["1"]), ("__proto__", ["1"]),
                                 ("next", ["A" * 10_000])])
    assert kept == (("range", ("90 days",)),)


def test_a_page_the_role_may_not_open_is_not_opened_after_sign_in(on_server):
    at = sign_in(app("/users"), "uploader@example.com", DEFAULT_DEMO_PASSWORD)
    assert not at.exception
    assert at.title[0].value == "My files"
