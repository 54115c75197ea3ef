"""An entry script for AppTest: one portal page inside the app's real navigation.

The test puts the :class:`portal.access.User` that ``portal.auth.require_user``
would have verified into ``session_state["docportal_user"]`` (sign-in itself is
tested through ``portal/app.py`` in test_app.py) and names the page in the
``harness_page`` query parameter. Links between pages then work as in the app.
"""

import streamlit as st

from portal import auth, navigation

user = auth.current_user()
st.navigation(navigation.pages(user, default=st.query_params.get("harness_page", "")), position="hidden").run()
