"""Outside text shown by the page renders as its own characters, never as Markdown."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaeapp.core.text import ELLIPSIS, SHOWN_MAX, WORD_JOINER, cut, plain

pytest.importorskip("markdown_it", reason="markdown-it-py is missing")
from markdown_dialect import render  # noqa: E402  (needs markdown-it)

HOSTILE = [
    "[click](https://evil.example/)",
    "![x](https://evil.example/pixel.png)",
    "<img src=https://evil.example/p.png>",
    "<a href='https://evil.example'>a</a>",
    "<script>alert(1)</script>",
    "www.evil.example",
    "https://evil.example/path?q=1",
    "mail@evil.example",
    "user@evil.example",
    "http://evil.example/login,0",
    "?z=http://evil.example/login,0",
    "WWW.evil.example",
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
# Text made of the characters literal autolinks and emoji codes are built of.
_LINKISH = st.text(alphabet="wW.:/@htps-_+ex1 ", max_size=30)
texts = st.lists(
    st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40), _LINKISH), max_size=12
).map("".join)


def _rendered(source: str) -> str:
    return render(source)


@pytest.mark.parametrize(
    "text",
    [
        "www.evil.example",
        "http://evil.example/login,0",
        "user@evil.example",
        "see https://evil.example/login or mail user@evil.example",
    ],
)
def test_bare_urls_and_addresses_are_not_links(text: str) -> None:
    """A bare URL, www. name or e-mail address renders as text, not a link."""
    assert "<a" not in _rendered(plain(text))
    assert "<a" in _rendered(text)  # the renderer does link them unescaped


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
    body = body.replace(WORD_JOINER, "")
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


def test_a_huge_text_is_cut_before_it_is_cleaned(monkeypatch) -> None:
    """A 10 MB text costs a window of characters, not 10 million (4 s before)."""
    from vaeapp.core import text as module

    visited = []
    real = module._visible
    monkeypatch.setattr(module, "_visible", lambda ch: visited.append(1) or real(ch))
    shown = cut("x" * 10_000_000)
    assert len(shown) == SHOWN_MAX and shown.endswith(ELLIPSIS)
    assert len(visited) <= SHOWN_MAX * module.SCAN_PER_SHOWN
