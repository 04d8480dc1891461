"""Outside text shown by the page renders as its own characters, never as Markdown."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaeapp.text import ELLIPSIS, SHOWN_MAX, cut, plain

markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py is missing")
pytest.importorskip("linkify_it", reason="linkify-it-py is missing (requirements-dev)")

# GitHub-flavoured Markdown with bare URLs turned into links, as Streamlit's
# renderer (react-markdown with remark-gfm) does.
_MD = markdown_it.MarkdownIt("gfm-like")

HOSTILE = [
    "[click](https://evil.example/)",
    "![x](https://evil.example/pixel.png)",
    "<img src=https://evil.example/p.png>",
    "<a href='https://evil.example'>a</a>",
    "<script>alert(1)</script>",
    "www.evil.example",
    "https://evil.example/path?q=1",
    "mail@evil.example",
    "<https://evil.example>",
    "[ref]: https://evil.example",
    ":red[alarm] :material/home: :smile:",
    "$x^2$",
    "# heading",
    "> quote",
    "| a | b |\n|---|---|",
    "**bold** _it_ `code` ~~s~~",
    "&lt;b&gt; &#60;",
    "\\",
    "\u202e\u200b\x00\x1b[31m",
]
texts = st.lists(
    st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40)), max_size=12
).map("".join)


def _rendered(source: str) -> str:
    return _MD.render(source)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_plain_text_renders_no_link_image_or_tag(text: str) -> None:
    """Escaped outside text renders no link, image or HTML tag of its own."""
    rendered = _rendered(plain(text))
    tags = set(re.findall(r"<\s*([a-zA-Z0-9]+)", rendered))
    assert tags <= {"p"}, rendered


@settings(max_examples=300, deadline=None)
@given(texts)
def test_plain_text_shows_its_own_characters(text: str) -> None:
    """What renders is the visible text itself (HTML-escaped), nothing lost."""
    rendered = _rendered(plain(text))
    body = html.unescape(re.sub(r"</?p>", "", rendered)).strip()
    assert " ".join(body.split()) == " ".join(cut(text).split())


@given(st.text(min_size=SHOWN_MAX + 1, max_size=5 * SHOWN_MAX))
def test_long_text_is_cut_with_an_ellipsis(text: str) -> None:
    """Text longer than the limit is cut to it, ending in an ellipsis."""
    shown = cut(text)
    assert len(shown) <= SHOWN_MAX
    if len(cut(text, 10 * SHOWN_MAX)) > SHOWN_MAX:
        assert shown.endswith(ELLIPSIS)


@given(st.text())
def test_no_control_or_invisible_characters_remain(text: str) -> None:
    """Control characters become spaces; zero-width and bidi marks are dropped."""
    shown = cut(text, 10_000)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in shown)
    assert "\u202e" not in shown and "\u200b" not in shown


def test_a_limit_below_one_is_refused() -> None:
    """cut() refuses a limit that leaves no room for text."""
    with pytest.raises(ValueError, match="at least 1"):
        cut("x", 0)
