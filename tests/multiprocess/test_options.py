"""The distributed options are checked before anything starts, and each
process's batches are its part of the one-process run's global batches."""

from __future__ import annotations

import numpy as np
import pytest

from vaeapp.train import command as train
from vaeapp.train import distributed


def resolve(**options):
    settings = dict(backend=None, coordinator=None, num_processes=None, process_id=None)
    settings.update(options)
    return distributed.resolve(environ=settings.pop("environ", {}), **settings)


def test_one_process_keeps_tensorflow_unless_asked():
    """Without options the backend is TensorFlow, or $KERAS_BACKEND."""
    assert resolve() == distributed.Launch()
    assert resolve(environ={"KERAS_BACKEND": "jax"}).backend == "jax"
    assert not resolve(backend="jax").multi_process


def test_explicit_processes_imply_jax():
    """Explicit processes imply jax."""
    launch = resolve(coordinator="node1:12355", num_processes=4, process_id=3)
    assert (launch.backend, launch.multi_process) == ("jax", True)


@pytest.mark.parametrize(
    ("variable", "cluster"),
    [("SLURM_NTASKS", "SLURM"), ("OMPI_COMM_WORLD_SIZE", "Open MPI")],
)
def test_a_job_of_several_tasks_is_left_to_the_engine(variable, cluster):
    """Under SLURM or Open MPI with more than one task, JAX detects the rest;
    one task is an ordinary run."""
    launch = resolve(environ={variable: "8"})
    assert (launch.cluster, launch.backend, launch.coordinator) == (
        cluster,
        "jax",
        None,
    )
    assert resolve(environ={variable: "1"}).cluster is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"coordinator": "h:1"}, "go together"),
        ({"coordinator": "h", "num_processes": 2, "process_id": 0}, "HOST:PORT"),
        ({"coordinator": "h:70000", "num_processes": 2, "process_id": 0}, "port"),
        ({"coordinator": "h:1", "num_processes": 2, "process_id": 2}, "0 to 1"),
        ({"coordinator": "h:1", "num_processes": 0, "process_id": 0}, "num-proc"),
        (
            {
                "coordinator": "h:1",
                "num_processes": 2,
                "process_id": 0,
                "backend": "tensorflow",
            },
            "needs --backend jax",
        ),
        ({"environ": {"SLURM_NTASKS": "2"}, "backend": "tensorflow"}, "SLURM job"),
        ({"environ": {"KERAS_BACKEND": "torch"}}, "one of tensorflow, jax"),
        ({"heartbeat_timeout": 1}, "heartbeat"),
    ],
)
def test_bad_options_are_refused_with_what_is_allowed(options, message):
    """Bad options are refused with what is allowed."""
    with pytest.raises(ValueError, match=message):
        resolve(**options)


def test_process_options_parse_back_to_that_process():
    """The options a local launcher gives each process make the command resolve
    to that process of that group, on a port nothing listens on."""
    port = distributed.free_local_port()
    assert 1 <= port <= 65_535
    for rank in range(3):
        args = train.build_parser().parse_args(
            distributed.process_options(f"localhost:{port}", 3, rank)
        )
        launch = resolve(
            coordinator=args.coordinator,
            num_processes=args.num_processes,
            process_id=args.process_id,
        )
        assert (launch.coordinator, launch.num_processes, launch.process_id) == (
            f"localhost:{port}",
            3,
            rank,
        )


def test_ipv6_coordinator_is_accepted():
    """Ipv6 coordinator is accepted."""
    assert distributed.parse_coordinator("[::1]:12355") == "[::1]:12355"


def test_the_command_refuses_bad_options_before_training(capsys, tmp_path):
    """A process id out of range ends the command with one error line."""
    status = train.main(
        [
            "--coordinator",
            "localhost:12355",
            "--num-processes",
            "2",
            "--process-id",
            "5",
            "--out",
            str(tmp_path),
        ]
    )
    assert status == 1
    assert capsys.readouterr().err.strip() == (
        "error: --process-id must be 0 to 1 (one less than --num-processes), got 5"
    )
    assert not any(tmp_path.iterdir())


def indexed(n: int) -> np.ndarray:
    """Images whose pixel 0 holds their row number."""
    x = np.zeros((n, 4), np.float32)
    x[:, 0] = np.arange(n)
    return x


@pytest.mark.parametrize("chunked", [True, False])
def test_process_parts_make_up_the_global_batches(chunked):
    """Two processes' batches of 5, side by side, are the batches of 10 of one
    process with the same seed, epoch after epoch; the incomplete last global
    batch is left out."""
    from vaeapp.train.batches import ShuffledChunks

    x = indexed(107)
    one = ShuffledChunks(x, 10, 3, seed=4, chunked=chunked, drop_remainder=True)
    parts = [
        ShuffledChunks(x, 5, 3, seed=4, shard=(i, 2), chunked=chunked) for i in range(2)
    ]
    assert len(one) == len(parts[0]) == (4 if chunked else 10)
    assert one.steps_per_epoch == parts[0].steps_per_epoch == 10
    for _ in range(2):
        for i in range(len(one)):
            joined = np.concatenate([p[i] for p in parts], axis=-2)
            np.testing.assert_array_equal(joined, one[i])
        for batches in (one, *parts):
            batches.on_epoch_end()
