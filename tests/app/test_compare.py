"""AppTest tests of the compare view: two models of the same data side by side."""

from __future__ import annotations

import base64
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from app_helpers import component_data, new_app, send_event, walk
from PIL import Image

from devtools.weights import write_random_weights
from vaeapp.core.config import ModelConfig
from vaeapp.explore.comparison import duration
from vaeapp.explore.images import image_array, to_uint8
from vaeapp.explore.projection import axes_plane, pca_plane
from vaeapp.explore.scores import knn_accuracy
from vaeapp.store.format import PRETRAINED_DIR
from vaeapp.store.listing import list_models
from vaeapp.store.reading import load_model
from vaeapp.ui.state import K

MAP = "vaeapp.latent_explorer"
DIGIT = "vaeapp.digit"
TUTORIAL = PRETRAINED_DIR / "mnist-tutorial"


def _app():
    """The page on mnist-deep (whichever shipped model is the default)."""
    at = new_app()
    at.session_state[K.ACTIVE_MODEL] = str(PRETRAINED_DIR / "mnist-deep")
    return at.run()


def _open_compare(at, pick: Path | None = None):
    at.session_state[K.COMPARE_OPEN] = True
    at.run()
    if pick is not None:
        at.selectbox(key=K.COMPARE_PICK).set_value(str(pick)).run()
    assert not at.exception
    return at


def _shipped_mnist(without: str) -> list[str]:
    """The names of the usable shipped MNIST models, but ``without``."""
    return sorted(
        item.name
        for item in list_models(PRETRAINED_DIR)
        if item.record is not None
        and item.record.dataset == "mnist"
        and item.record.model.image_shape == (28, 28, 1)
        and item.name != without
    )


def _map(at, key: K) -> dict:
    return component_data(at, MAP, key)[0]


def _picture(at, k: int) -> np.ndarray:
    """The pixels of the compare view's k-th picture (a PNG data URL)."""
    src = component_data(at, DIGIT, f"{K.COMPARE_IMAGE}{k}")["src"]
    data = base64.b64decode(src.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)))


def _table(at) -> dict[str, dict[str, str]]:
    """The figures table: column name -> {row name -> cell}."""
    frame = next(d.value for d in at.dataframe if d.value.columns[0] == "")
    rows = list(frame[""])
    return {c: dict(zip(rows, frame[c], strict=True)) for c in frame.columns[1:]}


def test_the_compare_view_runs_only_when_opened() -> None:
    """Closed, it is one expander line: no picker, no map, no table."""
    at = _app()
    assert not at.exception
    ids = [n.proto.id for r in at._tree.children.values()
           for n in walk(r, "bidi_component")]  # fmt: skip
    assert not any(i.endswith(K.COMPARE_MAP_A) for i in ids)
    assert not [s for s in at.selectbox if s.key == K.COMPARE_PICK]
    at = _open_compare(at)
    box = at.selectbox(key=K.COMPARE_PICK)
    names = sorted(label.split(" · ")[0] for label in box.options)
    # MNIST models only, the active one (mnist-deep) left out.
    assert names == _shipped_mnist("mnist-deep")
    assert box.value is None


def test_the_figures_table_and_curves_hold_both_models_numbers() -> None:
    """The figures table and curves hold both models numbers."""
    at = _open_compare(_app(), TUTORIAL)
    table = _table(at)
    assert list(table) == ["A: mnist-deep", "B: mnist-tutorial"]
    plane = axes_plane(2, (0, 1))
    names = ("mnist-deep", "mnist-tutorial")
    for column, name in zip(table.values(), names, strict=True):
        model = load_model(PRETRAINED_DIR / name)
        metrics = json.loads((PRETRAINED_DIR / name / "metrics.json").read_text())
        history = metrics["history"]
        assert column["Test −ELBO (nats)"] == f"{metrics['test_neg_elbo']:.2f}"
        assert column["Reconstruction (nats)"] == f"{metrics['test_recon']:.2f}"
        assert column["KL (nats)"] == f"{metrics['test_kl']:.2f}"
        assert column["Epochs"] == str(len(history))
        seconds = sum(row["seconds"] for row in history)
        assert column["Training time"] == duration(seconds)
        knn = knn_accuracy(plane.coords(model.latent_mean), model.labels)
        assert column["5-NN accuracy on the map"] == f"{100 * knn:.2f} %"
        kl = -0.5 * (
            1 + model.latent_log_var - model.latent_mean**2
            - np.exp(model.latent_log_var)
        ).mean(axis=0)  # fmt: skip
        top = int(np.argmax(kl))
        assert column["KL per dimension (nats)"].startswith(f"z{top + 1} {kl[top]:.2f}")
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    traces = next(c["data"] for c in charts if "mnist-deep: " in c["data"][0]["name"])
    assert [t["name"] for t in traces] == [
        "mnist-deep: validation −ELBO",
        "mnist-tutorial: validation −ELBO",
    ]
    deep = json.loads((PRETRAINED_DIR / "mnist-deep" / "metrics.json").read_text())
    assert traces[0]["y"] == [row["val_neg_elbo"] for row in deep["history"]]


@pytest.mark.parametrize(
    ("clicked", "other"),
    [(K.COMPARE_MAP_A, K.COMPARE_MAP_B), (K.COMPARE_MAP_B, K.COMPARE_MAP_A)],
)
def test_a_click_on_a_test_point_marks_it_in_both_maps(clicked: K, other: K) -> None:
    """A release on test point 7 in either map marks image 7 in the other:
    the cross at that model's mean of it, its ellipse, and the test image
    with both reconstructions, each equal to NumPy's decode."""
    at = _open_compare(_app(), TUTORIAL)
    for key in (clicked, other):
        assert _map(at, key)["mark"] is None and _map(at, key)["cross"] is False
        assert _map(at, key)["link"] == "compare"
    deep = load_model(PRETRAINED_DIR / "mnist-deep")
    tutorial = load_model(PRETRAINED_DIR / "mnist-tutorial")
    x, y = (deep if clicked == K.COMPARE_MAP_A else tutorial).latent_mean[7]
    send_event(at, MAP, "commit", [float(x), float(y), 7], key=clicked)
    assert not at.exception
    for key, model in ((K.COMPARE_MAP_A, deep), (K.COMPARE_MAP_B, tutorial)):
        data = _map(at, key)
        assert data["mark"] == 7 and data["cross"] is True
        np.testing.assert_allclose(data["marker"], model.latent_mean[7], rtol=1e-6)
        assert len(data["ellipses"]) == 1
    assert _map(at, other)["token"] != _map(at, clicked)["token"]
    expected = [to_uint8(image_array(deep.test_images[7] / np.float32(255)))]
    for model in (deep, tutorial):
        pixels = model.vae.decode(model.latent_mean[7][None])[0]
        expected.append(to_uint8(image_array(pixels)))
    for k, image in enumerate(expected):
        np.testing.assert_array_equal(_picture(at, k), image)
    # The page's own explorer is untouched: its z and inspection stay.
    assert K.INSPECT not in at.session_state
    assert at.session_state[K.Z] == [0.0, 0.0]


@pytest.mark.parametrize(
    "bad", [[0.0, 0.0, 10_000], [0.0, 0.0, -1], [0.0, 0.0, 1.5], "7", None]
)
def test_bad_clicks_from_a_compare_map_mark_nothing(bad: object) -> None:
    """Bad clicks from a compare map mark nothing."""
    at = _open_compare(_app(), TUTORIAL)
    send_event(at, MAP, "commit", bad, key=K.COMPARE_MAP_B)
    assert not at.exception
    assert _map(at, K.COMPARE_MAP_A)["mark"] is None
    assert K.COMPARE_INDEX not in at.session_state


def test_a_click_beside_the_points_marks_nothing() -> None:
    """A click beside the points marks nothing."""
    at = _open_compare(_app(), TUTORIAL)
    send_event(at, MAP, "commit", [3.9, 3.9], key=K.COMPARE_MAP_A)
    assert not at.exception
    assert _map(at, K.COMPARE_MAP_B)["mark"] is None


def _four_d_folder(parent: Path) -> Path:
    """mnist-tutorial's folder made a 4-D dense model (random weights, random
    means of the same 10,000 test images): another latent size and
    architecture of the same data."""
    folder = parent / "wide-4"
    shutil.copytree(PRETRAINED_DIR / "mnist-tutorial", folder)
    (folder / "snapshots.npz").unlink()
    config = json.loads((folder / "config.json").read_text())
    config["model"].update(hidden=[32], latent_dim=4)
    (folder / "config.json").write_text(json.dumps(config))
    model = ModelConfig(hidden=(32,), latent_dim=4)
    rng = np.random.default_rng(0)
    (folder / "model.weights.h5").unlink()
    write_random_weights(folder / "model.weights.h5", model, rng, bias_scale=0.0)
    labels = np.load(folder / "latents.npz")["labels"]
    spread = np.array([2.0, 1.5, 1.0, 0.5], np.float32)
    mean = rng.standard_normal((labels.shape[0], 4)).astype(np.float32) * spread
    np.savez(
        folder / "latents.npz", mean=mean, log_var=np.zeros_like(mean), labels=labels
    )
    return folder


def test_models_of_other_latent_sizes_compare_on_their_pca_plane(
    isolated_home: Path,
) -> None:
    """A 4-D model beside the 2-D active one: its map is its PCA plane, its
    figures use that plane, and a click marks the image in both."""
    isolated_home.mkdir(parents=True, exist_ok=True)
    folder = _four_d_folder(isolated_home)
    wide = load_model(folder)
    at = _open_compare(_app(), folder)
    data = _map(at, K.COMPARE_MAP_B)
    assert data["axis_titles"][0].startswith("PC1 (") and len(data["z"]) == 4
    plane = pca_plane(wide.latent_mean)
    table = _table(at)
    knn = knn_accuracy(plane.coords(wide.latent_mean), wide.labels)
    assert table["B: wide-4"]["5-NN accuracy on the map"] == f"{100 * knn:.2f} %"
    assert table["B: wide-4"]["Latent size"] == "4"
    send_event(at, MAP, "commit", [0.0, 0.0, 42], key=K.COMPARE_MAP_A)
    assert not at.exception
    data = _map(at, K.COMPARE_MAP_B)
    assert data["mark"] == 42
    np.testing.assert_allclose(data["z"], wide.latent_mean[42], rtol=1e-6)
    np.testing.assert_allclose(
        data["marker"], plane.coords(wide.latent_mean[42]), atol=1e-5
    )
    pixels = wide.vae.decode(wide.latent_mean[42][None])[0]
    np.testing.assert_array_equal(_picture(at, 2), to_uint8(image_array(pixels)))


def test_a_model_of_other_data_is_not_offered() -> None:
    """On Fashion-MNIST no other shipped model has the same data."""
    at = new_app()
    at.session_state[K.ACTIVE_MODEL] = str(PRETRAINED_DIR / "fashion-tutorial")
    at = _open_compare(at.run())
    assert not [s for s in at.selectbox if s.key == K.COMPARE_PICK]
    assert any("No other model of this data" in i.value for i in at.info)


def test_switching_the_active_model_forgets_the_mark() -> None:
    """Switching the active model forgets the mark."""
    at = _open_compare(_app(), TUTORIAL)
    send_event(at, MAP, "commit", [0.0, 0.0, 5], key=K.COMPARE_MAP_A)
    assert at.session_state[K.COMPARE_INDEX] == 5
    at.session_state[K.ACTIVE_MODEL] = str(PRETRAINED_DIR / "mnist-tutorial")
    at.run()
    assert not at.exception
    assert K.COMPARE_INDEX not in at.session_state
    # The compared model became the active one: it is no longer offered.
    box = at.selectbox(key=K.COMPARE_PICK)
    assert box.value is None
    names = sorted(label.split(" · ")[0] for label in box.options)
    assert names == _shipped_mnist("mnist-tutorial")
