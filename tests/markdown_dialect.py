"""Markdown rendered as Streamlit's front end renders it, for the tests.

Streamlit renders text with react-markdown and remark-gfm (GitHub's flavour)
plus remark-emoji. remark-gfm finds literal autolinks twice: while parsing the
source, and again afterwards with regular expressions over the text nodes, in
which backslash escapes are already resolved and neighbouring text is joined
(mdast-util-gfm-autolink-literal's ``transformGfmAutolinkLiterals``). So an
escaped ``www\\.evil\\.example`` still becomes a link. markdown-it's own linkify
runs before escaped characters are joined to their neighbours and knows only
listed top-level domains, so on its own it misses such links.

:func:`render` parses with markdown-it's GFM-like preset, then, on the joined
text, applies remark-gfm's two expressions (without their narrowing checks of
the character before and of the domain's last labels, so that it finds at
least every link remark-gfm finds; every link its parser finds in the source
is also found in the text) and remark-emoji's ``:name:`` expression. A found
link renders as ``<a>``, an emoji code as ``<img class="emoji">``: a test that
asserts neither appears holds for Streamlit's renderer.
"""

from __future__ import annotations

import html
import re

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

# mdast-util-gfm-autolink-literal (lib/index.js): JavaScript's \w is ASCII.
_REMARK_URL = re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.I | re.A)
_REMARK_EMAIL = re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)", re.A)
# remark-emoji's shortcode expression.
_EMOJI = re.compile(r":\+1:|:-1:|:[\w-]+:", re.A)


def _spans(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, tag)`` of every link or emoji code found in ``text``."""
    found = [(m.start(), m.end(), "a") for m in _REMARK_URL.finditer(text)]
    found += [(m.start(), m.end(), "a") for m in _REMARK_EMAIL.finditer(text)]
    found += [(m.start(), m.end(), "img") for m in _EMOJI.finditer(text)]
    return sorted(found)


def _marked(text: str) -> str:
    """``text`` as HTML with each found span wrapped as a link or an emoji."""
    out, at = [], 0
    for start, end, tag in _spans(text):
        if start < at:
            continue
        out.append(html.escape(text[at:start]))
        part = html.escape(text[start:end])
        out.append(
            f'<a href="{part}">{part}</a>'
            if tag == "a"
            else f'<img class="emoji" alt="{part}">'
        )
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)


def _literal_autolinks(state: StateCore) -> None:
    """A core rule after ``text_join``: links and emoji in the joined text."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children = []
        for token in block.children:
            if token.type == "text" and _spans(token.content):
                token = Token("html_inline", "", 0, content=_marked(token.content))
            children.append(token)
        block.children = children


def renderer() -> MarkdownIt:
    """A markdown-it that renders as Streamlit's Markdown elements would."""
    md = MarkdownIt("gfm-like", {"html": True})
    md.disable("linkify")
    md.core.ruler.after("text_join", "remark_literals", _literal_autolinks)
    return md


_MD = renderer()


def render(source: str) -> str:
    """``source`` rendered to HTML as Streamlit's front end would."""
    return _MD.render(source)


def links_and_images(source: str) -> list[str]:
    """The ``<a>`` and ``<img>`` tags ``source`` renders to."""
    return re.findall(r"<(?:a|img)\b[^>]*>", render(source))
