"""The Upload page's browser side: pick files, then send each straight to S3 with its presigned form.

An ``st.components.v2`` component: its JavaScript runs in the page itself, not
in an iframe, so uploads already under way carry on while the user opens
another page of the portal (Streamlit only unmounts the element); they stop
only when the tab is closed or reloaded, which the browser is asked to warn
about. The protocol (``data`` in, ``chosen`` and ``report`` out) is described
in ``direct_upload.js`` and parsed by :mod:`portal.files.direct_batch`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import streamlit as st

_HERE = Path(__file__).parent
_mount = st.components.v2.component(
    "docportal_direct_upload",
    js=(_HERE / "direct_upload.js").read_text(encoding="utf-8"),
    css=(_HERE / "direct_upload.css").read_text(encoding="utf-8"),
)


def direct_upload(*, key: str, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """Mount the component with ``data``; its ``chosen`` and ``report`` state (None until sent)."""
    result = _mount(key=key, data=dict(data), on_chosen_change=_ignore, on_report_change=_ignore)
    return {"chosen": result.get("chosen"), "report": result.get("report")}


def _ignore() -> None:
    """The page reads the state on its own rerun; a callback is only what declares a state name."""
