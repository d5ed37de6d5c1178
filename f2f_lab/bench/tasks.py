"""One benchmark task: a source image, a target caption, and (PosEdit) a ground-truth target."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import F2FError
from ..resources import data_path

DATA_TASKS = data_path("tasks")


@dataclass(frozen=True)
class BenchTask:
    """What one editing task gives every method.

    id: a folder-safe name, unique in its benchmark; source: the source image file;
    target_text: the target caption; target_image: the ground-truth edit (PosEdit only);
    temporal_caption: a temporal editing caption shipped with the task (PosEdit categories);
    meta: where the task came from (file names, frame indices, ...).
    """

    id: str
    source: Path
    target_text: str
    target_image: Path | None = None
    temporal_caption: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "source": str(self.source), "target_text": self.target_text,
            "target_image": None if self.target_image is None else str(self.target_image),
            "temporal_caption": self.temporal_caption, "meta": self.meta,
        }


def read_json(path: Path, what: str) -> Any:
    """Parse a benchmark's JSON file, or say which file is missing or broken and what to do."""
    if not path.is_file():
        raise F2FError(f"No {what} at '{path}'. Check --data: it must be the benchmark's folder.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise F2FError(f"'{path}' is not valid JSON ({exc}). Download or rebuild the {what} again.") from None


def check_images_exist(tasks: list[BenchTask], root: Path) -> None:
    """Every source and ground-truth image must exist; name the missing ones."""
    missing = sorted({str(p.relative_to(root) if p.is_relative_to(root) else p)
                      for t in tasks for p in (t.source, t.target_image) if p is not None and not p.is_file()})
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise F2FError(f"Missing image(s) under '{root}': {shown}. The benchmark folder is incomplete; download it again.")
