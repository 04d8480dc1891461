"""The map's stored data: per-image figures and planes in a model folder,
their checks, the figures against the training loss, a click on a stored
plane, and the synthetic big folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from devtools.big_model import big_model_folder
from vaeapp.explore.projection import (
    StoredPlane,
    plane_click_to_z,
    stored_plane,
    views_of,
)
from vaeapp.explore.scores import knn_accuracy
from vaeapp.inference.figures import image_figures
from vaeapp.store.format import (
    FIGURES_FILE,
    LATENTS_FILE,
    PLANES_FILE,
    PRETRAINED_DIR,
    ModelFolderError,
)
from vaeapp.store.reading import load_model


@pytest.fixture(scope="module")
def tutorial():
    return load_model(PRETRAINED_DIR / "mnist-tutorial")


@pytest.fixture
def tutorial_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "mnist-tutorial"
    shutil.copytree(PRETRAINED_DIR / "mnist-tutorial", folder)
    return folder


def test_image_figures_are_the_training_loss_per_image(tutorial) -> None:
    """With one draw, each image's figures equal Keras's reconstruction_loss
    and kl_divergence (the training loss's terms) at the same z, and -ELBO is
    their sum."""
    keras_vae = pytest.importorskip("vaeapp.model.vae")
    x = tutorial.test_images[:50]
    mean = tutorial.latent_mean[:50].astype(np.float64)
    log_var = tutorial.latent_log_var[:50].astype(np.float64)
    got = image_figures(tutorial.vae, x, mean, log_var, draws=1, seed=3)
    eps = np.random.default_rng(3).standard_normal(mean.shape)
    z = (mean + np.exp(0.5 * log_var) * eps).astype(np.float32)
    logits = tutorial.vae.decode_logits(z)
    pixels = x.astype(np.float32) / 255.0
    recon = np.asarray(keras_vae.reconstruction_loss(pixels, logits))
    kl = np.asarray(keras_vae.kl_divergence(mean, log_var))
    np.testing.assert_allclose(got["recon"], recon, rtol=1e-4)
    np.testing.assert_allclose(got["kl"], kl, rtol=1e-4)
    np.testing.assert_allclose(got["elbo"], got["recon"] + got["kl"], rtol=1e-6)
    assert all(v.dtype == np.float32 and v.shape == (50,) for v in got.values())


def test_image_figures_average_to_the_folders_test_elbo(tutorial) -> None:
    """Averaged over the test set (10 draws), the per-image -ELBO is the
    folder's recorded test -ELBO within half a nat."""
    got = image_figures(
        tutorial.vae,
        tutorial.test_images,
        tutorial.latent_mean,
        tutorial.latent_log_var,
    )
    assert got["elbo"].mean() == pytest.approx(tutorial.record.test_neg_elbo, abs=0.5)


def test_image_figures_refuse_mismatched_shapes(tutorial) -> None:
    """Images of another size raise ValueError naming the expected shape."""
    with pytest.raises(ValueError, match="images must be"):
        image_figures(
            tutorial.vae, np.zeros((3, 10)), np.zeros((3, 2)), np.zeros((3, 2))
        )


def test_a_folder_without_map_files_opens_with_empty_figures(
    tutorial_copy: Path,
) -> None:
    """A folder written before the map's files: no figures, no planes, no
    file names, and it opens."""
    (tutorial_copy / FIGURES_FILE).unlink()
    model = load_model(tutorial_copy)
    assert model.figures == {} and model.planes == {}
    assert model.file_names is None


def test_the_shipped_20d_model_has_its_plane_and_figures() -> None:
    """mnist-20d ships its UMAP plane, on which 5-NN accuracy is at least 90 %
    (recorded in metrics.json), and per-image figures averaging to its test
    -ELBO."""
    model = load_model(PRETRAINED_DIR / "mnist-20d")
    assert views_of(model) == ("dimensions", "pca", "umap")
    assert stored_plane(model, "umap").points is model.planes["umap"]
    accuracy = knn_accuracy(model.planes["umap"], model.labels)
    assert accuracy >= 0.9
    assert model.record.metrics["knn5_accuracy_umap"] == accuracy
    assert float(model.figures["elbo"].mean()) == pytest.approx(
        model.record.test_neg_elbo, abs=0.1
    )


def test_stored_figures_and_plane_are_read_back(tutorial_copy: Path) -> None:
    """figures.npz and planes.npz written as float16/float64 come back as the
    same values in float32, read-only."""
    n = 10_000
    rng = np.random.default_rng(0)
    elbo = rng.uniform(50, 200, n)
    plane = rng.normal(size=(n, 2)).astype(np.float16)
    np.savez(tutorial_copy / FIGURES_FILE, elbo=elbo, kl=elbo / 4)
    np.savez(tutorial_copy / PLANES_FILE, umap=plane)
    model = load_model(tutorial_copy)
    assert set(model.figures) == {"elbo", "kl"}
    np.testing.assert_array_equal(model.figures["elbo"], elbo.astype(np.float32))
    np.testing.assert_array_equal(model.planes["umap"], plane.astype(np.float32))
    assert model.planes["umap"].dtype == np.float32
    assert not model.figures["elbo"].flags.writeable


@pytest.mark.parametrize(
    ("file", "arrays", "message"),
    [
        (FIGURES_FILE, {"elbo": np.zeros(9_999)}, "must be floats of shape"),
        (FIGURES_FILE, {"elbo": np.zeros(10_000, np.int32)}, "must be floats"),
        (FIGURES_FILE, {"elbo": np.full(10_000, np.nan)}, "finite"),
        (FIGURES_FILE, {"elbo": np.full(10_000, 1e30)}, "finite values within"),
        (FIGURES_FILE, {"other": np.zeros(10_000)}, "may hold only"),
        (PLANES_FILE, {"umap": np.zeros((10_000, 3))}, "must be floats of shape"),
        (PLANES_FILE, {"umap": np.full((10_000, 2), np.inf)}, "finite"),
        (PLANES_FILE, {"tsne": np.zeros((10_000, 2))}, "may hold only umap"),
    ],
)
def test_bad_map_files_make_the_folder_unusable(
    tutorial_copy: Path, file: str, arrays: dict, message: str
) -> None:
    """Wrong shapes, dtypes, NaN, huge values or unknown keys in the map's
    files raise ModelFolderError naming what is allowed."""
    np.savez(tutorial_copy / file, **arrays)
    with pytest.raises(ModelFolderError, match=message):
        load_model(tutorial_copy)


def test_a_non_npz_figures_file_is_refused(tutorial_copy: Path) -> None:
    """A figures.npz that is no zip raises ModelFolderError."""
    (tutorial_copy / FIGURES_FILE).write_bytes(b"not a zip" * 100)
    with pytest.raises(ModelFolderError, match="figures.npz"):
        load_model(tutorial_copy)


@pytest.mark.parametrize(
    "names",
    [
        np.array(["a.png"] * 9_999),
        np.array(["../../etc/passwd"] * 10_000),
        np.array(["bad\nname"] * 10_000),
        np.array([""] * 10_000),
        np.arange(10_000),
    ],
)
def test_bad_file_names_make_the_folder_unusable(
    tutorial_copy: Path, names: np.ndarray
) -> None:
    """File names must be one printable name without a separator per image."""
    with np.load(tutorial_copy / LATENTS_FILE) as npz:
        arrays = dict(npz)
    np.savez(tutorial_copy / LATENTS_FILE, **arrays, names=names)
    with pytest.raises(ModelFolderError, match="names must be"):
        load_model(tutorial_copy)


def _plane() -> StoredPlane:
    points = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    means = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1, 1]])
    return StoredPlane(points.astype(np.float32), means.astype(np.float32), "umap")


def test_a_click_on_a_point_of_a_stored_plane_selects_its_z() -> None:
    """Within the pick radius of a point, its latent mean, and the page is
    told which test image it was."""
    z, said = plane_click_to_z(_plane(), [10.02, 0.0])
    np.testing.assert_array_equal(z, [0.0, 1.0, 0.0])
    assert said == "test image #1"


@pytest.mark.parametrize("xy", [[np.nan, 0.0], [1.0], [np.inf, 1.0]])
def test_a_forged_click_is_refused(xy: list) -> None:
    """A click that is not two finite numbers raises ValueError."""
    with pytest.raises(ValueError, match="two finite numbers"):
        plane_click_to_z(_plane(), xy)


def test_stored_plane_of_a_folder_without_one_says_what_is_stored(tutorial) -> None:
    """Asking for a plane the folder lacks raises ValueError listing them."""
    with pytest.raises(ValueError, match=r"stores no 'umap' plane \(stored: none\)"):
        stored_plane(tutorial, "umap")


def test_knn_accuracy_matches_a_brute_force_vote() -> None:
    """Leave-one-out 5-NN accuracy equals a direct NumPy computation on
    random points (no ties in distance)."""
    rng = np.random.default_rng(5)
    points = rng.normal(size=(300, 2))
    labels = rng.integers(0, 4, 300)
    distance = np.square(points[:, None] - points[None]).sum(-1)
    np.fill_diagonal(distance, np.inf)
    nearest = np.argsort(distance, axis=1)[:, :5]
    right = 0
    for i, row in enumerate(labels[nearest]):
        counts = np.bincount(row, minlength=4)
        best = np.flatnonzero(counts == counts.max())
        vote = next(label for label in row if label in best)
        right += vote == labels[i]
    assert knn_accuracy(points, labels, 5) == pytest.approx(right / 300)


def test_the_big_model_generator_writes_a_folder_that_opens(tmp_path: Path) -> None:
    """A 5,000-point synthetic folder: float16 latents, its plane, figures,
    images decoded from its means and file names, all checked on load."""
    folder = big_model_folder(tmp_path / "big", 5_000, latent_dim=4)
    model = load_model(folder)
    assert model.latent_mean.shape == (5_000, 4)
    assert model.planes["umap"].shape == (5_000, 2)
    assert set(model.figures) == {"elbo", "recon", "kl"}
    assert model.test_images.shape == (5_000, 784)
    assert model.file_names[7] == "img-7.png"
    decoded = model.vae.decode(model.latent_mean[:10]) * 255
    assert np.abs(decoded - model.test_images[:10]).max() <= 0.5 + 1e-3
    assert knn_accuracy(model.planes["umap"], model.labels) > 0.9


def test_an_image_folders_held_out_images_keep_their_file_names(tmp_path) -> None:
    """Each held-out image of a folder carries the name of the file it was
    read from (pixel 0 spells the file's number), odd names made printable."""
    from PIL import Image

    from vaeapp.data.image_folder import shown_name
    from vaeapp.data.sources import load_dataset

    for i in range(40):
        pixels = np.full((8, 8), 7, np.uint8)
        pixels[0, 0] = i
        Image.fromarray(pixels).save(tmp_path / f"scan {i}.png")
    data = load_dataset("scans", tmp_path, test_share=0.25)
    spelled = np.rint(data.x_test[:, 0] * 255).astype(int)
    assert data.names_test.tolist() == [f"scan {i}.png" for i in spelled]
    assert shown_name("a\nb\\c.png") == "a_nb__c.png"
    assert len(shown_name("x" * 400)) == 255


def test_evaluate_map_writes_the_plane_and_figures_of_an_older_folder(
    tmp_path: Path, capsys
) -> None:
    """``python -m vaeapp.evaluate --samples 0 --map --write`` on a 4-D
    folder without map files: it gains a UMAP plane of all its test images
    on which the classes separate, per-image figures equal to NumPy's, and
    the plane's 5-NN accuracy in metrics.json."""
    pytest.importorskip("umap", reason="umap-learn makes the plane")
    import json

    from vaeapp import evaluate

    folder = big_model_folder(tmp_path / "older", 400, latent_dim=4)
    (folder / FIGURES_FILE).unlink()
    (folder / PLANES_FILE).unlink()
    before = load_model(folder)
    assert before.planes == {} and before.figures == {}
    code = evaluate.main(["--model", str(folder), "--samples", "0", "--map", "--write"])
    assert code == 0 and "UMAP plane" in capsys.readouterr().out
    model = load_model(folder)
    assert model.planes["umap"].shape == (400, 2)
    expected = image_figures(
        model.vae, model.test_images, model.latent_mean, model.latent_log_var
    )
    for key, values in expected.items():
        np.testing.assert_array_equal(model.figures[key], values)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["knn5_accuracy_umap"] == knn_accuracy(
        model.planes["umap"], model.labels
    )
    assert metrics["knn5_accuracy_umap"] > 0.9
    assert "test_iwae_nll" not in metrics


def test_a_published_model_carries_its_maps_figures_and_plane(trained) -> None:
    """A 3-D model published by training holds each test image's figures,
    equal to NumPy's from its stored q, and a UMAP plane of every test
    image; a 2-D one holds the figures and no plane."""
    pytest.importorskip("umap", reason="umap-learn makes the plane")
    model = load_model(trained(latent_dim=3).folder)
    assert model.planes["umap"].shape == (model.labels.shape[0], 2)
    expected = image_figures(
        model.vae, model.test_images, model.latent_mean, model.latent_log_var
    )
    for key, values in expected.items():
        np.testing.assert_array_equal(model.figures[key], values)
    flat = load_model(trained().folder)
    assert flat.planes == {} and set(flat.figures) == {"elbo", "recon", "kl"}


def test_a_new_q_removes_the_map_files_of_the_old_one(tutorial_copy: Path) -> None:
    """write_posterior (python -m vaeapp.refine --write) removes figures.npz
    and planes.npz, which describe the q it replaces."""
    from vaeapp.store.writing import write_posterior

    np.savez(tutorial_copy / PLANES_FILE, umap=np.zeros((10_000, 2), np.float32))
    model = load_model(tutorial_copy)
    assert model.figures and model.planes
    write_posterior(
        tutorial_copy,
        model.latent_mean,
        model.latent_log_var,
        dict(model.record.metrics),
        None,
    )
    after = load_model(tutorial_copy)
    assert after.figures == {} and after.planes == {}


def test_point_density_is_higher_in_a_cluster_and_about_right_when_uniform() -> None:
    """Uniform points on a 10 x 10 square: about n / 100 per unit area away
    from the border; a tight cluster added in a corner is far denser."""
    from vaeapp.explore.density import point_density

    rng = np.random.default_rng(0)
    uniform = rng.uniform(0, 10, (200_000, 2))
    cluster = rng.normal(1.0, 0.05, (5_000, 2))
    density = point_density(np.concatenate([uniform, cluster]))
    middle = (np.abs(uniform - 5) < 2).all(axis=1)
    assert np.median(density[:200_000][middle]) == pytest.approx(2_000, rel=0.1)
    assert np.median(density[200_000:]) > 20 * np.median(density[:200_000][middle])
    with pytest.raises(ValueError, match="finite"):
        point_density(np.array([[0.0, np.nan]]))
