"""What a run did, written so that a reader never sees half a file.

Every run folder gets a `record.json`: inputs' hashes, parameters, model ids, timings and
library versions. Secrets never go in: keys are dropped by name before writing.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import sys
import tempfile
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

# "api_key", "hf_token", "secret"... but not "prompt_tokens" (usage counts belong in records).
_SECRET_KEY = re.compile(r"(api[_-]?key|secret|password|authorization|(^|_)token$)", re.IGNORECASE)
_SNAPSHOT = re.compile(r"snapshots[/\\]([0-9a-f]{40})")


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose behaviour a result depends on."""
    versions = {"python": platform.python_version()}
    for name in ("f2f_lab", "torch", "diffusers", "transformers", "open_clip_torch", "lpips", "openai", "accelerate"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    torch = sys.modules.get("torch")
    if torch is not None:  # the build tag (+cu130, +cpu) matters for reproducing numbers
        versions["torch"] = torch.__version__
        versions["cuda"] = torch.version.cuda
    return versions


def revision_of(path: str | os.PathLike | None) -> str | None:
    """The hub commit a model was loaded from, read off its cache path (None when unknown)."""
    if path is None:
        return None
    match = _SNAPSHOT.search(str(path))
    return match.group(1) if match else None


def scrub(value: Any) -> Any:
    """A copy of `value` with every secret-looking key removed, ready for JSON."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if not _SECRET_KEY.search(str(k))}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside `path`; on success it replaces `path` in one step.

    A crash or Ctrl-C leaves either the old file or the new one, never half of either.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; give them the usual mode
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    return Path(path)


def write_json_atomic(path: str | os.PathLike, data: Any) -> Path:
    return write_text_atomic(path, json.dumps(scrub(data), indent=2, sort_keys=False, default=str) + "\n")


@contextmanager
def atomic_folder(path: str | os.PathLike, *, replace: bool = False):
    """Yield an empty temporary folder beside `path`; when the block ends without error it becomes `path`.

    `path` must be missing or an empty folder (it is then replaced in one rename), or, with
    `replace`, a folder that is swapped out for the new one and deleted only once the new one
    is in place. A crash or Ctrl-C inside the block leaves `path` as it was and removes the
    temporary folder, so a reader never sees a half-written folder under `path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700 folders; give it the usual mode
    old = None
    try:
        yield tmp
        if path.is_dir() and any(path.iterdir()):
            if not replace:
                raise FileExistsError(f"'{path}' is not empty")
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old)  # `old` was empty: a folder may replace an empty folder
            try:
                os.replace(tmp, path)
            except BaseException:
                if not path.exists():
                    os.replace(old, path)  # put the earlier folder back
                    old = None
                raise
        else:
            os.replace(tmp, path)  # missing or empty: one rename
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
