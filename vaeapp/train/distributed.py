"""Data-parallel training across processes, GPUs and hosts, on Keras's own engine.

Keras 3's distribution API (``keras.distribution.DataParallel``) is implemented
for the JAX backend, so a distributed run uses JAX; ``tf.distribute``'s
``MultiWorkerMirroredStrategy`` does not work with Keras 3 (keras-team/keras
issue 20585). This module only *configures* that engine: it checks the command
line's options, starts JAX's distributed runtime
(``jax.distributed.initialize``) with CPU collectives over gloo, and sets a
``DataParallel`` distribution over every device of every process. Replicating
the weights, splitting each global batch over the devices and all-reducing the
gradients are Keras's and XLA's work, not ours.

Each process feeds its own part of every global batch (``auto_shard_dataset``
False: the Keras docs' setting for input that is already sharded per process;
see :class:`vaeapp.train.batches.ShuffledChunks`), so the global batch is the
per-process batch times the number of processes.

Nothing here imports JAX or Keras at import time: the backend is chosen from
the options before Keras is first imported.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from vaeapp.core.cluster import CLUSTER_SIZE_VARIABLES
from vaeapp.core.config import PROCESSES_MAX
from vaeapp.core.gpu import gpu_backend
from vaeapp.core.safe_json import one_line

BACKENDS = ("tensorflow", "jax")
DEFAULT_BACKEND = "tensorflow"
# A process that stops sending heartbeats is declared dead after this long and
# the others are stopped by JAX's coordination service (jax.distributed.initialize
# ``heartbeat_timeout_seconds``; JAX's own default is 100 s). A process that
# dies outright is noticed sooner: its peers' gloo collectives fail at once
# with "Connection closed by peer".
DEFAULT_HEARTBEAT_S = 30
HEARTBEAT_MIN_S, HEARTBEAT_MAX_S = 5, 3600
_HOST_PORT = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):([0-9]{1,5})$")


@dataclass(frozen=True)
class Launch:
    """How the command was asked to run: the backend, and for a multi-process
    run either the three explicit settings or the cluster detected."""

    backend: str = DEFAULT_BACKEND
    coordinator: str | None = None
    num_processes: int | None = None
    process_id: int | None = None
    cluster: str | None = None  # "SLURM" or "Open MPI": the engine detects the rest
    heartbeat_timeout: int = DEFAULT_HEARTBEAT_S

    @property
    def multi_process(self) -> bool:
        """Whether JAX's distributed runtime joins several processes."""
        return self.cluster is not None or (self.num_processes or 1) > 1


@dataclass(frozen=True)
class Cluster:
    """The running group as this process sees it."""

    process_index: int = 0
    process_count: int = 1
    local_devices: int = 1
    devices: int = 1  # over all processes
    multi_process: bool = False
    device_kind: str = ""  # e.g. "cpu" or "NVIDIA H100 80GB HBM3" (JAX only)

    @property
    def is_main(self) -> bool:
        """Process 0 evaluates, writes progress and publishes the model."""
        return self.process_index == 0

    @property
    def data_parallel(self) -> bool:
        """Whether a Keras ``DataParallel`` distribution is set."""
        return self.devices > 1

    def describe(self, batch_size: int) -> str:
        """One line for the log: who this is and the global batch."""
        return (
            f"data-parallel on {self.devices} devices: process "
            f"{self.process_index} of {self.process_count} with "
            f"{self.local_devices} local device(s); global batch "
            f"{batch_size * self.process_count} = {batch_size} per process x "
            f"{self.process_count} process(es)"
        )

    def validation_rows(self, count: int) -> slice:
        """This process's part of ``count`` validation rows: equal contiguous
        parts, each a multiple of the local device count (a sharded batch
        must split evenly), so up to ``processes x local devices - 1`` rows
        are left out of the per-epoch figure."""
        unit = self.process_count * self.local_devices
        part = (count // unit) * self.local_devices
        return slice(self.process_index * part, (self.process_index + 1) * part)


def parse_coordinator(text: str) -> str:
    """``HOST:PORT`` (an IPv6 host in brackets) checked; raises ValueError."""
    match = _HOST_PORT.match(text or "")
    if not match or not 1 <= int(match.group(2)) <= 65_535:
        raise ValueError(
            f"--coordinator must be HOST:PORT with a port 1 to 65535 (e.g. "
            f"node001:12355 or [::1]:12355), got {text!r}"
        )
    return text


def process_options(coordinator: str, processes: int, rank: int) -> list[str]:
    """The training command's options that make it process ``rank`` of a
    ``processes``-process run coordinated at ``coordinator`` (``HOST:PORT``)."""
    return [
        "--coordinator",
        coordinator,
        "--num-processes",
        str(processes),
        "--process-id",
        str(rank),
    ]


def free_local_port() -> int:
    """A TCP port on localhost that nothing listens on now, for a coordinator
    of processes on this machine (the coordinator binds it next)."""
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def detect_cluster(environ: Mapping[str, str]) -> str | None:
    """The scheduler of a multi-process job this process belongs to (its
    size variable above 1), or None."""
    for name, variable in CLUSTER_SIZE_VARIABLES:
        try:
            if int(environ.get(variable, "1")) > 1:
                return name
        except ValueError:
            continue
    return None


def resolve(
    *,
    backend: str | None,
    coordinator: str | None,
    num_processes: int | None,
    process_id: int | None,
    heartbeat_timeout: int = DEFAULT_HEARTBEAT_S,
    environ: Mapping[str, str] | None = None,
) -> Launch:
    """The launch the options ask for, checked; raises ValueError saying
    what is wrong. Explicit settings come all three together; without them a
    SLURM or Open MPI job of several tasks is detected; either implies JAX.
    Otherwise the backend is ``backend``, else ``$KERAS_BACKEND``, else JAX
    on a host with a GPU JAX can use (:func:`vaeapp.core.gpu.gpu_backend`),
    else TensorFlow."""
    environ = os.environ if environ is None else environ
    given = [v is not None for v in (coordinator, num_processes, process_id)]
    if any(given) and not all(given):
        raise ValueError(
            "--coordinator, --num-processes and --process-id go together: give "
            "all three, or none (a SLURM or Open MPI job is detected)"
        )
    if not HEARTBEAT_MIN_S <= heartbeat_timeout <= HEARTBEAT_MAX_S:
        raise ValueError(
            f"--heartbeat-timeout must be {HEARTBEAT_MIN_S} to {HEARTBEAT_MAX_S} "
            f"seconds, got {heartbeat_timeout}"
        )
    cluster = None
    if all(given):
        parse_coordinator(coordinator)
        if not 1 <= num_processes <= PROCESSES_MAX:
            raise ValueError(
                f"--num-processes must be 1 to {PROCESSES_MAX}, got {num_processes}"
            )
        if not 0 <= process_id < num_processes:
            raise ValueError(
                f"--process-id must be 0 to {num_processes - 1} (one less than "
                f"--num-processes), got {process_id}"
            )
    else:
        cluster = detect_cluster(environ)
    distributed = all(given) or cluster is not None
    chosen = backend or ("jax" if distributed else None)
    chosen = chosen or environ.get("KERAS_BACKEND") or gpu_backend()
    chosen = chosen or DEFAULT_BACKEND
    if chosen not in BACKENDS:
        raise ValueError(
            f"the backend must be one of {', '.join(BACKENDS)}, got {chosen!r}"
        )
    if distributed and chosen != "jax":
        where = "the options given" if all(given) else f"this {cluster} job"
        raise ValueError(
            f"a multi-process run ({where}) needs --backend jax: Keras's "
            "distribution API is implemented for JAX only"
        )
    return Launch(
        chosen, coordinator, num_processes, process_id, cluster, heartbeat_timeout
    )


def select_backend(backend: str) -> None:
    """Make Keras use ``backend``; raises ValueError if Keras was already
    imported with another one (its backend is fixed at import)."""
    import sys

    if "keras" in sys.modules:
        current = sys.modules["keras"].backend.backend()
        if current != backend:
            raise ValueError(
                f"Keras is already running on {current} in this process; start a "
                f"new one with KERAS_BACKEND={backend}"
            )
        return
    os.environ["KERAS_BACKEND"] = backend


def start(launch: Launch) -> Cluster:
    """Join the group (JAX only) and set a ``DataParallel`` distribution over
    every device when there is more than one: several processes, or one
    process with several local GPUs. Call before any computation."""
    if launch.backend != "jax":
        return Cluster()
    import jax

    # CPU collectives between processes need an implementation; gloo is the
    # one built into jaxlib's CPU wheels (JAX docs, "Distributed arrays and
    # automatic parallelization" / jax_cpu_collectives_implementation).
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    if launch.multi_process:
        options: dict[str, Any] = {
            "heartbeat_timeout_seconds": launch.heartbeat_timeout
        }
        if launch.cluster is None:
            options.update(
                coordinator_address=launch.coordinator,
                num_processes=launch.num_processes,
                process_id=launch.process_id,
            )
        jax.distributed.initialize(**options)
    import keras

    devices = keras.distribution.list_devices()
    if len(devices) > 1:
        keras.distribution.set_distribution(
            keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False)
        )
    return Cluster(
        process_index=jax.process_index(),
        process_count=jax.process_count(),
        local_devices=jax.local_device_count(),
        devices=len(devices),
        multi_process=launch.multi_process,
        device_kind=jax.local_devices()[0].device_kind,
    )


def finish(cluster: Cluster) -> None:
    """Leave the group once training is over: unset the distribution and
    shut JAX's distributed runtime down, so that process 0 evaluates and
    publishes on its own without a peer waiting on it."""
    if not cluster.data_parallel and not cluster.multi_process:
        return
    import keras

    keras.distribution.set_distribution(None)
    if cluster.multi_process:
        import jax

        jax.distributed.shutdown()


@contextmanager
def without_distribution() -> Iterator[None]:
    """Build models on this process's default device only (e.g. a copy to
    decode a snapshot from), whatever distribution is set."""
    import keras

    current = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(current)


def engine_errors() -> tuple[type[BaseException], ...]:
    """The exceptions by which the engine reports a failed collective (a
    peer that died): JAX's runtime error."""
    import jax

    return (jax.errors.JaxRuntimeError,)


# The longest engine message a failed run quotes, in characters.
FIRST_LINE_MAX = 300


def first_line(error: BaseException) -> str:
    """The engine's message cut to one line (its detail is pages long), each
    run of a repeated ``phrase: `` kept once: XLA prefixes "Error dispatching
    computation: " once per nested dispatch (9 to 40 times, 2.7 kB), before
    the one part that says what happened."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    parts = lines[0].split(": ") if lines else []
    kept = [part for i, part in enumerate(parts) if i == 0 or part != parts[i - 1]]
    return one_line(": ".join(kept), FIRST_LINE_MAX) or type(error).__name__
