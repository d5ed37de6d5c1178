"""Step 3 of Frame2Frame: pick the frame where the edit is done (Sec. 3.3).

The paper shows a VLM every fourth frame (12 tiles for 49 frames), numbered 1..12 under
the source image, and asks for the lowest-numbered tile that completes the edit; 0 means
no frame does it and the source is kept. Tile k is video frame `every * k`.

Selectors take (source, frames, target) and return a `Selection` whose `index` is a
frame of the video, 0 meaning the source itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from PIL import Image

from .errors import F2FError


@dataclass
class Selection:
    """The chosen frame: `index` into the video's frames (0 = keep the source)."""

    index: int
    selector: str
    tile: int | None = None  # the number the VLM saw, when tiles were shown
    record: dict[str, Any] = field(default_factory=dict)


def sample_indices(num_frames: int = 49, every: int = 4) -> list[int]:
    """The frames shown for selection: every, 2*every, ... (4, 8, ..., 48 for 49 frames).

    Tile k (1-based) is frame `every * k`; tile 0 is the source image.
    """
    if every < 1:
        raise ValueError("every must be at least 1")
    return list(range(every, num_frames, every))


class LastFrameSelector:
    """The naive baseline of Table S5: the video's last frame is the edit."""

    name = "last"

    def __call__(self, source: Image.Image, frames: Sequence[Image.Image], target: str, *, every: int = 4) -> Selection:
        index = len(frames) - 1
        tile = index // every if index % every == 0 else None
        return Selection(index=index, selector=self.name, tile=tile)


SELECTORS = ("vlm", "clip", "last")


def make_selector(name: str, **options):
    """Build a selector by name: "vlm" (C.1), "clip" (no VLM) or "last"."""
    if name == "last":
        return LastFrameSelector()
    if name in ("vlm", "clip"):
        raise F2FError(f"The {name.upper()} selector is not built yet; use --selector last.")
    raise F2FError(f"Unknown selector '{name}'. Choose one of: {', '.join(SELECTORS)}.")
