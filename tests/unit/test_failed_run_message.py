"""The one line a failed data-parallel run quotes of the engine's error."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vaeapp.train.distributed import FIRST_LINE_MAX, first_line

# What JAX raised in a survivor when its peer was killed (process death test).
GLOO = (
    "INTERNAL: "
    + "Error dispatching computation: " * 40
    + "Gloo all-reduce failed: [external/gloo/gloo/transport/tcp/pair.cc:538] "
    "Read error [127.0.0.1]:13212: Connection reset by peer\nmore detail\n"
)


def test_a_repeated_phrase_is_kept_once():
    """XLA's phrase repeated 40 times comes out once, with what happened after it."""
    assert first_line(RuntimeError(GLOO)) == (
        "INTERNAL: Error dispatching computation: Gloo all-reduce failed: "
        "[external/gloo/gloo/transport/tcp/pair.cc:538] Read error "
        "[127.0.0.1]:13212: Connection reset by peer"
    )


def test_an_empty_message_names_the_error():
    """An error with no message is named by its type."""
    assert first_line(RuntimeError("\n \n")) == "RuntimeError"


@given(st.text(max_size=5000))
def test_any_message_gives_one_short_line(message: str):
    """Whatever the engine says, the quote is one line of at most FIRST_LINE_MAX."""
    line = first_line(RuntimeError(message))
    assert "\n" not in line and "\r" not in line
    assert 0 < len(line) <= FIRST_LINE_MAX
