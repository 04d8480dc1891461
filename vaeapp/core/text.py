"""Text from outside the app, made safe to show.

Streamlit renders the text of ``st.markdown``, ``st.caption``, ``st.error``,
``st.warning``, ``st.info`` and ``st.success`` as Markdown (GitHub's flavour,
with bare URLs turned into links, emoji and colour directives). Anything that
came from outside — URL parameters, file, folder and upload names, model
metadata, JSON strings, training logs, and messages that quote them — goes
through :func:`plain` before it reaches one of those calls, so that it shows as
the characters it is: no link, image, heading or HTML.

Escaping alone does not stop GFM's literal autolinks: Streamlit's renderer
(remark-gfm, through mdast-util-gfm-autolink-literal) finds ``www.``, ``http://``
and e-mail addresses with regular expressions run on the text *after* escapes
are resolved. Each of those needs a full stop right after a letter, digit,
``-``, ``_`` or ``/`` (and an e-mail one right after ``@``); remark-emoji's
``:name:`` needs a word character right after ``:``. A word joiner (U+2060,
invisible and zero-width) on each side of every ``.``, ``:`` and ``@`` leaves
none of them a match, whatever the text.
"""

from __future__ import annotations

import string
import unicodedata

SHOWN_MAX = 300  # characters of outside text shown; longer text is cut
ELLIPSIS = "…"
SCAN_PER_SHOWN = 4  # raw characters read per character shown, at most
# CommonMark lets a backslash escape any ASCII punctuation character: escaped,
# none of them can start Markdown syntax, an HTML tag or a directive
# (``:red[...]``). The word joiners around ``.``, ``:`` and ``@`` stop what
# escapes cannot: literal autolinks and emoji codes (module docstring).
WORD_JOINER = "\u2060"
_ESCAPES = {ord(c): "\\" + c for c in string.punctuation}
_ESCAPES.update({ord(c): f"{WORD_JOINER}\\{c}{WORD_JOINER}" for c in ".:@"})


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
    raw = str(value)
    # Cut before cleaning, so that the cost does not grow with the text (a
    # 10 MB string took 4 s): a window of SCAN_PER_SHOWN raw characters per
    # shown one leaves room for the invisible ones and runs of space dropped.
    window = raw[: limit * SCAN_PER_SHOWN]
    text = " ".join("".join(_visible(ch) for ch in window).split())
    if len(text) > limit or len(raw) > len(window):
        text = text[: limit - 1] + ELLIPSIS
    return text


def plain(value: object, limit: int = SHOWN_MAX) -> str:
    """``value`` as Markdown source that renders exactly as its text: cut to
    ``limit`` visible characters, every ASCII punctuation mark escaped, and
    ``.``, ``:`` and ``@`` held between word joiners so that no part of it can
    become a literal autolink or an emoji."""
    return cut(value, limit).translate(_ESCAPES)
