"""AppTest tests of a model with more than two latent dimensions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app_helpers import explorer_data
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def test_five_dimensional_model_gets_sliders_and_chosen_map_dims(
    small_mnist: Path, isolated_home: Path
) -> None:
    """A 5-D model has one slider per dimension and the map shows chosen dims."""
    command = [
        sys.executable,
        "-m",
        "vaeapp.train",
        "--latent-dim",
        "5",
        "--hidden",
        "16",
        "--epochs",
        "1",
        "--batch-size",
        "50",
        "--train-size",
        "200",
        "--out",
        str(isolated_home),
        "--name",
        "five",
        "--quiet",
    ]
    subprocess.run(command, cwd=ROOT, check=True, timeout=300)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["active_model"] = str(isolated_home / "five")
    at.run()
    assert not at.exception
    assert len([s for s in at.slider if s.key.startswith("z_slider_")]) == 5
    at.selectbox(key="map_x").set_value(2).run()
    at.selectbox(key="map_y").set_value(4).run()
    data = explorer_data(at)
    assert data["dims"] == [2, 4]
    assert data["assets"]["points"], "new dimensions resend the map's points"
    assert len(data["z"]) == 5
    at.slider(key="z_slider_4").set_value(1.25).run()
    assert explorer_data(at)["z"][4] == 1.25
