"""The stand-ins' cache: each tiny folder is built once, atomically, and kept.

The cache lives in `$F2F_CACHE` (default `~/.cache/f2f_lab`); folders are keyed by
`CACHE_VERSION` and the diffusers version, and built in a temporary folder renamed into
place, so parallel test processes and interrupted builds never see half a model.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

CACHE_VERSION = 5  # bump whenever any stand-in's configuration changes: every tiny folder rebuilds


def cache_root() -> Path:
    return Path(os.environ.get("F2F_CACHE", Path.home() / ".cache" / "f2f_lab"))


def build_once(name: str, build: Callable[[Path], None]) -> Path:
    """The folder `cache_root()/tiny/<name>-v<CACHE_VERSION>-diffusers<version>`, built by `build(tmp_dir)` if it is not there yet."""
    import diffusers

    target = cache_root() / "tiny" / f"{name}-v{CACHE_VERSION}-diffusers{diffusers.__version__}"
    if (target / ".complete").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        build(tmp)
        (tmp / ".complete").write_text("ok\n")
        try:
            os.rename(tmp, target)
        except OSError:  # another process finished first; theirs is as good as ours
            if not (target / ".complete").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def seed() -> None:
    """Seed torch before a module is built, so every build writes the same weights."""
    import torch

    torch.manual_seed(0)
