"""What a run did, written so that a reader never sees half a file.

Every run folder gets a `record.json`: inputs' hashes, parameters, model ids, timings and
library versions. Secrets never go in: keys are dropped by name before writing.
"""

from __future__ import annotations

import errno
import json
import os
import platform
import re
import shutil
import socket
import sys
import tempfile
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from .errors import F2FError

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
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.stem), suffix=path.suffix, dir=path.parent)
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
    temporary folder, so a reader never sees a half-written folder under `path`. The temporaries are
    named `.NAME.HOST-PID.XXXX.tmp` (and `.old`), so that what a SIGKILL leaves is cleaned up by the
    next writer of `path` (`recover_folder`, called first).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    recover_folder(path)  # what a killed writer left here: its temporaries removed, a lone earlier run put back
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=path.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700 folders; give it the usual mode
    old = None
    try:
        yield tmp
        if path.is_dir() and any(path.iterdir()):
            if not replace:
                raise FileExistsError(f"'{path}' is not empty")
            old = Path(tempfile.mkdtemp(prefix=temp_prefix(path.name), suffix=".old", dir=path.parent))
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


# -- what a killed writer leaves, and where a writer may write -------------------------------

def _owner() -> str:
    """This process in a temporary's name: host and pid, so that only a dead process's leftovers are removed."""
    host = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"
    return f"{host}-{os.getpid()}"


def temp_prefix(name: str) -> str:
    """The prefix of a temporary beside `name`: `.NAME.HOST-PID.` (then tempfile's random part and .tmp/.old)."""
    return f".{name}.{_owner()}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    except OSError:
        return True  # unsure: keep its files
    return True


def recover_folder(path: str | os.PathLike) -> list[str]:
    """Clean up after a writer of `path` that was killed (SIGKILL, power loss): returns what was done, in words.

    `atomic_folder` and `atomic_path` name their temporaries `.NAME.HOST-PID.XXXX.tmp` (and, while a
    folder is being replaced, the earlier one `.NAME.HOST-PID.XXXX.old`). Those of a process of this
    host that is no longer running are removed; a `.old` whose `path` is missing (killed between the
    two renames of a replace) is the earlier run, and is put back as `path` instead. Temporaries of
    live processes, and of other hosts (a shared filesystem), are left alone.
    """
    path = Path(path)
    parent = path.parent
    host = _owner().rsplit("-", 1)[0]
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.{re.escape(host)}-(\d+)\.[A-Za-z0-9_]+\.(tmp|old)$")
    done = []
    try:
        entries = sorted(parent.iterdir())
    except OSError:
        return done
    for entry in entries:
        match = pattern.match(entry.name)
        if not match or int(match.group(1)) == os.getpid() or _alive(int(match.group(1))):
            continue
        try:
            if match.group(2) == "old" and not path.exists() and entry.is_dir():
                os.replace(entry, path)
                done.append(f"put back the earlier '{path.name}' from {entry.name}")
            elif entry.is_dir():
                shutil.rmtree(entry)
                done.append(f"removed {entry.name}")
            else:
                entry.unlink()
                done.append(f"removed {entry.name}")
        except OSError:
            continue
    return done


def check_writable_dir(path: str | os.PathLike, what: str = "--out", *, beside: bool = True) -> Path:
    """Refuse, in one line, a folder that cannot be written: checked before any model loads.

    `path` need not exist: a file is created and removed in it, or in its nearest existing
    ancestor (where it will be made). Refused: `path` or an ancestor being a file, a read-only or
    otherwise unwritable folder (permissions, a read-only mount, an immutable folder). With `beside`
    (runs are written beside `path` and renamed into place), an existing `path`'s parent must take
    files too, unless `path` is a mount point (whose runs are written inside it).
    """
    path = Path(path)
    probe_in = path
    while not probe_in.exists():
        if probe_in.is_symlink():  # a dangling link: mkdir would fail there
            raise F2FError(f"{what} '{path}': '{probe_in}' is a broken link; choose another {what}.")
        if probe_in.parent == probe_in:
            break
        probe_in = probe_in.parent
    if not probe_in.is_dir():
        where = "is" if probe_in == path else f"is under '{probe_in}', which is"
        raise F2FError(f"{what} '{path}' {where} a file, not a folder; choose another {what}.")
    probes = [probe_in] + ([path.parent] if beside and probe_in == path and not os.path.ismount(path) else [])
    try:
        for probe_in in probes:
            fd, probe = tempfile.mkstemp(prefix=temp_prefix("write-check"), suffix=".tmp", dir=probe_in)
            os.close(fd)
            os.remove(probe)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        hint = "free some space or" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "fix its permissions or"
        raise F2FError(f"{what} '{path}' cannot be written ('{probe_in}': {reason}); {hint} choose another {what}.") from None
    return path


def check_writable_file(path: str | os.PathLike, what: str = "--json") -> Path:
    """`check_writable_dir` for a file to be written: its folder must be writable, and `path` not a folder."""
    path = Path(path)
    if path.is_dir():
        raise F2FError(f"{what} '{path}' is a folder; name a file, e.g. '{path / 'out.json'}'.")
    check_writable_dir(path.parent, what, beside=False)
    return path
