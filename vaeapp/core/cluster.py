"""How a process learns that a cluster launcher (SLURM, Open MPI) started it
as one task of several: read by the data-parallel training command, and
cleared by the page for the single-process runs it starts."""

from __future__ import annotations

from collections.abc import Mapping

# Environment variables by which the engine's own cluster detection
# (jax._src.clusters: SlurmCluster, OmpiCluster) recognises a multi-process job.
CLUSTER_SIZE_VARIABLES = (
    ("SLURM", "SLURM_NTASKS"),
    ("Open MPI", "OMPI_COMM_WORLD_SIZE"),
)


def single_process_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` without the variables by which the training command detects
    a SLURM or Open MPI job of several tasks: a run the app starts is one
    process, even when the app itself was started inside such a job."""
    cluster = {name for _, name in CLUSTER_SIZE_VARIABLES}
    return {k: v for k, v in environ.items() if k not in cluster}
