"""Users: invite people, set their groups, disable or enable them, reset passwords (admins).

E-mail addresses (typed, or an account's attribute in Cognito) and refusals
that repeat them are Markdown-escaped wherever Streamlit renders Markdown.
"""

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from common import aws
from common.settings import Settings
from portal import access, auth
from portal.access import NotAllowed, Role
from portal.text import md_escape
from portal.users.accounts import Delivery, delivery_for, is_self, user_rows
from portal.users.service import (
    MAX_USERS,
    UserAdminError,
    invite,
    list_users,
    reset_password,
    set_enabled,
    set_groups,
)

_NOTICE = "users_notice"
_ROUND = "users_invite_round"
GROUPS = [role.value for role in Role]
T = TypeVar("T")

st.title("Users")
user = auth.page_user(access.may_manage_users, access.manage_users_refusal(auth.current_user()))

settings = Settings.from_env()
cognito = aws.client("cognito-idp")
pool_id = settings.user_pool_id
delivery = delivery_for(settings.endpoint_url)


def done(message: str, password: str | None = None) -> None:
    """Report success on the next run (which shows the changed table)."""
    st.session_state[_NOTICE] = (message, password)
    st.rerun()


def attempt(busy: str, change: Callable[[], T]) -> tuple[bool, T | None]:
    """Make one change under a spinner: (True, its result), or (False, None) with the refusal shown."""
    try:
        with st.spinner(busy):
            return True, change()
    except (UserAdminError, NotAllowed) as e:
        st.error(md_escape(str(e)))
        return False, None


notice = st.session_state.pop(_NOTICE, None)
if notice:
    message, password = notice
    st.success(message)
    if password:
        st.code(password, language=None)
        st.caption("This local stand-in sends no e-mail: give this temporary password to the person "
                   "yourself. It is shown only this once; they choose their own password when they "
                   "first sign in.")

# --- Invite ---------------------------------------------------------------------------------------

round_ = st.session_state.setdefault(_ROUND, 0)
with st.form(f"invite-{round_}"):
    st.subheader("Invite someone")
    left, right = st.columns([3, 2])
    email = left.text_input("E-mail", placeholder="name@example.com")
    groups = right.multiselect("Groups", GROUPS, default=[Role.UPLOADERS.value])
    invited = st.form_submit_button("Invite", type="primary", icon=":material/person_add:")
    if delivery is Delivery.EMAIL:
        st.caption("Cognito e-mails them a temporary password; they choose their own at first sign-in.")
if invited:
    ok, invitation = attempt("Inviting…", lambda: invite(cognito, pool_id, user, email, groups, delivery))
    if ok and invitation is not None:
        st.session_state[_ROUND] = round_ + 1  # a fresh, empty form
        who = md_escape(invitation.account.email)
        done(f"{who} is invited. Their temporary password:" if invitation.temporary_password
             else f"{who} is invited: Cognito is e-mailing them a temporary password.",
             invitation.temporary_password)

# --- Everyone -------------------------------------------------------------------------------------

try:
    with st.spinner("Reading the users…"):
        listed = list_users(cognito, pool_id, user)
except (UserAdminError, NotAllowed) as e:
    st.error(md_escape(str(e)))
    st.stop()

st.subheader("Everyone")
st.dataframe(user_rows(listed.accounts), hide_index=True,
             column_config={"Enabled": st.column_config.CheckboxColumn("Enabled", disabled=True)})
if listed.truncated:
    st.caption(f"Only the first {MAX_USERS:,} users are listed.")
st.caption("People see changes to their groups when they next sign in.")

# --- One user -------------------------------------------------------------------------------------

st.subheader("Manage a user")
by_username = {a.username: a for a in listed.accounts}
chosen = st.selectbox("User", sorted(by_username, key=lambda u: by_username[u].email.lower()),
                      format_func=lambda u: by_username[u].email or u, index=None,
                      placeholder="Choose someone")
if chosen is None:
    st.stop()
account = by_username[chosen]
me = is_self(user, account)
st.caption(f"{md_escape(account.status_label)}, {'enabled' if account.enabled else 'disabled'}"
           + (". This is you: you cannot disable yourself or leave the admins group." if me else "."))

with st.form(f"groups-{account.username}"):
    new_groups = st.multiselect("Groups", GROUPS, default=sorted(account.roles),
                                key=f"member-{account.username}")
    save = st.form_submit_button("Save groups")
if save:
    ok, changed = attempt("Saving groups…",
                          lambda: set_groups(cognito, pool_id, user, account.username, new_groups))
    if ok and changed is not None:
        done(f"{md_escape(changed.email)} is now in: {', '.join(sorted(changed.roles)) or 'no group'}.")

left, right = st.columns(2)
if account.enabled:
    toggle = left.button("Disable", icon=":material/block:", disabled=me,
                         help="They can no longer sign in; nothing of theirs is deleted.")
else:
    toggle = left.button("Enable", icon=":material/check_circle:")
with right.form(f"reset-{account.username}", border=False):
    sure = st.checkbox("Yes, replace their password")
    reset = st.form_submit_button("Reset password", icon=":material/lock_reset:")

if toggle:
    ok, changed = attempt("Disabling…" if account.enabled else "Enabling…",
                          lambda: set_enabled(cognito, pool_id, user, account.username,
                                              enabled=not account.enabled))
    if ok and changed is not None:
        done(f"{md_escape(changed.email)} is {'enabled' if changed.enabled else 'disabled'}.")

if reset and not sure:
    st.warning("Tick “Yes, replace their password” first: their current password stops working.")
elif reset:
    ok, temporary = attempt("Resetting the password…",
                            lambda: reset_password(cognito, pool_id, user, account.username, delivery))
    if ok:
        who = md_escape(account.email)
        done(f"{who} has a new temporary password and was signed out everywhere:" if temporary
             else f"{who} was signed out everywhere; Cognito is e-mailing them a temporary password.",
             temporary)
