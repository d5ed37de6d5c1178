"""Frame selection in the toy world without CLIP or a VLM: by the exact factor fit.

`ToyFactorSelector` fits the renderer's factors to each sampled frame (`ExactManifold`) and
applies the paper's rule (C.1: the lowest-numbered frame that completes the edit; 0 keeps the
source) with "completes the edit" read off the fit: the frame's pose lies in the range of
the set the target names (`toy.DESCRIPTIONS`; the heart: pose 0.9..1). It judges the pose
only, as the target describes only the pose; whether the letters and colours survived is
for the evaluation to measure, not for the selector to assume.
"""

from __future__ import annotations

from typing import Sequence

from PIL import Image

from ..selection import Selection, tile_frames
from .fit import ExactManifold
from .paths import _target_set
from .sets import SET_FACTORS


class ToyFactorSelector:
    """The lowest sampled frame whose fitted pose is in the target's range, else 0 (the source)."""

    name = "toy"

    def __init__(self):
        self._manifolds: dict[int, ExactManifold] = {}

    def manifold(self, size: int) -> ExactManifold:
        if size not in self._manifolds:
            self._manifolds[size] = ExactManifold(size=size).fit()
        return self._manifolds[size]

    def __call__(self, source: Image.Image, frames: Sequence[Image.Image], target: str, *,
                 tiles: Sequence[int] | None = None) -> Selection:
        low, high = SET_FACTORS[_target_set(target)]["arms"]
        indices = list(tiles or tile_frames(len(frames)))
        fits = self.manifold(frames[0].width).project([frames[i] for i in indices])
        index = next((i for i, f in zip(indices, fits) if low <= f.factors.arms <= high), 0)
        record = {
            "rule": f"the lowest sampled frame whose fitted pose is in {low}..{high} (exact factor fit); 0 if none",
            "frames": indices,
            "arms": [round(f.factors.arms, 4) for f in fits],
            "ai": [f.factors.ai for f in fits],
            "distance": [round(f.distance, 5) for f in fits],
        }
        tile = indices.index(index) + 1 if index in indices else 0
        return Selection(index=index, selector=self.name, tile=tile, record=record)
