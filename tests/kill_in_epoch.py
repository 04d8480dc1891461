"""The training command, SIGKILL-ed by itself in the middle of an epoch:
``python tests/kill_in_epoch.py EPOCH ARGS...`` runs ``python -m
vaeapp.train ARGS...`` and kills its own process after the second batch of
epoch ``EPOCH`` (1-based), as a crash, an OOM kill or a lost node would,
with no chance to clean up. A callback added after the checkpoint's makes
the kill come at the same point every time."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any


def main() -> None:
    epoch, args = int(sys.argv[1]), sys.argv[2:]
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout
    from vaeapp.train import loop
    from vaeapp.train.command import main as train

    original = loop._checkpointed

    def with_kill(*arguments: Any) -> int:
        import keras

        class KillInEpoch(keras.callbacks.Callback):
            def on_epoch_begin(self, at: int, logs: Any = None) -> None:
                self.at = at + 1

            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                if self.at == epoch and batch >= 1:
                    os.kill(os.getpid(), signal.SIGKILL)

        first = original(*arguments)
        arguments[4].append(KillInEpoch())  # the callbacks, after the saver
        return first

    loop._checkpointed = with_kill
    sys.exit(train(args))


if __name__ == "__main__":
    main()
