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

:func:`install` makes the new runner wait one turn of the loop, behind the
stopped runner's messages (it had handed all of them to the loop before it
stopped); requests that come meanwhile go to the new runner in order. See
docs/deployment.md.
"""

from __future__ import annotations

import functools
from typing import Any

_MARK = "_vaeapp_waits_for_stopped_runner"
_PENDING = "_vaeapp_pending_reruns"  # per session: RerunData waiting to start


def install() -> bool:
    """Patch ``AppSession._create_scriptrunner`` once per process; False (and
    nothing patched) when this Streamlit lacks the parts it relies on."""
    from streamlit.runtime.app_session import AppSession, AppSessionState

    create = AppSession._create_scriptrunner
    if getattr(create, _MARK, False):
        return True
    if not hasattr(AppSession, "_call_soon_on_event_loop"):  # pragma: no cover
        return False  # another Streamlit version

    def start_pending(session: Any) -> None:
        """Start a runner with the first waiting request; hand it the rest."""
        pending = session.__dict__.pop(_PENDING, [])
        if not pending or session._state == AppSessionState.SHUTDOWN_REQUESTED:
            return
        create(session, pending[0])
        for rerun_data in pending[1:]:
            runner = session._scriptrunner
            if runner is None or not runner.request_rerun(rerun_data):
                create(session, rerun_data)

    @functools.wraps(create)
    def create_scriptrunner(self: Any, initial_rerun_data: Any) -> None:
        pending = self.__dict__.get(_PENDING)
        if pending is not None:  # a start is waiting already: after it
            pending.append(initial_rerun_data)
            return
        if self._scriptrunner is None:  # none, or dropped on purpose (a full
            create(self, initial_rerun_data)  # rerun with runner.fastReruns)
            return
        # The current runner refused the request: it has stopped, and its last
        # messages may still wait on the loop, queued before this call.
        self.__dict__[_PENDING] = [initial_rerun_data]
        self._call_soon_on_event_loop(functools.partial(start_pending, self))

    setattr(create_scriptrunner, _MARK, True)
    AppSession._create_scriptrunner = create_scriptrunner
    return True
