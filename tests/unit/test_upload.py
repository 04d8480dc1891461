"""Model zip upload: a valid zip is published; every bad one is refused, unchanged."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import stat
import struct
import uuid
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from vaeapp.core.config import ModelConfig, TrainConfig  # noqa: E402
from vaeapp.model.layout import encoder_layers  # noqa: E402
from vaeapp.store import upload  # noqa: E402
from vaeapp.store.format import (  # noqa: E402
    CONFIG_FILE,
    LATENTS_FILE,
    MAX_JSON_BYTES,
    METRICS_FILE,
    MODEL_FILES,
    SNAPSHOTS_FILE,
    WEIGHTS_FILE,
    check_name,
)
from vaeapp.store.listing import best_pretrained  # noqa: E402
from vaeapp.store.reading import load_model  # noqa: E402
from vaeapp.store.upload import UploadError, import_model_zip, suggest_name  # noqa: E402
from vaeapp.store.writing import config_document, write_json  # noqa: E402

HIDDEN = (16,)
N_LATENTS = 50
KERNEL = encoder_layers(ModelConfig(hidden=HIDDEN))[0].path + "/vars/0"
Files = dict[str, bytes]


def _history(epochs: int) -> list[dict[str, float]]:
    keys = ("recon", "kl", "neg_elbo", "test_recon", "test_kl", "test_neg_elbo")
    return [{"epoch": e, **{k: 100.0 / e for k in keys}} for e in range(1, epochs + 1)]


def _weights_bytes(folder: Path, hidden: tuple[int, ...]) -> bytes:
    from vaeapp.model.vae import VAE

    path = folder / f"w{'-'.join(map(str, hidden))}.weights.h5"
    VAE(ModelConfig(hidden=hidden)).save_weights(str(path))
    return path.read_bytes()


def _npz_bytes(compressed: bool = True, **arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A valid model folder's files (no training) and mis-shaped weights."""
    folder = tmp_path_factory.mktemp("upload-src")
    write_json(
        folder / CONFIG_FILE,
        config_document(
            ModelConfig(hidden=HIDDEN),
            TrainConfig(epochs=3, jit_compile=False, grid_size=2),
            "synthetic",
        ),
    )
    write_json(folder / METRICS_FILE, {"test_neg_elbo": 150.0, "history": _history(3)})
    rng = np.random.default_rng(0)
    files = {
        CONFIG_FILE: (folder / CONFIG_FILE).read_bytes(),
        METRICS_FILE: (folder / METRICS_FILE).read_bytes(),
        WEIGHTS_FILE: _weights_bytes(folder, HIDDEN),
        LATENTS_FILE: _npz_bytes(
            mean=rng.normal(size=(N_LATENTS, 2)).astype(np.float32),
            log_var=rng.normal(size=(N_LATENTS, 2)).astype(np.float32),
            labels=(np.arange(N_LATENTS) % 10).astype(np.uint8),
        ),
        SNAPSHOTS_FILE: _npz_bytes(
            epochs=np.array([1, 3], np.int32),
            grids=rng.integers(0, 256, (2, 56, 56), dtype=np.uint8),
        ),
    }
    return {"files": files, "wide_weights": _weights_bytes(folder, (32,))}


@pytest.fixture
def files(built: dict[str, object]) -> Files:
    return dict(built["files"])  # type: ignore[arg-type]


def make_zip(
    files: Files, compression: int = zipfile.ZIP_DEFLATED, symlinks: tuple = ()
) -> bytes:
    """Zip ``files`` at the archive root, like the app's download button."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are written on purpose
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            for name, data in files.items():
                info = zipfile.ZipInfo(name)
                info.compress_type = compression
                mode = (
                    stat.S_IFLNK | 0o777 if name in symlinks else stat.S_IFREG | 0o644
                )
                info.external_attr = mode << 16
                archive.writestr(info, data)
    return buffer.getvalue()


def duplicate_zip(files: Files, name: str) -> bytes:
    buffer = io.BytesIO(make_zip(files))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(buffer, "a") as archive:
            archive.writestr(name, files[name])
    return buffer.getvalue()


def patch_member(
    data: bytes, name: str, local_at: int, central_at: int, value: int, fmt: str
) -> bytes:
    """Overwrite one field of ``name``'s local and central zip headers."""
    raw = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
        struct.pack_into(fmt, raw, info.header_offset + local_at, value)
        start = archive.start_dir
    encoded = name.encode()
    at = raw.find(b"PK\x01\x02", start)
    while at >= 0:
        length = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46 : at + 46 + length] == encoded:
            struct.pack_into(fmt, raw, at + central_at, value)
        at = raw.find(b"PK\x01\x02", at + 4)
    return bytes(raw)


def corrupt_member(data: bytes, name: str) -> bytes:
    """Flip bytes inside ``name``'s compressed data."""
    raw = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
    name_len, extra_len = struct.unpack_from("<HH", raw, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    for i in range(start + info.compress_size // 3, start + info.compress_size // 2):
        raw[i] ^= 0x5A
    return bytes(raw)


def edit_h5(data: bytes, tmp: Path, edit: Callable[[h5py.File, Path], None]) -> bytes:
    path = tmp / f"{uuid.uuid4().hex}.weights.h5"
    path.write_bytes(data)
    with h5py.File(path, "r+") as handle:
        edit(handle, tmp)
    return path.read_bytes()


def _external(handle: h5py.File, tmp: Path) -> None:
    other = tmp / "other.h5"
    with h5py.File(other, "w") as out:
        out["data"] = np.zeros(handle[KERNEL].shape, np.float32)
    del handle[KERNEL]
    handle[KERNEL] = h5py.ExternalLink(str(other), "/data")


def _soft(handle: h5py.File, tmp: Path) -> None:
    handle["alias"] = h5py.SoftLink("/" + KERNEL)


def _virtual(handle: h5py.File, tmp: Path) -> None:
    shape = handle[KERNEL].shape
    other = tmp / "secret.h5"
    with h5py.File(other, "w") as out:
        out["data"] = np.ones(shape, np.float32)
    layout = h5py.VirtualLayout(shape=shape, dtype="f4")
    layout[:] = h5py.VirtualSource(str(other), "data", shape=shape)
    del handle[KERNEL]
    handle.create_virtual_dataset(KERNEL, layout)


def _cycle(handle: h5py.File, tmp: Path) -> None:
    group = KERNEL.rsplit("/", 1)[0]
    handle[group + "/loop"] = handle["encoder"]  # a hard link back up the tree


def _nan(handle: h5py.File, tmp: Path) -> None:
    handle[KERNEL][0, 0] = np.nan


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def _config(files: Files, **changes: object) -> bytes:
    return _json({**json.loads(files[CONFIG_FILE]), **changes})


def _lying_npy(shape: tuple[int, ...]) -> bytes:
    """An .npy whose header declares ``shape`` but holds 8 floats."""
    buffer = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    buffer.write(np.zeros(8, np.float32).tobytes())
    return buffer.getvalue()


def _lying_npz() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mean.npy", _lying_npy((10**9, 2)))
        archive.writestr("log_var.npy", _lying_npy((10**9, 2)))
        archive.writestr("labels.npy", _lying_npy((10**9,)))
    return buffer.getvalue()


class _MakeDir:
    """Unpickling this would create a folder: the sentinel of code execution."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return (os.mkdir, (self.path,))


def _pickle_npz(sentinel: Path) -> bytes:
    buffer = io.BytesIO()
    labels = np.empty(N_LATENTS, dtype=object)
    labels[:] = [_MakeDir(str(sentinel))] * N_LATENTS
    np.savez(
        buffer,
        mean=np.zeros((N_LATENTS, 2)),
        log_var=np.zeros((N_LATENTS, 2)),
        labels=labels,
    )
    assert b"mkdir" in buffer.getvalue() and pickle.HIGHEST_PROTOCOL >= 2
    return buffer.getvalue()


def _lambda_keras(tmp: Path, sentinel: Path) -> bytes:
    """A real .keras file whose Lambda layer creates ``sentinel`` when run."""
    import keras

    function = eval(  # noqa: S307 - builds the hostile layer under test
        f"lambda x: (__import__('os').makedirs({str(sentinel)!r}, exist_ok=True), x)[1]"
    )
    model = keras.Sequential([keras.Input((1,)), keras.layers.Lambda(function)])
    path = tmp / "hostile.keras"
    model.save(path)
    os.rmdir(sentinel)  # building the model ran the function once; start clean
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "Lambda" in archive.read("config.json").decode()
    return data


def snapshot(folder: Path) -> dict[str, str]:
    """Every path under ``folder`` (files hashed, folders marked), hidden included."""
    return {
        str(p.relative_to(folder)): (
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        )
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def parent(tmp_path: Path) -> Path:
    """A models folder that already holds one model-like folder."""
    folder = tmp_path / "models"
    (folder / "existing").mkdir(parents=True)
    (folder / "existing" / CONFIG_FILE).write_text("{}")
    return folder


def refuse(data: bytes, parent: Path, match: str, name: str = "upload") -> str:
    """Assert the upload is refused with ``match`` and nothing on disk changed."""
    root = parent.parent
    before = snapshot(root)
    with pytest.raises(UploadError, match=match) as caught:
        import_model_zip(data, parent, name)
    assert snapshot(root) == before
    message = str(caught.value)
    assert "\n" not in message and message
    return message


def test_valid_zip_imports_loads_and_cannot_be_imported_twice(
    files: Files, parent: Path
) -> None:
    """A zip like the download button's is published, loads, and keeps its name."""
    data = make_zip(files)
    path = import_model_zip(data, parent, "uploaded")
    assert path == parent / "uploaded"
    assert {p.name: p.read_bytes() for p in path.iterdir()} == files
    loaded = load_model(path)
    assert loaded.record.model.hidden == HIDDEN
    assert loaded.latent_mean.shape == (N_LATENTS, 2)
    assert sorted(loaded.snapshots) == [1, 3]
    assert loaded.vae.decode(np.zeros((1, 2))).shape == (1, 784)
    assert sorted(p.name for p in parent.iterdir()) == ["existing", "uploaded"]
    refuse(data, parent, "already exists", name="uploaded")


def test_zip_without_optional_snapshots_imports(files: Files, parent: Path) -> None:
    """snapshots.npz is optional; a stored (uncompressed) zip is fine too."""
    del files[SNAPSHOTS_FILE]
    path = import_model_zip(make_zip(files, zipfile.ZIP_STORED), parent, "plain")
    assert load_model(path).snapshots == {}


def test_shipped_pretrained_model_round_trips(parent: Path) -> None:
    """The shipped model, zipped like the download button does, imports."""
    source = best_pretrained("mnist")
    files = {
        n: (source / n).read_bytes() for n in MODEL_FILES if (source / n).is_file()
    }
    path = import_model_zip(make_zip(files), parent, source.name)
    assert (
        load_model(path).record.test_neg_elbo == load_model(source).record.test_neg_elbo
    )


def test_bytearray_upload_is_accepted(files: Files, parent: Path) -> None:
    """What a file uploader returns may be a bytearray or memoryview."""
    path = import_model_zip(memoryview(make_zip(files)), parent, "view")
    assert (path / WEIGHTS_FILE).read_bytes() == files[WEIGHTS_FILE]


@pytest.mark.parametrize(
    "data, match",
    [
        (b"", "empty"),
        (np.random.default_rng(1).bytes(4096), "not a valid zip"),
        (b"config.json is not here, this is text\n" * 50, "not a valid zip"),
        (b"PK\x05\x06" + b"\0" * 18, "lacks config.json"),
        (
            b"PK\x03\x04" + bytes(upload.MAX_ZIP_BYTES),
            f"limit is {upload.UPLOAD_LIMIT_MB} MB",
        ),
    ],
    ids=["empty", "random", "text", "empty-zip", "too-big"],
)
def test_non_zip_uploads_are_refused(data: bytes, match: str, parent: Path) -> None:
    """Empty, random, text, empty-zip and oversized uploads are refused."""
    refuse(data, parent, match)


def test_bad_names_are_refused(files: Files, parent: Path) -> None:
    """Only check_name-compliant model names are accepted."""
    for name in ("../evil", "", ".hidden", "a/b", "x" * 65):
        refuse(make_zip(files), parent, "not allowed", name=name)


def test_path_traversal_member_is_refused(files: Files, parent: Path) -> None:
    """A '../evil.txt' member is refused and nothing appears beside the parent."""
    refuse(make_zip({**files, "../evil.txt": b"x"}), parent, "'../evil.txt'")
    assert not (parent.parent / "evil.txt").exists()


def test_absolute_member_is_refused(files: Files, parent: Path) -> None:
    """An absolute member path is refused and never written."""
    target = Path("/tmp") / f"vaeapp-upload-{uuid.uuid4().hex}"
    refuse(make_zip({**files, str(target): b"x"}), parent, "not a model file")
    assert not target.exists()


@pytest.mark.parametrize(
    "extra",
    [
        "notes.txt",
        "model.keras",
        "model.pkl",
        "sub/config.json",
        "models/",
        "CONFIG.json",
    ],
)
def test_extra_members_are_refused(files: Files, parent: Path, extra: str) -> None:
    """Any member not named exactly like a model file at the root is refused."""
    refuse(make_zip({**files, extra: b"x"}), parent, "not a model file")


def test_folder_zipped_with_its_directory_is_refused(
    files: Files, parent: Path
) -> None:
    """Files under a top folder are refused, naming the allowed root files."""
    nested = {f"mymodel/{name}": data for name, data in files.items()}
    message = refuse(make_zip(nested), parent, "not a model file")
    assert "root" in message


@pytest.mark.parametrize("missing", [WEIGHTS_FILE, CONFIG_FILE, LATENTS_FILE])
def test_missing_required_file_is_refused(
    files: Files, parent: Path, missing: str
) -> None:
    """A zip without one of the required files is refused by name."""
    del files[missing]
    refuse(make_zip(files), parent, f"lacks {missing}")


def test_duplicate_member_is_refused(files: Files, parent: Path) -> None:
    """Two members with the same name are refused."""
    refuse(duplicate_zip(files, CONFIG_FILE), parent, "more than once")


def test_symlink_member_is_refused(files: Files, parent: Path) -> None:
    """A member whose external attributes mark a symbolic link is refused."""
    files[CONFIG_FILE] = b"/etc/passwd"
    refuse(make_zip(files, symlinks=(CONFIG_FILE,)), parent, "not a regular file")


def test_encrypted_member_is_refused(files: Files, parent: Path) -> None:
    """A member flagged as encrypted is refused before it is read."""
    data = patch_member(make_zip(files), METRICS_FILE, 6, 8, 0x1, "<H")
    refuse(data, parent, "encrypted")


def test_unsupported_compression_is_refused(files: Files, parent: Path) -> None:
    """Only stored and deflated members are read."""
    refuse(make_zip(files, zipfile.ZIP_BZIP2), parent, "unsupported compression")


def test_zip_bomb_over_total_limit_is_refused(files: Files, parent: Path) -> None:
    """A 120 MB run of zeros deflated to a few hundred KB is refused: over
    twice the 50 MB upload limit."""
    data = make_zip({**files, SNAPSHOTS_FILE: bytes(120_000_000)})
    assert len(data) < 1_000_000
    refuse(data, parent, "unpacks to more than 105 MB")


def test_high_ratio_member_is_refused(files: Files, parent: Path) -> None:
    """A member compressed more than 100 to 1 is refused even under the limit."""
    refuse(make_zip({**files, SNAPSHOTS_FILE: bytes(2_000_000)}), parent, "zip bomb")


def test_member_longer_than_its_header_is_refused(files: Files, parent: Path) -> None:
    """A header understating a member's size does not let more data through."""
    files[SNAPSHOTS_FILE] = np.random.default_rng(2).bytes(300_000)
    data = patch_member(make_zip(files), SNAPSHOTS_FILE, 22, 24, 1000, "<I")
    refuse(data, parent, "corrupt")


def test_streaming_limit_is_enforced_without_headers(
    files: Files, parent: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the header checks bypassed, unpacking still stops past the limit."""
    monkeypatch.setattr(upload, "_check_members", lambda archive, _: archive.infolist())
    monkeypatch.setattr(upload, "MAX_UNPACKED_BYTES", 20_000)
    monkeypatch.setattr(upload, "UNPACKED_PER_ZIPPED", 0)
    refuse(make_zip(files), parent, "unpacks to more than")


def test_corrupt_member_data_is_refused(files: Files, parent: Path) -> None:
    """Damaged deflate data (bad stream or CRC) is refused."""
    refuse(corrupt_member(make_zip(files), WEIGHTS_FILE), parent, "corrupt")


def test_keras_file_with_lambda_is_never_opened(
    files: Files, parent: Path, tmp_path: Path
) -> None:
    """A real .keras with a code-running Lambda is refused by name, never loaded."""
    sentinel = tmp_path / "lambda-ran"
    hostile = _lambda_keras(tmp_path, sentinel)
    for contents in ({**files, "model.keras": hostile}, {"model.keras": hostile}):
        message = refuse(make_zip(contents), parent, "not a model file")
        assert "'model.keras'" in message
        assert not sentinel.exists()


def test_pickled_objects_in_npz_are_refused(
    files: Files, parent: Path, tmp_path: Path
) -> None:
    """An object array (a pickle that would run code) is refused, never loaded."""
    sentinel = tmp_path / "pickle-ran"
    files[LATENTS_FILE] = _pickle_npz(sentinel)
    refuse(make_zip(files), parent, "Python objects")
    assert not sentinel.exists()


def test_npz_bomb_inside_is_refused(
    files: Files, parent: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An .npz whose own members unpack past the limit (here 50 MB) is refused."""
    monkeypatch.setattr(upload, "UNPACKED_PER_ZIPPED", 0)
    files[SNAPSHOTS_FILE] = _npz_bytes(
        epochs=np.array([1], np.int32), grids=np.zeros((1, 60_000, 1_000), np.uint8)
    )
    assert len(files[SNAPSHOTS_FILE]) < 1_000_000
    refuse(make_zip(files), parent, "snapshots.npz unpacks to more than")


def test_npy_header_declaring_huge_array_is_refused(files: Files, parent: Path) -> None:
    """An .npy header may not declare more data than its member holds."""
    files[LATENTS_FILE] = _lying_npz()
    refuse(make_zip(files), parent, "declares more data than it holds")


@pytest.mark.parametrize(
    "edit, match",
    [
        (_external, "link"),
        (_soft, "link"),
        (_virtual, "other files"),
        (_cycle, "twice"),
        (_nan, "NaN"),
    ],
    ids=["external-link", "soft-link", "virtual-dataset", "cycle", "nan"],
)
def test_bad_weights_are_refused(
    files: Files, parent: Path, tmp_path: Path, edit: Callable, match: str
) -> None:
    """Links, data in other files, cycles and NaN in the weights are refused."""
    files[WEIGHTS_FILE] = edit_h5(files[WEIGHTS_FILE], tmp_path, edit)
    refuse(make_zip(files), parent, match)


def test_weights_of_another_architecture_are_refused(
    built: dict[str, object], files: Files, parent: Path
) -> None:
    """Weights of hidden=(32,) under a config saying 16 are refused by shape."""
    files[WEIGHTS_FILE] = built["wide_weights"]  # type: ignore[assignment]
    refuse(make_zip(files), parent, r"shape \(784, 32\), expected \(784, 16\)")


def test_weights_that_are_not_hdf5_are_refused(files: Files, parent: Path) -> None:
    """A weights member that is not HDF5 is refused."""
    files[WEIGHTS_FILE] = b"\x89HDF not really"
    refuse(make_zip(files), parent, "cannot read model.weights.h5")


def test_latents_with_nan_are_refused(files: Files, parent: Path) -> None:
    """Non-finite latent means are refused by the store's check."""
    mean = np.full((N_LATENTS, 2), np.nan, np.float32)
    files[LATENTS_FILE] = _npz_bytes(
        mean=mean, log_var=np.zeros_like(mean), labels=np.zeros(N_LATENTS, np.uint8)
    )
    refuse(make_zip(files), parent, "not a valid model: latents.npz holds NaN")


@pytest.mark.parametrize(
    "name, change, match",
    [
        (CONFIG_FILE, lambda f: b"{not json", "config.json is not valid JSON"),
        (CONFIG_FILE, lambda f: b"\xff\xfe", "config.json is not valid JSON"),
        (CONFIG_FILE, lambda f: b"[" * 100_000, "config.json is not valid JSON"),
        (CONFIG_FILE, lambda f: _json([1, 2]), "not a JSON object"),
        (CONFIG_FILE, lambda f: _config(f, extra=1), r"unknown keys \['extra'\]"),
        (
            CONFIG_FILE,
            lambda f: _config(f, model={"hidden": [16], "latent_dim": 2, "x": 1}),
            r"ModelConfig has unknown keys \['x'\]",
        ),
        (
            CONFIG_FILE,
            lambda f: _config(f, model={"hidden": [16], "latent_dim": 1}),
            "latent size must be between",
        ),
        (CONFIG_FILE, lambda f: _config(f, format_version=2), "format version"),
        (
            CONFIG_FILE,
            lambda f: _config(f, data_source="![x](https://evil.example/p.png)"),
            "data_source",
        ),
        (CONFIG_FILE, lambda f: _config(f, data_source="a\nb"), "data_source"),
        (METRICS_FILE, lambda f: _json({"history": []}), "finite test_neg_elbo"),
        (
            METRICS_FILE,
            lambda f: _json({"test_neg_elbo": 1.0, "history": [{"epoch": 1}]}),
            "history rows",
        ),
        (
            METRICS_FILE,
            lambda f: _json({"test_neg_elbo": 1.0, "history": [1, 2]}),
            "history rows",
        ),
        (
            METRICS_FILE,
            lambda f: b'{"test_neg_elbo": NaN, "history": []}',
            "holds NaN",
        ),
        (METRICS_FILE, lambda f: b" " * (MAX_JSON_BYTES + 1), "larger than"),
    ],
    ids=[
        "bad-json",
        "not-utf8",
        "deep-nesting",
        "not-object",
        "unknown-top-key",
        "unknown-model-key",
        "bad-latent",
        "format-version",
        "markdown-source",
        "newline-source",
        "no-elbo",
        "short-history-row",
        "history-not-rows",
        "nan-elbo",
        "huge-json",
    ],
)
def test_bad_json_documents_are_refused(
    files: Files, parent: Path, name: str, change: Callable, match: str
) -> None:
    """Bad JSON, unknown keys, bad settings and unsafe text are refused."""
    files[name] = change(files)
    refuse(make_zip(files, zipfile.ZIP_STORED), parent, match)  # no ratio refusal


def test_refusal_after_publish_started_leaves_no_temp_folder(
    files: Files, tmp_path: Path
) -> None:
    """A model refused late leaves at most the (new, empty) parent folder."""
    files[WEIGHTS_FILE] = b"junk"
    parent = tmp_path / "fresh"
    with pytest.raises(UploadError):
        import_model_zip(make_zip(files), parent, "late")
    assert list(parent.iterdir()) == []


def test_upload_error_is_a_value_error() -> None:
    """Callers catching ValueError also catch upload refusals."""
    assert issubclass(UploadError, ValueError)


@pytest.mark.parametrize(
    "filename, expected",
    [
        ("mnist-tutorial.zip", "mnist-tutorial"),
        ("My model (2).zip", "My-model-2"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\vae.ZIP", "vae"),
        ("modèle.zip", "mod-le"),
        (".hidden.zip", "hidden"),
        ("a..b.zip", "a.b"),
        ("...zip", "uploaded-model"),
        ("", "uploaded-model"),
        ("%%%.zip", "uploaded-model"),
    ],
)
def test_suggest_name_makes_safe_names(
    filename: str, expected: str, tmp_path: Path
) -> None:
    """Uploaded file names become check_name-compliant folder names."""
    name = suggest_name(filename, tmp_path)
    assert name == expected
    assert check_name(name) == name


def test_suggest_name_avoids_taken_names_and_long_ones(tmp_path: Path) -> None:
    """Taken names get -2, -3...; long names are cut to fit with a suffix."""
    (tmp_path / "vae").mkdir()
    assert suggest_name("vae.zip", tmp_path) == "vae-2"
    (tmp_path / "vae-2").write_text("")
    (tmp_path / "vae-3").symlink_to(tmp_path / "nowhere")
    assert suggest_name("vae.zip", tmp_path) == "vae-4"
    long = suggest_name("x" * 300 + ".zip", tmp_path)
    (tmp_path / long).mkdir()
    longer = suggest_name("x" * 300 + ".zip", tmp_path)
    assert len(long) <= 64 and len(longer) <= 64 and longer == f"{long}-2"
    assert check_name(longer) == longer
