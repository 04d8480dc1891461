"""python -m vaeapp.evaluate: the figures it prints and adds to metrics.json."""

from __future__ import annotations

import json
import shutil

import pytest

from vaeapp import evaluate
from vaeapp.store.format import PRETRAINED_DIR
from vaeapp.store.reading import load_model


@pytest.fixture
def folder(tmp_path):
    copy = tmp_path / "tutorial"
    shutil.copytree(PRETRAINED_DIR / "mnist-tutorial", copy)
    return copy


def test_write_adds_the_figures_and_the_folder_still_loads(folder, capsys):
    """--write adds (or replaces) the IWAE estimate, its K, its image count and
    the 5-NN accuracy in metrics.json, keeps the other figures, and the folder
    loads."""
    before = json.loads((folder / "metrics.json").read_text())
    code = evaluate.main(
        ["--model", str(folder), "--samples", "5", "--images", "50", "--write"]
    )
    assert code == 0
    after = json.loads((folder / "metrics.json").read_text())
    assert after["iwae_samples"] == 5 and after["iwae_images"] == 50
    assert 0 < after["test_iwae_nll"] < 400 and after["test_iwae_se"] > 0
    assert 0.5 < after["knn5_accuracy"] <= 1.0
    kept = set(before) - set(evaluate.Figures(0, 0, 1, 1, 0).as_metrics())
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
    assert load_model(folder).record.metrics["iwae_samples"] == 5
    printed = capsys.readouterr().out
    assert "IWAE -log p(x)" in printed and "K = 5, 50 images" in printed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "no-such-model"], "no model 'no-such-model'"),
        (["--model", "mnist-tutorial", "--samples", "-1"], "--samples must be"),
        (["--model", "mnist-tutorial", "--images", "-1"], "must be 0 or more"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv, message, capsys):
    """An unknown model or an out-of-range number exits 2 naming the problem."""
    with pytest.raises(SystemExit) as stopped:
        evaluate.main(argv)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err
