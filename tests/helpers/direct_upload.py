"""Play the Upload page's browser component in AppTest: choose files, post the forms to S3, report.

AppTest runs no JavaScript, so these do what ``portal/components/direct_upload/direct_upload.js``
does: set the component's ``chosen`` state, read the forms the page answers with
(the component's ``data``), post each file to S3 with its form as a browser
would, and set the ``report`` state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import requests
from streamlit.testing.v1 import AppTest


def component(at: AppTest) -> Any:
    """The mounted direct-upload component (the page has exactly one)."""
    (found,) = [e for e in at.get("bidi_component") if e.proto.component_name == "docportal_direct_upload"]
    return found


def data(at: AppTest) -> dict[str, Any]:
    """What the page gave the component: batch id, forms, refusals."""
    loaded: dict[str, Any] = json.loads(component(at).proto.json)
    return loaded


def set_state(at: AppTest, **values: Any) -> AppTest:
    """Set the component's state values (as its JavaScript would) and rerun the page."""
    key = component(at).key
    at.session_state[key] = {**at.session_state.get(key, {}), **values}
    at.run()
    assert not at.exception, at.exception
    return at


def choose(at: AppTest, files: Sequence[tuple[str, bytes, str]]) -> AppTest:
    """The user picks ``files`` (name, bytes, type) and presses Upload in the component."""
    chosen = [{"name": name, "size": len(body), "type": kind} for name, body, kind in files]
    return set_state(at, chosen={"batch": data(at)["batch"], "files": chosen})


def post_forms(at: AppTest, files: Sequence[tuple[str, bytes, str]],
               broken: Mapping[int, bytes] | None = None) -> list[dict[str, Any]]:
    """Post each signed file to S3 as the browser would; ``broken`` sends other bytes for some indexes.

    Returns the report the component would send: S3's status for each form.
    """
    results = []
    for form in data(at)["forms"]:
        name, body, _ = files[form["index"]]
        sent = requests.post(form["url"], data=form["fields"],
                             files={"file": (name, (broken or {}).get(form["index"], body))}, timeout=30)
        ok = 200 <= sent.status_code < 300
        results.append({"index": form["index"], "ok": ok, "error": "" if ok else f"storage answered {sent.status_code}"})
    return results


def report(at: AppTest, results: Sequence[Mapping[str, Any]]) -> AppTest:
    """The component reports what S3 answered for each form."""
    return set_state(at, report={"batch": data(at)["batch"], "results": list(results)})
