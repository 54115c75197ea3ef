"""The portal as Streamlit serves it: ``portal/app.py`` behind the upload endpoint's guard.

``streamlit run portal/server.py`` finds :data:`app` and serves it; the guard
(:class:`portal.upload_guard.UploadGuard`) is middleware, so it sees every
request to the upload endpoint before Streamlit reads its body; the session
route (:mod:`portal.session_route`) is the one place the session cookie is
set or cleared. Tests that
drive pages in-process (AppTest) use ``portal/app.py`` directly.
"""

from pathlib import Path

from starlette.middleware import Middleware
from streamlit.web.server.starlette import App

from portal.session_route import SessionRoute
from portal.upload_guard import UploadGuard

app = App(Path(__file__).with_name("app.py"), routes=SessionRoute().routes(),
          middleware=[Middleware(UploadGuard)])
