"""What the Figure 2 study projects: a video's path (every frame, the chosen one) and a single-step edit.

Plain data with save/load, apart from how they are made (`study.f2f_path`,
`study.single_step_edit`, the toy world's `toy.paths`), so a maker imports these without
importing the pipeline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from ..imaging import load_image, save_image
from ..records import write_json_atomic


@dataclass
class VideoPath:
    """Every frame of a Frame2Frame video (frame 0 = the source) and the frame it selected."""

    frames: list[Image.Image]
    chosen: int
    caption: str
    target: str
    record: dict[str, Any] = field(default_factory=dict)

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        for t, frame in enumerate(self.frames):
            save_image(frame, folder / f"frame_{t:03d}.png")
        write_json_atomic(folder / "path.json", {"chosen": self.chosen, "caption": self.caption, "target": self.target,
                                                 "frames": len(self.frames), "record": self.record})
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> "VideoPath":
        folder = Path(folder)
        meta = json.loads((folder / "path.json").read_text())
        frames = [load_image(folder / f"frame_{t:03d}.png") for t in range(meta["frames"])]
        return cls(frames, meta["chosen"], meta["caption"], meta["target"], meta.get("record", {}))



@dataclass
class SingleStepEdit:
    """A single-step editor's result for the same source (LEDITS++ in the paper's Figure 2)."""

    image: Image.Image
    method: str
    record: dict[str, Any] = field(default_factory=dict)
