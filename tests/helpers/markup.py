"""Markup a stored or shared value may carry, and where it would come alive: plotly labels, Markdown.

Plotly draws a subset of HTML in labels, ticks, legends, hover text and
titles (``<a href>`` becomes a link, ``<br>`` a line break, ``<b>``… styling);
Streamlit renders Markdown in captions, alerts and labels (``[x](url)`` a
link, ``![x](url)`` a remote image). The values below name a page that must
never be linked or fetched.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

#: Values a PDF's /Author or /Producer, a failure reason, a format or an e-mail may hold.
PLOTLY_MARKUP = ('<a href="https://evil.test">x</a>', "<img src=https://evil.test/p.png>", "Eve<br>Mallory",
                 "<b>bold</b> & <i>co</i>", '<span style="font-size:80px">big</span>')
#: Values a URL or a stored text may hold that Markdown would turn into a link or a remote image.
MARKDOWN_LINKS = ("[click](https://evil.test)", "![x](https://evil.test/p.png)", "<https://evil.test>")


def plotly_shown(value: str) -> str:
    """How ``value`` must reach plotly to be drawn as the text it is: its markup as entities."""
    return html.escape(value, quote=False)


def strings(figure: Any) -> Iterator[str]:
    """Every string of a plotly figure (a ``go.Figure``, its dict, or the JSON a page sends)."""
    if isinstance(figure, str):
        figure = json.loads(figure)
    elif hasattr(figure, "to_json"):
        figure = json.loads(figure.to_json())
    stack = [figure]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def live_plotly_markup(figure: Any, values: tuple[str, ...] = PLOTLY_MARKUP) -> list[str]:
    """The strings of ``figure`` that hold one of ``values`` as live markup."""
    return [s for s in strings(figure) if any(v in s for v in values)]


def shows(figure: Any, value: str) -> bool:
    """Whether ``figure`` shows ``value`` as text (escaped for plotly)."""
    return any(plotly_shown(value) in s for s in strings(figure))


def read(markdown: str) -> str:
    """The text a person reads of a Markdown source whose values were escaped (``portal.text.md_escape``)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)
