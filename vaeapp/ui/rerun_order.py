"""A workaround for a race in Streamlit 1.67 that loses the end of a run.

A session's ScriptRunner stops when a run ends with no request waiting, while
that run's last messages still wait on the server's event loop. A rerun
request that the loop handles before them (the Retrain status polling every
second, a click) finds the runner stopped and starts a new one; the loop then
drops the old runner's waiting messages as stale (``AppSession`` ignores
events from a non-current ScriptRunner). The browser never got the rest of
that run: under load a slider move's new digit and sliders were lost while the
next poll's run went through, and the page kept the old digit until the next
move. Streamlit's own guard (``AppSession.request_rerun``, after its issue
#9921) covers only a request for a fragment that no longer exists.

:func:`install` makes such a request wait one turn of the loop, behind the
stopped runner's messages (all of them were handed to the loop before it
stopped). See docs/deployment.md.
"""

from __future__ import annotations

import functools
from typing import Any

_MARK = "_vaeapp_waits_for_stopped_runner"


def runner_stopped(session: Any) -> bool:
    """Whether ``session``'s ScriptRunner has stopped (its run ended with no
    request waiting) but is still the current one: its last messages may
    still wait on the event loop."""
    from streamlit.runtime.scriptrunner_utils.script_requests import (
        ScriptRequestType,
    )

    runner = getattr(session, "_scriptrunner", None)
    requests = getattr(runner, "_requests", None)
    return getattr(requests, "_state", None) == ScriptRequestType.STOP


def install() -> bool:
    """Patch ``AppSession.request_rerun`` once per process; False (and
    nothing patched) when this Streamlit lacks the parts it relies on."""
    from streamlit.runtime.app_session import AppSession

    original = AppSession.request_rerun
    if getattr(original, _MARK, False):
        return True
    if not hasattr(AppSession, "_call_soon_on_event_loop"):  # pragma: no cover
        return False  # another Streamlit version

    @functools.wraps(original)
    def request_rerun(self: Any, client_state: Any, _waited: bool = False) -> None:
        if not _waited and runner_stopped(self):
            self._call_soon_on_event_loop(
                functools.partial(request_rerun, self, client_state, True)
            )
            return
        original(self, client_state)

    setattr(request_rerun, _MARK, True)
    AppSession.request_rerun = request_rerun
    return True
