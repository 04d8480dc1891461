"""Text from outside the app, made safe to show.

Streamlit renders the text of ``st.markdown``, ``st.caption``, ``st.error``,
``st.warning``, ``st.info`` and ``st.success`` as Markdown (GitHub's flavour,
with bare URLs turned into links, emoji and colour directives). Anything that
came from outside — URL parameters, file, folder and upload names, model
metadata, JSON strings, training logs, and messages that quote them — goes
through :func:`plain` before it reaches one of those calls, so that it shows as
the characters it is: no link, image, heading or HTML.
"""

from __future__ import annotations

import string
import unicodedata

SHOWN_MAX = 300  # characters of outside text shown; longer text is cut
ELLIPSIS = "…"
# CommonMark lets a backslash escape any ASCII punctuation character: escaped,
# none of them can start Markdown syntax, an autolink (``www.``, ``://``,
# ``@``), an HTML tag, a directive (``:red[...]``) or an emoji code.
_ESCAPES = {ord(c): "\\" + c for c in string.punctuation}


def _visible(ch: str) -> str:
    """Control characters become a space; invisible format characters
    (zero-width, bidirectional overrides) are dropped."""
    category = unicodedata.category(ch)
    if category == "Cc":
        return " "
    if category in ("Cf", "Cs", "Co", "Cn"):
        return ""
    return ch


def cut(value: object, limit: int = SHOWN_MAX) -> str:
    """``value`` as one line of visible characters, at most ``limit`` long;
    runs of white space become one space (an indented line would otherwise
    render as a code block)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    text = " ".join("".join(_visible(ch) for ch in str(value)).split())
    if len(text) > limit:
        text = text[: limit - 1] + ELLIPSIS
    return text


def plain(value: object, limit: int = SHOWN_MAX) -> str:
    """``value`` as Markdown source that renders exactly as its text: cut to
    ``limit`` visible characters, every ASCII punctuation mark escaped."""
    return cut(value, limit).translate(_ESCAPES)
