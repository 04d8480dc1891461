"""Workarounds for two races in Streamlit 1.67 that lose part of a run.

Both lose messages that a session's runs put in its queue for the browser
while the server's event loop lags behind the script thread (a busy server).
See docs/deployment.md.

**A fragment run drops a finished full run's fragments.** When a fragment run
starts, Streamlit removes from the session's queue the waiting deltas of the
fragments it reruns (``ForwardMsgQueue.clear``, upstream PR #9381) and keeps
every run's finish. A full run that finished just before, its messages not yet
sent, then reaches the browser without those fragments but as finished: the
browser removes the fragments as stale, with their widgets' state, and the
views after them move up one place. The fragment run's deltas then landed out
of range ("Bad delta path index 6 (should be between [0, 5])", a blank page)
or on the wrong view, and its sliders came back at their minimum (their
browser state gone). :func:`install` keeps a finished full run's messages
whole; only what came after its finish is cleared as before.

**A new ScriptRunner drops the old one's last messages.** A session's
ScriptRunner stops when a run ends with no request waiting, while that run's
last messages still wait on the event loop. A rerun request that the loop
handles before them (the Retrain status polling every second, a click) finds
the runner stopped and starts a new one; the loop then drops the old runner's
waiting messages as stale (``AppSession`` ignores events from a non-current
ScriptRunner): a slider move's new digit and sliders were lost while the next
poll's run went through. Streamlit's own guard (``AppSession.request_rerun``,
after its issue #9921) covers only a request for a fragment that no longer
exists. :func:`install` makes the new runner wait one turn of the loop, behind
the stopped runner's messages (it had handed all of them to the loop before
it stopped); requests that come meanwhile go to the new runner in order.
"""

from __future__ import annotations

import functools
from typing import Any

_MARK = "_vaeapp_patched"
_PENDING = "_vaeapp_pending_reruns"  # per session: RerunData waiting to start


def install() -> bool:
    """Patch ``ForwardMsgQueue.clear`` and ``AppSession._create_scriptrunner``
    once per process; False (and nothing patched) when this Streamlit lacks
    the parts they rely on."""
    return _keep_finished_runs() and _wait_for_stopped_runner()


def _keep_finished_runs() -> bool:
    """A fragment run's start clears the queue only after the last finished
    full run in it, whose messages go to the browser whole."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.runtime.forward_msg_queue import ForwardMsgQueue

    clear = ForwardMsgQueue.clear
    if getattr(clear, _MARK, False):
        return True
    if not hasattr(ForwardMsgQueue(), "_queue"):  # pragma: no cover
        return False  # another Streamlit version
    finished = ForwardMsg.FINISHED_SUCCESSFULLY

    @functools.wraps(clear)
    def clear_after_finished_run(
        self: Any,
        retain_lifecycle_msgs: bool = False,
        fragment_ids_this_run: list[str] | None = None,
    ) -> None:
        last = -1  # the last finish of a full run in the queue
        if retain_lifecycle_msgs and fragment_ids_this_run:
            for i, msg in enumerate(self._queue):
                if (
                    msg.WhichOneof("type") == "script_finished"
                    and msg.script_finished == finished
                ):
                    last = i
        if last < 0:
            clear(self, retain_lifecycle_msgs, fragment_ids_this_run)
            return
        done, self._queue = self._queue[: last + 1], self._queue[last + 1 :]
        clear(self, retain_lifecycle_msgs, fragment_ids_this_run)
        self._queue = done + self._queue  # later deltas append, never compose

    setattr(clear_after_finished_run, _MARK, True)
    ForwardMsgQueue.clear = clear_after_finished_run
    return True


def _wait_for_stopped_runner() -> bool:
    """A runner that replaces a stopped one starts after the stopped one's
    waiting messages."""
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
