"""DocPortal's entry point: gate sign-in, then build the navigation."""

import streamlit as st

from portal import auth
from portal.export import may_export

st.set_page_config(page_title="DocPortal", page_icon="📄", layout="wide")

user = auth.require_user()

with st.sidebar:
    st.text(user.email)
    st.caption(", ".join(sorted(user.groups)) or "no role yet")
    if st.button("Sign out", icon=":material/logout:"):
        auth.sign_out()

if user.roles:
    pages = [
        st.Page("app_pages/my_files.py", title="My files", icon=":material/folder:", default=True),
        st.Page("app_pages/upload.py", title="Upload", icon=":material/upload:"),
        st.Page("app_pages/dashboard.py", title="Dashboard", icon=":material/insights:"),
    ]
    if may_export(user):
        pages.append(st.Page("app_pages/export.py", title="Export", icon=":material/download:"))
else:
    pages = [st.Page("app_pages/no_access.py", title="Access", icon=":material/lock:")]

st.navigation(pages).run()
