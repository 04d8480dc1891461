"""Time the server spends on forged component messages, against a plain click.

    python bench/hostile_messages.py [--rounds 5]

Runs the app in-process with Streamlit's AppTest (no browser, no websocket:
what is timed is Streamlit's handling of the message's widget states, the
app's callbacks and the run that follows) and sends the explorer's ``commit``
event as a browser would, then forged messages of each kind. The payloads
alternate round by round; the median seconds per payload are printed, with
whether the page then showed an error element. Not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for folder in (ROOT, ROOT / "tests", ROOT / "tests" / "app"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


def _events(value: object, count: int) -> str:
    return json.dumps([{"event": "commit", "value": value}] * count)


def _payloads() -> dict[str, str]:
    """Each kind of message, as the JSON text of the event list."""
    one_event = len(_events([0.5, 0.5], 1)) - 2
    under_cap = 950_000 // (one_event + 2)  # the page's other widgets take the rest
    return {
        "one click (reference)": _events([0.5, 0.5], 1),
        "10,000 events (390 kB)": _events([1.5, 0.5], 10_000),
        f"{under_cap:,} events (950 kB, under the cap)": _events([1.5, 0.5], under_cap),
        "900 kB string value": _events("x" * 900_000, 1),
        "10 MB string value (over the cap)": _events("x" * 10_000_000, 1),
        "5000-digit integer": '[{"event": "commit", "value": [' + "9" * 5000 + "]}]",
        "100,000-deep array": '[{"event": "commit", "value": '
        + "[" * 100_000
        + "]" * 100_000
        + "}]",
    }


def _sender() -> Callable[[str], tuple[float, bool]]:
    """A function that sends one payload to a fresh page's map and returns
    (seconds, whether an error element showed)."""
    from app_helpers import _component_node, new_app
    from streamlit.runtime.state.session_state import STREAMLIT_INTERNAL_KEY_PREFIX

    at = new_app()

    def send(payload: str) -> tuple[float, bool]:
        at.run()
        node = _component_node(at, "vaeapp.latent_explorer")
        states = at._tree.get_widget_states()
        trigger = states.widgets.add()
        trigger.id = f"{STREAMLIT_INTERNAL_KEY_PREFIX}_{node.proto.id}__events"
        trigger.json_trigger_value = payload
        start = time.perf_counter()
        at._run(states)
        return time.perf_counter() - start, bool(at.exception)

    return send


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    payloads = _payloads()
    send = _sender()
    times: dict[str, list[float]] = {name: [] for name in payloads}
    errors: dict[str, bool] = {}
    for _ in range(args.rounds):
        for name, payload in payloads.items():
            seconds, error = send(payload)
            times[name].append(seconds)
            errors[name] = error
    print(f"{'payload':40} {'median s':>9} {'max s':>7}  error shown")
    for name, values in times.items():
        print(
            f"{name:40} {statistics.median(values):9.3f} {max(values):7.3f}"
            f"  {'yes' if errors[name] else 'no'}"
        )


if __name__ == "__main__":
    main()
