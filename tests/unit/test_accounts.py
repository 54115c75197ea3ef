"""Pure parts of user management: e-mail checks, temporary passwords, table rows."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from portal.access import Role
from portal.users import accounts
from portal.users.accounts import Account, Delivery, InvalidEmail


@pytest.mark.parametrize(("raw", "email"), [
    ("ann@example.com", "ann@example.com"),
    ("  Ann.Lee+docs@Example.CO.uk ", "ann.lee+docs@example.co.uk"),
])
def test_addresses_are_trimmed_and_lower_cased(raw, email):
    assert accounts.normalize_email(raw) == email


@pytest.mark.parametrize("raw", ["", "  ", "ann", "ann@", "@example.com", "ann@example", "ann@@example.com",
                                 "ann lee@example.com", "ann@exa mple.com", "ann@example..com",
                                 "a" * 243 + "@example.com"])
def test_what_is_not_an_address_is_refused_with_a_message(raw):
    with pytest.raises(InvalidEmail) as caught:
        accounts.normalize_email(raw)
    assert str(caught.value).startswith(("Please enter", "“"))


def test_the_longest_address_is_accepted():
    email = "a" * 242 + "@example.com"
    assert len(email) == accounts.MAX_EMAIL_LENGTH
    assert accounts.normalize_email(email) == email


def test_temporary_passwords_meet_the_pool_policy_and_differ():
    seen = {accounts.temporary_password() for _ in range(200)}
    assert len(seen) == 200
    for password in seen:
        assert len(password.replace("-", "")) == 16
        assert re.fullmatch(r"[A-Za-z0-9]{4}(-[A-Za-z0-9]{4}){3}", password)
        assert re.search(r"[A-Z]", password) and re.search(r"[a-z]", password) and re.search(r"\d", password)
        assert not set(password) & set("0O1lI")
    assert len(accounts.temporary_password(4).replace("-", "")) == 12  # never below the policy's 12


def test_a_local_stand_in_shows_the_password_and_aws_mails_it():
    assert accounts.delivery_for("http://127.0.0.1:4566") is Delivery.SHOW
    assert accounts.delivery_for("") is Delivery.EMAIL


def test_an_account_from_each_cognito_shape():
    created = datetime(2026, 11, 30, 23, 30, tzinfo=timezone(timedelta(hours=-2)))
    listed = accounts.account_from_cognito({
        "Username": "u-1", "UserStatus": "CONFIRMED", "Enabled": False, "UserCreateDate": created,
        "Attributes": [{"Name": "sub", "Value": "s-1"}, {"Name": "email", "Value": "ann@example.com"}]},
        [Role.ANALYSTS])
    assert listed == Account(username="u-1", sub="s-1", email="ann@example.com", status="CONFIRMED",
                             enabled=False, roles=frozenset({Role.ANALYSTS}), created=created)
    got = accounts.account_from_cognito({"Username": "u-2", "UserStatus": "FORCE_CHANGE_PASSWORD",
                                         "UserAttributes": [{"Name": "email", "Value": "bo@example.com"}]})
    assert (got.email, got.sub, got.enabled, got.roles, got.created) == ("bo@example.com", "u-2", True,
                                                                        frozenset(), None)


def test_statuses_read_as_words():
    def status(s: str) -> str:
        return Account("u", "s", "e", s, True, frozenset()).status_label

    assert status("FORCE_CHANGE_PASSWORD") == "invited: must choose a password"
    assert status("CONFIRMED") == "active"
    assert status("RESET_REQUIRED") == "password reset required"
    assert status("SOMETHING_NEW") == "something new"
    assert status("") == "unknown"


def test_rows_are_sorted_by_email_with_groups_and_utc_times():
    rows = accounts.user_rows([
        Account("u-2", "s-2", "Zoe@example.com", "CONFIRMED", False, frozenset({Role.UPLOADERS, Role.ADMINS}),
                datetime(2026, 12, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))),
        Account("u-1", "s-1", "", "FORCE_CHANGE_PASSWORD", True, frozenset()),
        Account("u-3", "s-3", "amy@example.com", "CONFIRMED", True, frozenset({Role.ANALYSTS}),
                datetime(2026, 11, 2, 8, 0, tzinfo=UTC)),
    ])
    assert [r["E-mail"] for r in rows] == ["amy@example.com", "u-1", "Zoe@example.com"]
    assert rows[2] == {"E-mail": "Zoe@example.com", "Groups": "admins, uploaders", "Status": "active",
                       "Enabled": False, "Created": "2026-11-30 23:30 UTC"}
    assert rows[1]["Groups"] == "— no access —"
    assert rows[1]["Created"] == "—"
    assert rows[0]["Created"] == "2026-11-02 08:00 UTC"
