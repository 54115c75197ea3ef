"""DocPortal's entry point: gate sign-in, then build the navigation."""

import streamlit as st

from portal import access, auth, navigation, signout
from portal.text import md_escape

st.set_page_config(page_title="DocPortal", page_icon="📄", layout="wide")

user = auth.require_user()

with st.sidebar:
    st.text(user.label)
    st.caption(", ".join(md_escape(g) for g in sorted(user.groups)) or "no role yet")  # Cognito's names
    if access.needs_second_factor(user):
        st.warning(access.NEEDS_SECOND_FACTOR, icon=":material/lock:")
    if st.button("Sign out", icon=":material/logout:"):
        signout.sign_out()
    if st.button("Sign out everywhere", icon=":material/devices_off:",
                 help="Ends your sessions in every browser and on every device."):
        signout.sign_out_everywhere()



@st.fragment(run_every=auth.check_interval() or None)
def watch_session() -> None:
    """Re-check the session every interval while the tab sits idle: an ended session signs the tab out."""
    auth.current_user()


with st.sidebar:
    watch_session()

menu = st.navigation(navigation.pages(user))
link = auth.take_deep_link(user)  # the page (and filters) a link opened before sign-in asked for
if link is not None:
    st.switch_page(navigation.page_path(link.page), query_params=link.params())
menu.run()
