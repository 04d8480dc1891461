"""The training benchmark's summary: what it pools, leaves out and reports."""

from __future__ import annotations

import pytest

from bench.training_speed import Run, format_table, summarise


def run(train: list[float], elbo: float) -> Run:
    return Run(
        label="x",
        train_seconds=train,
        epoch_seconds=[t + 0.5 for t in train],
        train_cpu_seconds=[2 * t for t in train],
        test_neg_elbo=elbo,
        jit_compile=True,
        steps_per_execution=100,
    )


def test_summary_leaves_out_first_epochs_and_pools_the_rounds():
    """Medians and minimum pool epochs 2+ of all rounds; ELBOs are averaged."""
    row = summarise(
        "x", "d", [run([9.0, 1.0, 3.0], 160.0), run([7.0, 2.0, 4.0], 162.0)]
    )
    assert row.first_epoch_s == pytest.approx(8.0)
    assert row.median_epoch_s == pytest.approx(2.5)
    assert row.fastest_epoch_s == pytest.approx(1.0)
    assert row.median_cpu_s == pytest.approx(5.0)
    assert row.validation_s == pytest.approx(0.5)
    assert row.test_neg_elbo == pytest.approx(161.0)
    assert row.rounds == 2


def test_table_has_a_line_per_configuration():
    """The table: a header, a rule, then one line per configuration with its label."""
    rows = [summarise(label, "d", [run([3.0, 2.0], 160.0)]) for label in ("a", "b")]
    lines = format_table(rows, epochs=2)
    assert len(lines) == 4
    assert lines[2].startswith("a ") and lines[3].startswith("b ")
