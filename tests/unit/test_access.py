"""Who may do what (portal.access): the role matrix every service enforces."""

from __future__ import annotations

import pytest

from common.catalogue import FileStatus
from portal import access
from portal.access import Role, User
from tests.helpers.records import sample_record
from tests.helpers.users import ADMIN, ANALYST, ANN, BOB, NOBODY


def test_the_role_matrix():
    mine, failed = sample_record(), sample_record(status=FileStatus.FAILED)
    assert [access.may_view(u, mine) for u in (ANN, BOB, ANALYST, ADMIN, NOBODY)] == [True, False, True, True, False]
    assert [access.may_change(u, mine) for u in (ANN, BOB, ANALYST, ADMIN, NOBODY)] == [True, False, False, True, False]
    assert access.may_retry(ANN, failed) and access.may_retry(ADMIN, failed)
    assert not access.may_retry(ANN, mine) and not access.may_retry(ANALYST, failed)
    assert access.may_delete(ANN, mine) and not access.may_delete(ANN, sample_record(status=FileStatus.DELETED))
    assert access.may_download(ANALYST, mine) and not access.may_download(BOB, mine)
    assert not access.may_download(ANN, sample_record(status=FileStatus.EXPIRED))
    owner_without_role = User(sub="ann", email="", groups=frozenset({"other"}), expires_at=0)
    assert not access.may_view(owner_without_role, mine)
    assert access.sees_everyone(ANALYST) and access.sees_everyone(ADMIN) and not access.sees_everyone(ANN)


def test_tags_and_note_change_by_the_owner_or_an_admin_once_the_file_is_finished():
    done = sample_record(rev="0A#finished")
    assert [access.may_label(u, done) for u in (ANN, BOB, ANALYST, ADMIN, NOBODY)] == [True, False, False, True, False]
    for status in (FileStatus.FAILED, FileStatus.EXPIRED):
        assert access.may_label(ANN, sample_record(status=status, rev="0A#finished"))
    for status in (FileStatus.UPLOADED, FileStatus.PROCESSING, FileStatus.DELETED):
        assert not access.may_label(ADMIN, sample_record(status=status, rev="0A#claimed"))
    assert not access.may_label(ANN, sample_record(status=FileStatus.FAILED))  # the portal's own failure: no rev


def test_an_admin_without_the_second_factor_has_an_uploaders_rights():
    mine, theirs = sample_record(owner="adm"), sample_record(owner="ann", status=FileStatus.FAILED)
    password_only = User(sub="adm", email="adm@example.com", groups=frozenset({"admins"}), expires_at=2**40)
    assert access.needs_second_factor(password_only) and not access.needs_second_factor(ADMIN)
    assert access.may_upload(password_only) and access.may_change(password_only, mine)
    assert not access.may_view(password_only, theirs) and not access.may_retry(password_only, theirs)
    assert not access.sees_everyone(password_only) and not access.may_export(password_only)
    assert "uploader's rights" in access.manage_users_refusal(password_only)


def test_roles_are_parsed_and_others_refused():
    assert access.parse_roles(["analysts", Role.ADMINS, "analysts"]) == {Role.ANALYSTS, Role.ADMINS}
    assert access.parse_roles([]) == frozenset()
    with pytest.raises(ValueError, match="“Admins” is not a DocPortal group"):
        access.parse_roles(["uploaders", "Admins"])


def test_only_admins_signed_in_with_their_code_manage_users():
    def user(*groups: str, second_factor: bool = True) -> User:
        return User(sub="s", email="e@example.com", groups=frozenset(groups), expires_at=0,
                    second_factor=second_factor)

    assert access.may_manage_users(user("admins"))
    assert access.may_manage_users(user("uploaders", "admins"))
    for groups in [(), ("uploaders",), ("analysts",), ("uploaders", "analysts"), ("admin",)]:
        assert not access.may_manage_users(user(*groups))
    assert not access.may_manage_users(user("admins", second_factor=False))
    assert "two-step sign-in" in access.manage_users_refusal(user("admins", second_factor=False))
    assert "for admins" in access.manage_users_refusal(user("analysts"))


def test_a_user_is_current_only_while_their_tokens_are_unexpired():
    user = User(sub="s", email="e@example.com", groups=frozenset({"uploaders"}), expires_at=1_000)
    assert access.is_current(user, 999.5)
    assert not access.is_current(user, 1_000)
    with pytest.raises(access.NotAllowed, match="session has expired"):
        access.require_current(user, 1_001)
