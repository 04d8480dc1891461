"""The training command: ``python -m vaeapp.train --help``.

The settings options are generated from the fields of
:class:`vaeapp.core.config.ModelConfig` and :class:`vaeapp.core.config.TrainConfig`;
``--config FILE`` reads them from a ``config.json`` document instead (the app
starts runs that way). The loop is :mod:`vaeapp.train.loop`, writing the model
folder :mod:`vaeapp.train.publish`. The app runs this command in a subprocess and
follows it through ``--progress-file``.

``--coordinator HOST:PORT --num-processes N --process-id I`` (or a SLURM or
Open MPI job of several tasks) runs the same command data-parallel on the JAX
backend, with Keras's own distribution engine (:mod:`vaeapp.train.distributed`);
process 0 evaluates and publishes the one model folder. docs/distributed.md
has the details and measured speeds.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vaeapp.core import safe_json
from vaeapp.core.config import (
    DEFAULT_PRESET,
    PRESET_NAMES,
    ModelConfig,
    RefineConfig,
    TrainConfig,
    check_batch_size,
    preset_summary,
)
from vaeapp.core.options import (
    REFINE_PREFIX,
    CommandParser,
    add_setting,
    given_settings,
)
from vaeapp.core.settings import settings
from vaeapp.data import image_folder
from vaeapp.data.errors import DataError
from vaeapp.data.sources import Dataset, load_for, name_from_path
from vaeapp.jobs.progress import CANCELLED, DONE, FAILED, Progress, write_progress
from vaeapp.jobs.runner import APP_NICENESS
from vaeapp.store.format import FORMAT_VERSION, MAX_JSON_BYTES, check_name, trained_dir
from vaeapp.store.reading import read_record
from vaeapp.train import distributed
from vaeapp.train.engine import check_installed, start_tensorflow
from vaeapp.train.loop import TrainingStopped, TrainResult, train_model
from vaeapp.train.publish import check_refinable, save_result
from vaeapp.train.report import LogFiles, run_notes
from vaeapp.train.resume import open_run

PROG = "python -m vaeapp.train"


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The command line, named ``prog``; every settings option comes from the
    config fields."""
    parser = CommandParser(
        prog=prog,
        description="Train a VAE on MNIST, Fashion-MNIST, the generated shapes or "
        "your own images (--data PATH) and save it as a model folder that the app "
        "can open.",
    )
    _add_model_options(parser)
    _add_training_options(parser)
    _add_refine_options(parser)
    _add_io_options(parser)
    _add_distributed_options(parser)
    return parser


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    """The "model" group: the preset and ModelConfig's fields."""
    model = parser.add_argument_group("model")
    model.add_argument(
        "--preset",
        choices=PRESET_NAMES,
        default=None,
        help=f"architecture preset (default: {DEFAULT_PRESET}). {preset_summary()}",
    )
    for field, spec in settings(ModelConfig):
        if spec.cli:
            add_setting(model, field, spec)


def _add_training_options(parser: argparse.ArgumentParser) -> None:
    """The "training" group: --config and TrainConfig's fields."""
    run = parser.add_argument_group("training")
    run.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="read the settings from a config.json document as a model folder "
        "stores it (its data_source is not used); options given as well "
        "override it; not with --preset",
    )
    for field, spec in settings(TrainConfig):
        if spec.cli:
            add_setting(run, field, spec)


def _add_refine_options(parser: argparse.ArgumentParser) -> None:
    """RefineConfig's fields, prefixed: refining q per image after training."""
    refine = parser.add_argument_group(
        "refining q per image (dense models; off unless one of these is given)",
        "after training, refine each test and validation image's q(z|x) with Adam "
        "steps on its own negative ELBO and store the settings in the folder, "
        "which then uses them for every image it encodes (python -m "
        "vaeapp.refine does the same for a folder already trained)",
    )
    for field, spec in settings(RefineConfig):
        add_setting(refine, field, spec, prefix=REFINE_PREFIX)


def _add_io_options(parser: argparse.ArgumentParser) -> None:
    """The "data and output" group: where the images come from and where the
    folder, the progress and the output go."""
    io = parser.add_argument_group("data and output")
    io.add_argument(
        "--data",
        default=None,
        help="local data, its kind recognised from what is there: a folder of "
        "images (one subfolder per class, or flat), an .npz with x_train (and "
        "optionally y_train, x_test, y_test, class_names) or a folder of the four "
        "MNIST IDX files; the data set is named after it unless --dataset is "
        "given (default: $VAEAPP_<DATASET>_DATA, e.g. $VAEAPP_MNIST_DATA, else "
        "Keras's download for mnist and fashion_mnist)",
    )
    io.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder to write the model folder into (default: $VAEAPP_HOME or ./runs)",
    )
    io.add_argument(
        "--name", default=None, help="model folder name (default: generated)"
    )
    io.add_argument(
        "--progress-file",
        type=Path,
        default=None,
        help="JSON file to write progress to (used by the app)",
    )
    io.add_argument(
        "--restart",
        action="store_true",
        help="start from epoch 1 even when an interrupted run of the same command "
        "left a checkpoint (without it, the run continues from that checkpoint)",
    )
    io.add_argument(
        "--quiet",
        action="store_true",
        help="print only the final line: no notes, no line per epoch, no progress "
        "bar (the app runs the command this way)",
    )
    io.add_argument(
        "--tensorboard",
        type=Path,
        default=None,
        metavar="DIR",
        help="write TensorBoard logs into DIR (tensorboard --logdir DIR): the "
        "training and validation figures of each epoch and the learning rate "
        "(runs train and validation), and the grid snapshots as images (run "
        "snapshots); written by TensorFlow's summary writer on either backend",
    )
    io.add_argument(
        "--csv",
        type=Path,
        default=None,
        metavar="FILE",
        help="write the figures of each epoch to FILE as CSV, one row per epoch "
        "(Keras's CSVLogger); an existing FILE is replaced, or continued by a run "
        "that resumes",
    )
    io.add_argument(
        "--nice",
        type=int,
        default=0,
        choices=range(0, 20),
        metavar="N",
        help="lower this process's CPU priority by N (0 to 19); the app uses "
        f"{APP_NICENESS} so a retrain never starves the people exploring",
    )


def _add_distributed_options(parser: argparse.ArgumentParser) -> None:
    """The options of a data-parallel run; not settings of the model, so
    plain options rather than config fields."""
    group = parser.add_argument_group(
        "distributed training",
        "Data-parallel on Keras's distribution engine (JAX backend): run the "
        "same command once per process. With none of the three process options, "
        "a SLURM or Open MPI job of several tasks is detected by JAX. "
        "--batch-size is per process; the global batch is it times the processes.",
    )
    group.add_argument(
        "--backend",
        choices=distributed.BACKENDS,
        default=None,
        help="Keras backend (default: jax for a multi-process run, else "
        "$KERAS_BACKEND, else jax on a host with an NVIDIA GPU and jax[cuda12] "
        "installed, else tensorflow); with jax and several local GPUs, one "
        "process trains on all of them",
    )
    group.add_argument(
        "--coordinator",
        default=None,
        metavar="HOST:PORT",
        help="address of process 0, where JAX's coordination service listens; "
        "the same on every process",
    )
    group.add_argument(
        "--num-processes",
        type=int,
        default=None,
        metavar="N",
        help="how many processes take part",
    )
    group.add_argument(
        "--process-id",
        type=int,
        default=None,
        metavar="I",
        help="this process's number, 0 to N-1; 0 evaluates and publishes",
    )
    group.add_argument(
        "--heartbeat-timeout",
        type=int,
        default=distributed.DEFAULT_HEARTBEAT_S,
        metavar="S",
        help="seconds without a heartbeat after which a process counts as dead "
        "and the run stops on every process (default: "
        f"{distributed.DEFAULT_HEARTBEAT_S}); a process that exits is noticed at "
        "once",
    )


def launch_from_args(args: argparse.Namespace) -> distributed.Launch:
    """The checked backend and process settings; raises ValueError."""
    return distributed.resolve(
        backend=args.backend,
        coordinator=args.coordinator,
        num_processes=args.num_processes,
        process_id=args.process_id,
        heartbeat_timeout=args.heartbeat_timeout,
    )


def read_config(path: Path) -> tuple[ModelConfig, TrainConfig]:
    """The configs of a ``config.json`` document (see ``store.config_document``);
    raises ValueError saying what is wrong with it."""
    try:
        document = safe_json.read(Path(path), MAX_JSON_BYTES)
    except OSError as error:
        raise ValueError(f"cannot read --config {path}: {error.strerror}") from None
    except safe_json.JSONRefused as error:
        raise ValueError(f"--config {error}") from None
    if not isinstance(document, dict):
        raise ValueError(f"--config {path} must hold a JSON object")
    if document.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"--config {path} is not format version {FORMAT_VERSION}")
    try:
        return (
            ModelConfig.from_dict(document.get("model")),
            TrainConfig.from_dict(document.get("train")),
        )
    except ValueError as error:
        raise ValueError(f"--config {path}: {error}") from None


def _override(config: Any, args: argparse.Namespace) -> Any:
    """``config`` with the settings given on the command line (checked again)."""
    given = given_settings(type(config), args)
    return dataclasses.replace(config, **given) if given else config


def configs_from_args(args: argparse.Namespace) -> tuple[ModelConfig, TrainConfig]:
    """Validated configs from parsed arguments; raises ValueError."""
    if args.config is not None:
        if args.preset is not None:
            raise ValueError("--preset cannot be combined with --config")
        model, train = read_config(args.config)
    else:
        model, train = ModelConfig.preset(args.preset or DEFAULT_PRESET), TrainConfig()
        if args.dataset is None and args.data not in (None, ""):
            train = dataclasses.replace(train, dataset=name_from_path(args.data))
    return _override(model, args), _override(train, args)


def refine_from_args(
    args: argparse.Namespace, model: ModelConfig
) -> RefineConfig | None:
    """The refinement the options ask for, None when none is given; raises
    ValueError for bad values or a conv model."""
    given = given_settings(RefineConfig, args, REFINE_PREFIX)
    if not given:
        return None
    if model.architecture != "dense":
        raise ValueError(
            "refining q per image needs a dense decoder; leave out the --refine "
            "options for a conv model"
        )
    return RefineConfig(**given)


def log_files_from_args(args: argparse.Namespace) -> LogFiles:
    """The logs ``--tensorboard`` and ``--csv`` ask for, checked before the
    data is loaded; raises ValueError for a CSV file in a missing folder or
    that is a folder, a TensorBoard folder that is a file, or TensorBoard logs
    without TensorFlow and TensorBoard (tf.summary writes them through it)."""
    csv = args.csv.expanduser() if args.csv is not None else None
    board = args.tensorboard.expanduser() if args.tensorboard is not None else None
    if csv is not None and (csv.is_dir() or not csv.parent.is_dir()):
        raise ValueError(f"--csv {csv}: give a file in an existing folder")
    if board is not None:
        if board.exists() and not board.is_dir():
            raise ValueError(f"--tensorboard {board} is not a folder")
        missing = [
            name
            for name in ("tensorflow", "tensorboard")
            if importlib.util.find_spec(name) is None
        ]
        if missing:
            raise ValueError(
                "--tensorboard needs TensorFlow's summary writer and TensorBoard: "
                f"pip install {' '.join(missing)}"
            )
    return LogFiles(tensorboard=board, csv=csv)


def default_name(model: ModelConfig, train: TrainConfig) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return (
        f"{train.dataset}-{model.preset_name or 'custom'}-z{model.latent_dim}-{stamp}"
    )


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """Run the command (``prog`` names it in help and errors); returns the exit
    status (0 ok, 1 error, 130 cancelled)."""
    args = build_parser(prog).parse_args(argv)
    if args.nice and hasattr(os, "nice"):
        os.nice(args.nice)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    run = _Run(args, Progress(state="starting", pid=os.getpid()))
    signal.signal(signal.SIGTERM, run.request_stop)
    try:
        saved = _train_and_save(run)
    except TrainingStopped as stopped:
        cancelled = run.stop_flag[0]
        return run.fail(
            CANCELLED if cancelled else FAILED, str(stopped), 130 if cancelled else 1
        )
    except (DataError, ValueError, OSError) as error:
        return run.fail(FAILED, str(error), 1)
    except KeyboardInterrupt:
        return run.fail(CANCELLED, "interrupted; nothing was saved", 130)
    except _engine_errors() as error:
        return run.fail(
            FAILED,
            "the data-parallel run failed, most likely because another process "
            f"died (see its log); nothing was saved: {distributed.first_line(error)}",
            1,
        )
    if saved is not None:
        run.done(saved)
    return 0


@dataclasses.dataclass
class _Run:
    """This process's run as main's steps share it: the options, the progress
    it writes, the stop request and its place in the group (one process until
    :func:`vaeapp.train.distributed.start` says otherwise)."""

    args: argparse.Namespace
    progress: Progress
    stop_flag: list[bool] = dataclasses.field(default_factory=lambda: [False])
    cluster: distributed.Cluster = dataclasses.field(
        default_factory=distributed.Cluster
    )

    def request_stop(self, signum: int, frame: Any) -> None:
        """The SIGTERM handler: training stops after the batch."""
        self.stop_flag[0] = True

    def announce(self, notes: tuple[str, ...]) -> None:
        """Put ``notes`` in the progress file and, unless quiet, print them
        (process 0 only)."""
        self.progress.notes = list(notes)
        if self.cluster.is_main:
            write_progress(self.args.progress_file, self.progress)
            if not self.args.quiet:
                print("\n".join(notes), flush=True)

    def fail(self, state: str, message: str, code: int) -> int:
        """Report a run that ended without a model (``state`` FAILED or
        CANCELLED) in the progress file and on stderr; returns ``code``."""
        cluster, progress = self.cluster, self.progress
        if cluster.process_count > 1:
            message = f"process {cluster.process_index}: {message}"
        progress.state, progress.message = state, message
        try:
            if cluster.is_main:
                write_progress(self.args.progress_file, progress)
        except OSError as error:
            message += f" (and the progress file could not be written: {error})"
        print(f"error: {message}" if state == FAILED else message, file=sys.stderr)
        if cluster.multi_process:
            # Leave at once: JAX's exit handler would wait at a shutdown
            # barrier for peers that are gone or stuck waiting for this one.
            # Exiting closes this process's gloo connections, so every peer's
            # next collective fails at once instead.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        return code

    def done(self, saved: _Saved) -> None:
        """Report the model folder written: the progress file, and the final
        line with its figures."""
        result, progress = saved.result, self.progress
        progress.state, progress.model_path = DONE, str(saved.path)
        progress.epoch, progress.fraction = result.train_config.epochs, 1.0
        progress.history = result.history
        # E.g. the files skipped, for the page.
        progress.message = " ".join(saved.data_notes)
        write_progress(self.args.progress_file, progress)
        refined = _refined(saved.path, saved.refine)
        print(f"saved {saved.path}  {_figures(result)}{refined}")


@dataclasses.dataclass(frozen=True)
class _Saved:
    """A run published as a model folder."""

    path: Path
    result: TrainResult
    data_notes: tuple[str, ...]  # what loading the data noticed
    refine: RefineConfig | None


def _train_and_save(run: _Run) -> _Saved | None:
    """Check the options, load the data, train and publish; None on another
    process than 0, which trains its part and leaves publishing to 0. Raises
    what main reports: ValueError, DataError, OSError, TrainingStopped."""
    args = run.args
    launch = launch_from_args(args)
    check_installed(launch.backend)
    distributed.select_backend(launch.backend)
    model_config, train_config = configs_from_args(args)
    refine = refine_from_args(args, model_config)
    log_files = log_files_from_args(args)
    parent, name = _destination(args, model_config, train_config)
    run.progress.epochs = train_config.epochs
    write_progress(args.progress_file, run.progress)
    run.cluster = cluster = distributed.start(launch)
    train_config = dataclasses.replace(
        train_config, global_batch_size=train_config.batch_size * cluster.process_count
    )
    if cluster.data_parallel:
        print(cluster.describe(train_config.batch_size), flush=True)
    if cluster.device_kind and cluster.is_main and not args.quiet:
        print(f"training with JAX on {cluster.device_kind}", flush=True)
    data = _load(train_config, args.data, cluster.process_index, cluster.process_count)
    # The data decides the image shape, whatever a --config said.
    model_config = dataclasses.replace(model_config, image_shape=data.image_shape)
    check_batch_size(train_config, data.x_train.shape[0])
    if refine is not None:
        check_refinable(len(data.x_test), data.image_shape)
    work = open_run(
        parent,
        name,
        name_given=args.name is not None,
        model=model_config,
        train=train_config,
        refine=refine,
        data=data,
        data_arg=args.data,
        backend=launch.backend,
        cluster=cluster,
        restart=args.restart,
    )
    notes = (*data.notes, *run_notes(model_config, train_config, data))
    notes = (*notes, work.note()) if work.epochs_done else notes
    if work.epochs_done:
        log_files = dataclasses.replace(log_files, csv_append=True)
    run.announce(notes)
    if launch.backend == "tensorflow":
        start_tensorflow(verbose=not args.quiet and cluster.is_main)
    try:
        result = train_model(
            model_config,
            train_config,
            data,
            progress_path=args.progress_file,
            verbose=not args.quiet,
            stop_flag=run.stop_flag,
            cluster=cluster,
            notes=notes,
            log_files=log_files,
            checkpointing=work.checkpointing,
        )
    except TrainingStopped:
        # Diverged: continuing would diverge again. Cancelled (SIGTERM, as a
        # scheduler's preemption sends): keep the checkpoint to continue.
        work.close(remove=not run.stop_flag[0])
        raise
    if run.stop_flag[0]:
        raise TrainingStopped("cancelled before saving; nothing was saved")
    if result is None:  # another process than 0: it publishes
        work.close(remove=False)
        print(f"process {cluster.process_index}: training done", flush=True)
        return None
    path = save_result(result, parent, work.name, refine)
    work.close(remove=True)
    return _Saved(path, result, data.notes, refine)


def _destination(
    args: argparse.Namespace, model_config: ModelConfig, train_config: TrainConfig
) -> tuple[Path, str]:
    """The folder to write the model folder into and its name (--out and
    --name, or their defaults); raises ValueError for a name not allowed,
    an --out that is not a folder, or a model of that name already there."""
    name = args.name or default_name(model_config, train_config)
    parent = (args.out or trained_dir()).expanduser()
    check_name(name)
    if parent.exists() and not parent.is_dir():
        raise ValueError(f"--out {parent} is not a folder")
    if (parent / name).exists():
        raise ValueError(f"a model named {name!r} already exists in {parent}")
    return parent, name


def _load(
    config: TrainConfig, path: str | None, process: int = 0, processes: int = 1
) -> Dataset:
    """The data ``config`` names, a folder's transparent pixels laid on its
    background; a note when any image had them. Of a streamed folder this
    process decodes its share of the files only."""
    with image_folder.reading(config.background) as seen:
        data = load_for(config, path, share=(process, processes))
    if seen.note is None:
        return data
    return dataclasses.replace(data, notes=(*data.notes, seen.note))


def _engine_errors() -> tuple[type[BaseException], ...]:
    """The engine's error for a failed collective when JAX is loaded, else
    none (an ``except`` of an empty tuple catches nothing)."""
    return distributed.engine_errors() if "jax" in sys.modules else ()


def _refined(path: Path, refine: RefineConfig | None) -> str:
    """The final line's figures with q refined per image, when it is."""
    if refine is None:
        return ""
    metrics = read_record(path).metrics
    validation = metrics.get("val_neg_elbo")
    checked = f"validation {validation:.2f}, " if validation is not None else ""
    return (
        f"; with q refined per image ({refine.steps} steps): {checked}test "
        f"{metrics['test_neg_elbo']:.2f} nats"
    )


def _figures(result: TrainResult) -> str:
    """The final line's figures: the kept epoch, validation and test -ELBO."""
    test = result.test_metrics
    validation = result.validation_metrics
    kept = (
        f"weights of epoch {result.best_epoch} (lowest validation -ELBO)  "
        if result.train_config.keep_best
        else ""
    )
    checked = (
        f"validation negative ELBO {validation['val_neg_elbo']:.2f}  "
        if validation
        else ""
    )
    return (
        f"{kept}{checked}test negative ELBO {test['test_neg_elbo']:.2f} nats "
        f"(recon {test['test_recon']:.2f} + KL {test['test_kl']:.2f})"
    )


if __name__ == "__main__":
    sys.exit(main())
