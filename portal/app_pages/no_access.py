"""Shown to a signed-in user who belongs to no DocPortal group."""

import streamlit as st

from portal import auth
from portal.text import md_escape

user = auth.current_user()
st.title("Almost there")
st.info(
    f"You are signed in as {md_escape(user.label)}, but your account has no DocPortal role yet. "
    "Please ask an admin to add you to the uploaders, analysts or admins group."
)
