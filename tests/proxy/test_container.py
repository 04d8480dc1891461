"""What the container image runs, tested without a container.

This machine cannot build the image (no registry to pull ``python:3.11-slim``
from; docs/deployment.md records the error), so these tests check the
Dockerfile's promises one by one: its instructions as parsed (slim base,
non-root user owning exactly the folders the app writes, the models volume,
the entry point), its HEALTHCHECK line run against a live server and a dead
port, the entry point's command run with the image's environment, and
compose.yaml's services and nginx configuration.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from proxy_helpers import REPO

from deploy import replicas
from devtools import server as devserver
from vaeapp.store.format import HOME_ENV

DOCKERFILE = REPO / "Dockerfile"
COMPOSE = REPO / "compose.yaml"
PAGE_DIR_ENV = "VAEAPP_PAGE_DIR"  # vaeapp serve's page folder (vaeapp/ui/serve.py)
HEALTH_TIMEOUT_S = 30


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined
    and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def image_env() -> dict[str, str]:
    """The ENV the image sets (``KEY=value`` pairs)."""
    env = {}
    for word, rest in instructions():
        if word == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def only(word: str) -> str:
    """The arguments of the Dockerfile's one ``word`` instruction."""
    found = [rest for w, rest in instructions() if w == word]
    assert len(found) == 1, (word, found)
    return found[0]


def exec_form(arguments: str) -> list[str]:
    """A JSON-array (exec form) instruction's command."""
    command = json.loads(arguments)
    assert isinstance(command, list) and all(isinstance(a, str) for a in command)
    return command


def health_command() -> list[str]:
    """The HEALTHCHECK's command (its options before CMD left out)."""
    options, _, command = only("HEALTHCHECK").partition("CMD ")
    assert "--start-period=" in options and "--timeout=" in options
    return exec_form(command)


def test_the_image_is_slim_and_runs_as_a_user_owning_only_its_data() -> None:
    """A slim Python base; the install runs as root, then USER switches to an
    unprivileged user, which owns the models folder (VAEAPP_HOME, the volume)
    and the page folder and nothing else."""
    assert re.fullmatch(r"python:3\.\d+-slim", only("FROM"))
    words = [w for w, _ in instructions()]
    user = only("USER")
    assert user not in ("root", "0") and words.index("USER") > max(
        i for i, w in enumerate(words) if w == "RUN"
    )
    env = image_env()
    home, page = env[HOME_ENV], env[PAGE_DIR_ENV]
    assert exec_form(only("VOLUME")) == [home]
    runs = " ".join(rest for w, rest in instructions() if w == "RUN")
    owned = re.search(rf"chown -R {user}:{user} (\S+)", runs)
    assert owned is not None
    for folder in (home, page):
        assert Path(folder).is_relative_to(owned.group(1)), folder
        assert "mkdir -p" in runs and folder in runs
    assert env["STREAMLIT_SERVER_ADDRESS"] == "0.0.0.0"


def test_the_install_takes_the_roles_extras_from_a_build_argument() -> None:
    """ARG EXTRAS (empty: the page alone) picks the extras pip installs from
    the checkout, constrained by requirements.txt's pins (extras stripped, as
    the image's sed does); the entry point is the vaeapp command serving the
    page."""
    assert 'EXTRAS=""' in [rest for w, rest in instructions() if w == "ARG"]
    runs = [rest for w, rest in instructions() if w == "RUN"]
    install = '--constraint /tmp/constraints.txt ".${EXTRAS:+[${EXTRAS}]}"'
    assert any(f"pip install {install}" in run for run in runs)
    assert exec_form(only("ENTRYPOINT")) == ["vaeapp"]
    assert exec_form(only("CMD")) == ["serve"]
    (script,) = re.findall(r"sed '([^']+)' requirements\.txt", " ".join(runs))
    stripped = subprocess.run(
        ["sed", script, str(REPO / "requirements.txt")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    pins = [line for line in stripped.splitlines() if "==" in line]
    assert pins and not any("[" in line for line in pins)
    assert "jax==" in stripped and "tensorflow==" in stripped


def run_health(port: int) -> subprocess.CompletedProcess:
    """The HEALTHCHECK's command with the image's port variable set to ``port``."""
    env = {**os.environ, "STREAMLIT_SERVER_PORT": str(port)}
    command = health_command()
    assert command[0] == "python"
    return subprocess.run(
        [sys.executable, *command[1:]], env=env, capture_output=True,
        timeout=HEALTH_TIMEOUT_S,
    )  # fmt: skip


def test_the_health_check_passes_on_a_live_server_and_fails_on_a_dead_port(
    tmp_path: Path,
) -> None:
    """The HEALTHCHECK line exits 0 against a running page server and
    non-zero where nothing listens."""
    with devserver.running("app.py", log_path=tmp_path / "server.log") as server:
        port = int(server.url.rsplit(":", 1)[1])
        done = run_health(port)
        assert done.returncode == 0, done.stderr
    assert run_health(devserver.free_port()).returncode != 0


def entry_command() -> list[str] | None:
    """ENTRYPOINT + CMD as this machine can run them: the installed command,
    else the checkout's ``python -m vaeapp`` (run with the checkout on
    PYTHONPATH), else None."""
    entry = exec_form(only("ENTRYPOINT")) + exec_form(only("CMD"))
    found = shutil.which(entry[0])
    if found:
        return [found, *entry[1:]]
    if (REPO / entry[0] / "__main__.py").is_file():
        return [sys.executable, "-m", entry[0], *entry[1:]]
    return None


def test_the_entry_point_serves_the_page_with_the_images_environment(
    tmp_path: Path,
) -> None:
    """ENTRYPOINT + CMD run with the image's environment (its folders moved
    into a temporary one) answer the health check and write only into the
    page folder the image gives its user."""
    command = entry_command()
    if command is None:
        pytest.skip("no vaeapp command: neither installed nor vaeapp/__main__.py")
    env = {**os.environ, **image_env(), "STREAMLIT_SERVER_ADDRESS": "127.0.0.1"}
    port = devserver.free_port()
    env.update(
        {
            HOME_ENV: str(tmp_path / "models"),
            PAGE_DIR_ENV: str(tmp_path / "page"),
            "STREAMLIT_SERVER_PORT": str(port),
            "HOME": str(tmp_path / "home"),  # nothing may be written there
            "PYTHONPATH": str(REPO),  # for python -m vaeapp from the checkout
        }
    )
    workdir = tmp_path / "work"
    workdir.mkdir()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        command, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + devserver.START_TIMEOUT_S
        while not devserver.answers(f"http://127.0.0.1:{port}"):
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "no answer from vaeapp serve"
            time.sleep(0.2)
        assert run_health(port).returncode == 0
    finally:
        devserver.stop_process(process)
        log.close()
    assert (tmp_path / "page" / "app.py").is_file()
    assert not list(workdir.iterdir())
    assert not (tmp_path / "home").exists()


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_runs_replicas_of_the_image_behind_nginx_on_one_models_volume() -> None:
    """compose.yaml: the app is built from the Dockerfile with a known extras
    argument, restarts unless stopped, shares one models volume and one page
    folder at the image's paths; nginx restarts too and mounts the rendered
    configuration."""
    document = compose()
    app, proxy = document["services"]["app"], document["services"]["proxy"]
    assert app["build"]["context"] == "."
    assert app["build"]["args"]["EXTRAS"] in ("", "train", "jax", "train,jax")
    assert app["deploy"]["replicas"] >= 2
    env = image_env()
    mounts = {v.split(":")[1]: v.split(":")[0] for v in app["volumes"]}
    assert mounts[env[HOME_ENV]] == "models"
    assert mounts[app["environment"][PAGE_DIR_ENV]] == "page"
    assert set(document["volumes"]) == {"models", "page"}
    assert app["restart"] == proxy["restart"] == "unless-stopped"
    assert app["expose"] == [env["STREAMLIT_SERVER_PORT"]]
    source, target = proxy["volumes"][0].split(":")[:2]
    assert (REPO / source).resolve() == replicas.COMPOSE_CONFIG
    assert target in proxy["command"]


def test_the_compose_nginx_config_is_deploy_nginx_conf_rendered() -> None:
    """deploy/compose-nginx.conf is what --print-compose-config writes from
    deploy/nginx.conf: the same sticky cookie and gzip, the app service's
    replicas re-resolved in every upstream, listening on the published port."""
    text = replicas.COMPOSE_CONFIG.read_text()
    assert text == replicas.render_compose_config()
    shipped = replicas.CONFIG.read_text()
    for kept in ("hash $vaeapp_route consistent;", "gzip_proxied any;"):
        assert kept in shipped and kept in text
    servers = re.findall(r"^\s*server (\S+)(.*);$", text, re.M)
    assert servers == [("app:8501", " resolve")] * 2
    published = compose()["services"]["proxy"]["ports"][0]
    assert published.endswith(f":{replicas.COMPOSE_LISTEN}")
    assert re.findall(r"listen (\S+);", text) == [str(replicas.COMPOSE_LISTEN)]
