"""Edits in the toy world: the video path, and the single-step stand-ins it is compared with.

- `video_path`: Frame2Frame's idea with a perfect video model. The temporal caption "A happy
  person very slowly raising their hands to form a heart shape" becomes a continuous path of
  factors (the pose rises from the source's to the heart; shirt, letters, colours and
  position stay), rendered frame by frame, so every frame is on the manifold.
- `crossfade`: the straight line between two images in pixel space (the naive interpolation);
  its middle frames are double exposures, off the manifold.
- `single_step_edit`: what a conventional editor does in the paper's Figure 2, as a stand-in:
  "resample" renders from the target description alone (it says nothing of the shirt, so the
  "AI" is lost and the nuisances are drawn anew); "crossfade" blends the source with that
  rendering half and half, which leaves the manifold.

The results are the study's own types (`VideoPath`, `SingleStepEdit`), and `as_edit_result`
turns a path into the `EditResult` the frame-strip player shows.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from ..errors import F2FError
from ..imaging import load_image
from ..manifold.paths import SingleStepEdit, VideoPath
from ..paper import PAPER_CAPTION, PAPER_PROMPTS, PAPER_TARGET
from ..results import EditResult
from .fit import ExactManifold
from .sets import SET_FACTORS, factors_of, sample_set
from .world import SIZE, ToyFactors, render

# What a description means in the toy world: the set whose factor distribution it names.
# The paper's target says "heart shape" and nothing of the shirt: the heart-only set.
DESCRIPTIONS = {PAPER_TARGET: "heart", **{p.prompt: p.key for p in PAPER_PROMPTS}}
SINGLE_STEP_METHODS = ("resample", "crossfade")
SINGLE_STEP_STREAM = 2411_16819  # seeds the stand-in's draws apart from the sets' (the paper's arXiv number)


def _target_set(target: str) -> str:
    if target not in DESCRIPTIONS:
        known = "\n  ".join(DESCRIPTIONS)
        raise F2FError(f"The toy world does not know the description {target!r}; it knows:\n  {known}")
    return DESCRIPTIONS[target]


def source_factors(source, size: int = SIZE) -> ToyFactors:
    """Factors of a source: ToyFactors as they are, a toy set image's file (its record), or any image (fitted)."""
    if isinstance(source, ToyFactors):
        return source
    if isinstance(source, (str, os.PathLike)) and Path(source).with_suffix(".json").exists():
        return factors_of(source)

    image = load_image(source)
    return ExactManifold(size=image.width).fit().project([image])[0].factors


def video_path(
    source,
    *,
    num_frames: int = 49,
    target: str = PAPER_TARGET,
    caption: str = PAPER_CAPTION,
    size: int = SIZE,
) -> VideoPath:
    """The toy video from `source` toward `target`: the pose rises linearly to the heart, all else stays.

    Args:
        source: ToyFactors, a toy set image's file, or a toy image (its factors are fitted).
        num_frames: frames including the source (49, as CogVideoX makes).
        target: the edit's description; the pose goes to the far end of its set's range.
        caption: the temporal caption the path stands for (recorded, not parsed).

    The chosen frame is the first whose pose lies in the target's range (the paper's rule: the
    lowest index that completes the edit), read off the known factors.
    """
    if num_frames < 2:
        raise F2FError(f"num_frames={num_frames}: a video needs at least two frames.")
    start = source_factors(source, size)
    low, high = SET_FACTORS[_target_set(target)]["arms"]
    steps = [start.replace(arms=float(a)) for a in np.linspace(start.arms, high, num_frames)]
    done = [t for t, f in enumerate(steps) if low <= f.arms <= high]
    chosen = done[0] if done else 0
    record = {
        "world": "toy", "target set": _target_set(target), "size": size,
        "path": "the pose rises linearly from the source's to the heart; nothing else changes",
        "selection": f"the first frame whose pose is in the target's range {low}..{high} (exact factors)",
        "factors": [f.to_dict() for f in steps],
    }
    return VideoPath([render(f, size) for f in steps], chosen, caption, target, record)


def f2f_path(source, *, num_frames: int = 49, target: str = PAPER_TARGET, caption: str = PAPER_CAPTION) -> VideoPath:
    """The toy counterpart of `f2f_lab.manifold.f2f_path`: every frame of the edit's video, the chosen one marked."""
    size = load_image(source).width if not isinstance(source, ToyFactors) else SIZE
    return video_path(source, num_frames=num_frames, target=target, caption=caption, size=size)


def crossfade(start, end, num_frames: int = 49) -> list[Image.Image]:
    """The straight pixel-space line from `start` to `end`, `num_frames` images including both ends."""
    a, b = (np.asarray(load_image(x), dtype=np.float64) for x in (start, end))
    if a.shape != b.shape:
        raise F2FError(f"A cross-fade needs two images of one size; got {a.shape[1]}x{a.shape[0]} and {b.shape[1]}x{b.shape[0]}.")
    return [Image.fromarray(np.rint((1 - s) * a + s * b).astype(np.uint8)) for s in np.linspace(0.0, 1.0, num_frames)]


def single_step_edit(
    source,
    *,
    method: str = "resample",
    target: str = PAPER_TARGET,
    seed: int = 0,
    size: int | None = None,
) -> SingleStepEdit:
    """A single-step stand-in: render from the target description alone ("resample"), or blend it in ("crossfade").

    The target description here says nothing of the shirt, so "resample" draws a person of
    the target's set with new nuisances: the "AI" is gone, as with LEDITS++ in the paper.
    "crossfade" is the half-and-half pixel blend of the source with that rendering.
    """
    if method not in SINGLE_STEP_METHODS:
        raise F2FError(f"Unknown toy single-step method '{method}'; choose one of: {', '.join(SINGLE_STEP_METHODS)}.")
    image = None if isinstance(source, ToyFactors) else load_image(source)
    size = size or (image.width if image is not None else SIZE)
    # Its own random stream: set image i is drawn with seed i, and the edit must not repeat its draws.
    factors = sample_set(_target_set(target), np.random.default_rng((SINGLE_STEP_STREAM, seed)))
    rendered = render(factors, size)
    record = {"world": "toy", "method": method, "target": target, "seed": seed, "factors": factors.to_dict()}
    if method == "resample":
        return SingleStepEdit(rendered, f"toy-{method}", record)
    source_image = image if image is not None else render(source, size)
    return SingleStepEdit(crossfade(source_image, rendered, 3)[1], f"toy-{method}", record)


def as_edit_result(path: VideoPath, *, seed: int = 0, scale: int = 4, fps: int = 8):
    """The `EditResult` of a toy video, for `f2f_lab.show` (the frame-strip player) and `EditResult.save`.

    Frames are enlarged `scale` times with nearest-neighbour sampling, so the player shows
    crisp pixels instead of a blur.
    """
    def big(image: Image.Image) -> Image.Image:
        return image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST) if scale > 1 else image

    frames = [big(f) for f in path.frames]
    record = {
        "toy": {k: v for k, v in path.record.items() if k != "factors"},
        "caption": {"captioner": "toy (the caption is the factor path)", "caption": path.caption},
        "selection": {"selector": "toy (exact factors)", "index": path.chosen},
        "seed": seed,
    }
    return EditResult(source=frames[0], target=path.target, caption=path.caption, frames=frames, index=path.chosen,
                      seed=seed, source_output=frames[0], record=record, fps=fps)


def frames_factors(path: VideoPath) -> Sequence[ToyFactors]:
    """The factors of each frame of a toy video."""
    if "factors" not in path.record:
        raise F2FError("This path has no toy factors in its record; it was not made by f2f_lab.toy.")
    return [ToyFactors.from_dict(f) for f in path.record["factors"]]
