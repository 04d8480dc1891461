"""python -m vaeapp.refine and refined folders: what it writes, and that the
folder's map, figures and page encodes then agree."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from unit_helpers import tree_hashes

from vaeapp import refine as refine_cli
from vaeapp.core.config import RefineConfig
from vaeapp.explore.comparison import model_figures
from vaeapp.explore.facts import model_facts
from vaeapp.inference.refinement import refine
from vaeapp.store.format import PRETRAINED_DIR, ModelFolderError
from vaeapp.store.reading import load_model, read_record


@pytest.fixture
def folder(tmp_path, trained):
    """A copy of a tiny trained dense folder with its test images."""
    copy = tmp_path / "tiny"
    shutil.copytree(trained().folder, copy)
    metrics = json.loads((copy / "metrics.json").read_text())
    metrics.update(test_iwae_nll=500.0, test_iwae_se=1.0, iwae_samples=5)
    (copy / "metrics.json").write_text(json.dumps(metrics))
    return copy


def test_without_write_it_prints_and_changes_nothing(folder, npz_path, capsys):
    """Without --write the folder is untouched and both validation figures are
    printed."""
    before = tree_hashes(folder)
    argv = ["--model", str(folder), "--data", str(npz_path), "--steps", "5"]
    assert refine_cli.main(argv) == 0
    assert tree_hashes(folder) == before
    out = capsys.readouterr().out
    assert "validation (" in out and "with the encoder" in out and "refined" in out


def test_write_stores_the_refined_q_figures_and_settings(folder, npz_path, capsys):
    """--write stores the refined test q, the refined figures beside the
    encoder's, the settings, and drops the earlier q's IWAE figures; the page's
    encode of a test image then gives the q its map shows."""
    argv = ["--model", str(folder), "--data", str(npz_path), "--steps", "30"]
    assert refine_cli.main([*argv, "--learning-rate", "0.05", "--write"]) == 0
    model = load_model(folder)
    metrics = model.record.metrics
    assert model.record.refine == RefineConfig(steps=30, learning_rate=0.05)
    assert metrics["test_neg_elbo"] < metrics["encoder_test_neg_elbo"]
    assert metrics["val_neg_elbo"] < metrics["encoder_val_neg_elbo"]
    assert metrics["test_neg_elbo"] == pytest.approx(
        metrics["test_recon"] + metrics["test_kl"]
    )
    assert "test_iwae_nll" not in metrics and "iwae_samples" not in metrics
    x = model.test_images[:7].astype(np.float32) / 255
    mean, log_var = model.encode(x)
    np.testing.assert_allclose(mean, model.latent_mean[:7], atol=1e-5)
    np.testing.assert_allclose(log_var, model.latent_log_var[:7], atol=1e-5)
    assert not np.allclose(model.vae.encode(x)[0], mean, atol=1e-3)
    assert "written" in capsys.readouterr().out
    assert model_facts(model)["Posterior"].startswith("refined per image, 30 Adam")
    assert model_figures(model, model.latent_mean).posterior == "refined (30 steps)"


def test_a_folder_without_the_section_encodes_with_the_encoder(folder):
    """A folder whose config has no refine section uses the encoder's q."""
    model = load_model(folder)
    x = model.test_images[:3].astype(np.float32) / 255
    assert model.record.refine is None and "Posterior" not in model_facts(model)
    np.testing.assert_array_equal(model.encode(x)[0], model.vae.encode(x)[0])


def test_encode_applies_the_folders_settings(folder):
    """LoadedModel.encode is the encoder's q refined with the folder's settings."""
    config = json.loads((folder / "config.json").read_text())
    config["refine"] = {"steps": 3, "learning_rate": 0.01, "draws": 2, "seed": 4}
    (folder / "config.json").write_text(json.dumps(config))
    model = load_model(folder)
    x = model.test_images[:4].astype(np.float32) / 255
    expected = refine(model.vae, x, *model.vae.encode(x), RefineConfig(3, 0.01, 2, 4))
    np.testing.assert_array_equal(model.encode(x)[0], expected[0])


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"steps": 0}, "refine steps must be between 1 and 200"),
        ({"draws": 1000}, "refine draws must be between 1 and 16"),
        ({"learning_rate": "fast"}, "refine learning rate must be a number"),
        ({"steps": 5, "extra": 1}, "unknown keys"),
        ([5], "must be a JSON object"),
    ],
)
def test_a_malformed_section_refuses_the_folder(folder, section, message):
    """A refine section out of its limits makes the folder unusable, naming why."""
    config = json.loads((folder / "config.json").read_text())
    config["refine"] = section
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFolderError, match=message):
        read_record(folder)


def test_a_conv_folder_cannot_be_refined(tmp_path, capsys):
    """The command and the folder reader refuse refinement of a conv decoder."""
    copy = tmp_path / "conv"
    shutil.copytree(PRETRAINED_DIR / "mnist-conv", copy)
    with pytest.raises(SystemExit) as stop:
        refine_cli.main(["--model", str(copy), "--write"])
    assert stop.value.code == 2 and "dense decoder" in capsys.readouterr().err
    config = json.loads((copy / "config.json").read_text())
    config["refine"] = RefineConfig().to_dict()
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFolderError, match="needs a dense decoder"):
        read_record(copy)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--steps", "0"], "refine steps must be between 1 and 200"),
        (["--draws", "17"], "refine draws must be between 1 and 16"),
        (["--learning-rate", "2"], "refine learning rate must be in"),
    ],
)
def test_out_of_range_settings_exit_2(folder, argv, message, capsys):
    """A setting beyond its limits exits 2 with the limit named, writing nothing."""
    before = tree_hashes(folder)
    with pytest.raises(SystemExit) as stop:
        refine_cli.main(["--model", str(folder), *argv, "--write"])
    assert stop.value.code == 2 and message in capsys.readouterr().err
    assert tree_hashes(folder) == before


def test_a_refined_folder_survives_download_and_upload(folder, npz_path, tmp_path):
    """The zip of a refined folder uploads back with its refinement and its map."""
    import io
    import zipfile

    from vaeapp.store.upload import import_model_zip

    argv = ["--model", str(folder), "--data", str(npz_path), "--steps", "5"]
    assert refine_cli.main([*argv, "--write"]) == 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
    uploaded = load_model(import_model_zip(buffer.getvalue(), tmp_path / "up", "back"))
    assert uploaded.record.refine == RefineConfig(steps=5)
    np.testing.assert_array_equal(uploaded.latent_mean, load_model(folder).latent_mean)


def test_data_that_is_not_the_folders_is_refused(folder, tmp_path, capsys):
    """Another data set's validation split is refused: its test set differs."""
    from unit_helpers import synthetic_arrays, write_npz

    other = write_npz(tmp_path / "other.npz", synthetic_arrays(seed=5))
    before = tree_hashes(folder)
    with pytest.raises(SystemExit) as stop:
        refine_cli.main(["--model", str(folder), "--data", str(other), "--write"])
    assert stop.value.code == 2 and "not this folder's" in capsys.readouterr().err
    assert tree_hashes(folder) == before
