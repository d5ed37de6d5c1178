"""Typed results of an edit, and how they are written to a run folder.

Every editor's result (Frame2Frame's `EditResult`, the single-step editors' `ImageEditResult`)
is an `EditResultBase`: the fields every edit has, one `save`, and one record header
(`record_header`) at the top of every record.json.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Sequence

from PIL import Image

from .errors import F2FError
from .imaging import collage, image_hash, save_image, save_video, strip
from .pages import render_report
from .presets import TINY_NOTICE
from .records import atomic_folder, recover_folder, temp_prefix, write_json_atomic, write_text_atomic
from .selection import tile_frames, tile_of
from .version import __version__

RUN_FILES = ("source.png", "edited.png", "video.mp4", "strip.png", "collage.png", "record.json", "report.html")
# Written only by a refined edit (`Preset.refine`): the refined image (also edited.png) and the frame it came from.
REFINED_FILES = ("refined.png", "chosen.png")


def check_writable(out: str | Path, overwrite: bool = False, files: tuple[str, ...] = RUN_FILES) -> Path:
    """Refuse to write into a folder that already holds a run, unless told to overwrite.

    For a run that writes a record.json, a file with one of the run's names that no recorded earlier
    run wrote (a user's own chosen.png, say) is refused even with `overwrite`: only files an earlier
    run's record lists (`recorded_files`) are ever replaced or deleted. Leftovers of a killed writer
    are cleaned up first (`records.recover_folder`).
    """
    out = Path(out)
    recover_folder(out)
    if out.exists() and not out.is_dir():
        raise F2FError(f"'{out}' exists and is not a folder; choose another --out.")
    existing = [name for name in files if (out / name).exists()]
    if "record.json" in files and existing:
        foreign = [name for name in existing if name not in recorded_files(out, files)]
        if foreign:
            raise F2FError(f"'{out}' holds {', '.join(foreign)}, which no recorded run wrote there; move "
                           f"{'it' if len(foreign) == 1 else 'them'} away or choose another --out (--overwrite never deletes them).")
    if existing and not overwrite:
        raise F2FError(f"'{out}' already holds a run ({', '.join(existing)}); pass --overwrite or choose another --out.")
    return out


def recorded_files(out: str | Path, files: tuple[str, ...] = RUN_FILES + REFINED_FILES) -> set[str]:
    """The files of `files` that the run recorded in `out` wrote: none without record.json.

    A record lists its files ("files"); an older record without that list owns the run files
    of `files`, and refined.png / chosen.png only when its refinement happened.
    """
    out = Path(out)
    if not (out / "record.json").is_file():
        return set()
    try:
        record = json.loads((out / "record.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = None
    if isinstance(record, dict) and isinstance(record.get("files"), list):
        return {str(name) for name in record["files"]} | {"record.json"}
    refined = isinstance(record, dict) and isinstance(record.get("refine"), dict) and record["refine"].get("refined")
    return {name for name in files if refined or name not in REFINED_FILES}


def save_or_recover(result: "EditResultBase", out: str | Path, overwrite: bool = False) -> Path:
    """`result.save(out)`; when the disk refuses (full, read-only, gone), save it in a recovery folder instead.

    The computed edit is never lost to a failed write: the F2FError names where it was kept
    (under the system's temporary folder) and why `out` failed.
    """
    try:
        return result.save(out, overwrite=overwrite)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        name = re.sub(r"[^\w.-]", "_", Path(out).name) or "run"
        try:
            base = Path(tempfile.gettempdir()) / "f2f-recovered"
            base.mkdir(parents=True, exist_ok=True)
            recovery = Path(tempfile.mkdtemp(prefix=f"{name}-{time.strftime('%Y%m%d-%H%M%S')}-", dir=base))
            result.save(recovery, overwrite=True)
        except OSError as again:
            raise F2FError(f"Could not write '{out}' ({reason}), nor a recovery copy ({again}); the edit is lost. "
                           "Free some space and rerun.") from None
        raise F2FError(f"Could not write '{out}' ({reason}); the computed edit is kept in '{recovery}'. "
                       f"Free space or fix '{Path(out).parent}', then move that folder to '{out}'.") from None


def record_header(method: str, source: Image.Image, target: str, *, tiny: bool) -> dict[str, Any]:
    """The first keys of every edit's record: the package version, the method, the tiny notice, the inputs."""
    return {
        "f2f_lab": __version__,
        "method": method,
        "notice": TINY_NOTICE if tiny else None,
        "inputs": {"image_sha256": image_hash(source), "image_size": list(source.size), "target": target},
    }


@dataclass(kw_only=True)
class EditResultBase:
    """What every edit holds, whichever editor made it, and how it is saved.

    source: the input image; source_output: the source at the output geometry (so that
    metrics compare like with like); `image` (a field or a property of the subclass): the
    edit at that geometry; record: everything that made it (`record_header` first).
    A subclass names the files it writes (`files`) and adds its own to `_write_more`.
    """

    files: ClassVar[tuple[str, ...]] = ("source.png", "edited.png", "record.json")

    source: Image.Image
    target: str
    seed: int
    source_output: Image.Image
    timings: dict[str, float] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)
    tiny: bool = False
    metrics: dict[str, float] | None = None

    def save(self, out: str | Path, overwrite: bool = False) -> Path:
        """Write the run's files into `out`, all at once (`save_run`: a crash leaves no half-written run)."""
        return save_run(out, self._write_files, self.files, overwrite=overwrite)

    def _write_files(self, folder: Path) -> None:
        save_image(self.source_output, folder / "source.png")
        save_image(self.image, folder / "edited.png")
        self._write_more(folder)
        record = {**self._saved_record(), "files": list(self.written_files)}
        if self.metrics is not None:
            record["metrics"] = self.metrics
        write_json_atomic(folder / "record.json", record)

    @property
    def written_files(self) -> tuple[str, ...]:
        """The files `save` writes (listed in record.json, so that `--overwrite` replaces only these)."""
        return self.files

    def _write_more(self, folder: Path) -> None:
        """The subclass's own files, written before record.json."""

    def _saved_record(self) -> dict[str, Any]:
        return dict(self.record)


@dataclass(kw_only=True)
class EditResult(EditResultBase):
    """One Frame2Frame edit.

    image: the edit, cropped back to the source's geometry (512x512 for square sources);
    frames: every generated frame, cropped the same way; index: the chosen frame, 0 meaning
    the source itself; caption: the temporal caption that drove the video.

    refined: with post-refinement (`Preset.refine`, IF-Edit) the refined image, which is then
    `image`; refined_from: the frame it refined (the selector's choice, or the sharpest late frame).
    """

    files: ClassVar[tuple[str, ...]] = RUN_FILES + REFINED_FILES

    caption: str
    frames: list[Image.Image]
    index: int
    tiles: list[int] | None = None  # the frames the selector saw (default `selection.tile_frames`)
    fps: int = 8
    refined: Image.Image | None = None
    refined_from: int | None = None

    @property
    def image(self) -> Image.Image:
        if self.refined is not None:
            return self.refined
        return self.chosen_frame

    @property
    def chosen_frame(self) -> Image.Image:
        """The unrefined edit: the frame that was refined when refined, else the chosen frame (the source at 0)."""
        index = self.refined_from if self.refined is not None and self.refined_from is not None else self.index
        return self.source_output if index == 0 else self.frames[index]

    @property
    def tile_indices(self) -> list[int]:
        """The frames the selector saw, as tiles 1..n."""
        return list(self.tiles) if self.tiles is not None else tile_frames(len(self.frames))

    def with_index(self, index: int) -> "EditResult":
        """The same edit with another frame chosen by hand (0 = keep the source)."""
        if not 0 <= index < len(self.frames):
            raise F2FError(f"Frame {index} does not exist; choose 0..{len(self.frames) - 1}.")
        record = copy.deepcopy(self.record)
        selection = {k: v for k, v in record.get("selection", {}).items() if k not in ("tile", "fallback")}
        tile = tile_of(index, self.tile_indices) if index else None
        record["selection"] = {**selection, "index": index, "tile": tile, "selector": "manual", "previous_index": self.index}
        if self.refined is not None:  # the refinement described another choice: the frame chosen by hand is the edit
            record["refine"] = {**record.get("refine", {}), "refined": False, "dropped": True,
                                "reason": f"frame {index} was chosen by hand; the refinement of frame {self.refined_from} was dropped"}
        # The old scores describe the old frame; whoever shows metrics scores the new one again.
        return replace(self, index=index, record=record, metrics=None, refined=None, refined_from=None)

    def strip(self, height: int = 128) -> Image.Image:
        """The source (as 0) and the selector's tiles, the chosen one outlined."""
        indices = [0] + self.tile_indices
        if self.index not in indices:
            indices = sorted(indices + [self.index])
        # Index 0 means "keep the source", so the strip shows the source there, not video frame 0.
        frames = [self.source_output, *self.frames[1:]]
        return strip(frames, indices=indices, chosen=self.index, height=height)

    def collage(self, tile_size: int = 256) -> Image.Image:
        """The selection collage of Sec. 3.3: the source above the numbered tiles."""
        return collage(self.source_output, [self.frames[i] for i in self.tile_indices], tile_size=tile_size)

    def save(self, out: str | Path, overwrite: bool = False) -> Path:
        """Write source.png, edited.png, video.mp4, strip.png, collage.png, record.json, report.html.

        A refined edit also writes refined.png (the refined image, as edited.png) and chosen.png
        (the unrefined frame it came from); an unrefined one removes those of an earlier run.

        All at once: the files are written into a temporary folder beside `out`, which then
        becomes `out` in one rename (with `overwrite`, the earlier run is deleted only once the
        new one is in place). A crash or Ctrl-C while saving leaves no half-written run. A folder
        that holds other things too keeps them; the run's files are then moved in one by one,
        each whole, record.json last.
        """
        return super().save(out, overwrite=overwrite)

    @property
    def written_files(self) -> tuple[str, ...]:
        return RUN_FILES + (REFINED_FILES if self.refined is not None else ())

    def _write_files(self, folder: Path) -> None:
        super()._write_files(folder)
        write_text_atomic(folder / "report.html", render_report(self))

    def _write_more(self, folder: Path) -> None:
        save_video(self.frames, folder / "video.mp4", fps=self.fps)
        save_image(self.strip(), folder / "strip.png")
        save_image(self.collage(), folder / "collage.png")
        if self.refined is not None:
            save_image(self.refined, folder / "refined.png")
            save_image(self.chosen_frame, folder / "chosen.png")

    def _saved_record(self) -> dict[str, Any]:
        return {**self.record, "selection": {**self.record.get("selection", {}), "index": self.index}}


def save_run(out: str | Path, write_files, files: Sequence[str], *, overwrite: bool = False) -> Path:
    """Write a run's `files` into `out` with `write_files(folder)`, all at once (see `EditResult.save`).

    Refuses to replace an earlier run without `overwrite` (`check_writable`). When `out` holds
    nothing else, the files are written into a temporary folder that becomes `out` in one
    rename; otherwise they are moved in one by one, each whole, record.json last. A file of
    `files` that `write_files` did not write (an optional one) is removed from `out`, so that
    no file of an earlier run stays beside the new one.
    """
    out = check_writable(out, overwrite, files=tuple(files))
    others = [p.name for p in out.iterdir() if p.name not in files] if out.is_dir() else []
    mount = os.path.ismount(out)  # a mount point cannot be renamed over: its files go in one by one
    if not others and not mount:
        with atomic_folder(out, replace=overwrite) as tmp:
            write_files(tmp)
        return out
    staging = Path(tempfile.mkdtemp(prefix=temp_prefix(out.name), suffix=".tmp", dir=out if mount else out.parent))
    try:
        write_files(staging)
        for name in sorted(files, key=lambda name: name == "record.json"):
            if (staging / name).exists():
                os.replace(staging / name, out / name)
            else:
                (out / name).unlink(missing_ok=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out
