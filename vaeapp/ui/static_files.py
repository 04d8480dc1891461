"""Files the browser may cache, published under Streamlit's static serving.

With ``server.enableStaticServing`` (on in ``.streamlit/config.toml``),
Streamlit serves the ``static/`` folder next to ``app.py`` at ``app/static/``,
gzip-compressed, with an ``ETag`` and a ``Last-Modified`` date but no
``Cache-Control``. What the page needs on every visit and that does not change
between visits (the map library's bundle, the component scripts, a model's decoder
weights and map points) is written there once, named by a hash of its content,
so a new model or a new script always gets a new URL and an old URL never
serves new bytes. The files' modification time is set to a fixed date long
past: browsers then keep a response without ``Cache-Control`` for a tenth of
its age (the standard heuristic freshness), which is years here, and never ask
again. Nothing in this folder is private: every session receives the same
bytes anyway.

Files are written atomically (a temporary file in the same folder, then
``os.replace``), by any number of server processes at once. Without static
serving, or when the folder cannot be written, :func:`publish` returns None and
the caller sends the bytes through the websocket as before.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import streamlit as st

SUBFOLDER = "vaeapp"  # under static/: everything in it is generated, safe to delete
URL_PREFIX = "app/static"  # Streamlit's route, relative to the page's base URL
# 2000-01-01 UTC: the Last-Modified date of every published file (see above).
_OLD_MTIME = 946_684_800

_published: dict[Path, bool] = {}


def _folder() -> Path | None:
    """``static/vaeapp`` next to the running script, or None without static
    serving (or outside ``streamlit run``)."""
    if not st.get_option("server.enableStaticServing"):
        return None
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or not ctx.main_script_path:
        return None
    return Path(ctx.main_script_path).resolve().parent / "static" / SUBFOLDER


def content_name(stem: str, data: bytes, suffix: str) -> str:
    """``stem.<16 hex digits of data's SHA-256>.suffix``."""
    return f"{stem}.{hashlib.sha256(data).hexdigest()[:16]}.{suffix}"


def write_atomically(path: Path, data: bytes, mtime: float | None = None) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder
    and ``os.replace``, so no reader ever sees a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; it is served to anyone
        if mtime is not None:
            os.utime(tmp, (mtime, mtime))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def publish(stem: str, data: bytes, suffix: str) -> str | None:
    """Make ``data`` a static file named by its content; return its URL
    relative to the page (``app/static/vaeapp/<name>``), or None when static
    serving is off or the file cannot be written.

    Cheap to call on every run: a file already published is only checked to
    still exist (it is written again if someone removed it).
    """
    folder = _folder()
    if folder is None:
        return None
    name = content_name(stem, data, suffix)
    path = folder / name
    if not (_published.get(path) and path.exists()):
        try:
            if not path.exists():
                write_atomically(path, data, _OLD_MTIME)
        except OSError:
            return None
        _published[path] = True
    return f"{URL_PREFIX}/{SUBFOLDER}/{name}"
