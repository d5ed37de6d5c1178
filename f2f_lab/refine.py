"""Self-Consistent Post-Refinement (IF-Edit, arXiv 2511.19435, Sec. 4.3): beyond the paper, off by default.

Late frames of an image-to-video clip are often motion-blurred. IF-Edit picks the sharpest
of the late frames (a Laplacian score) and feeds it back into the same image-to-video model
as the first frame of a short still video, with a still-scene prompt; the clearest frame of
that clip is the refined edit.

    frame   = frames[sharpest_late_frame(frames)]          # or the selector's chosen frame
    refined = refine_frame(generator, frame, geometry=..., canvas=..., output_size=..., seed=...)

IF-Edit does not publish the still run's frames, steps, guidance or strength; the defaults
here are ours and are recorded with every refinement.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from PIL import Image

from .errors import F2FError
from .imaging import from_canvas, place_on_canvas

REFINE_MODES = ("selected", "sharpest")  # refine the selector's chosen frame, or IF-Edit's sharpest late frame
SHARPNESS_MEASURE = "variance of the 3x3 Laplacian (grayscale)"
# Ours beyond its first words: IF-Edit's example opens with "A perfectly still video with
# enhanced clarity" and is truncated there in the paper.
STILL_PROMPT = ("A perfectly still video with enhanced clarity, sharp focus and fine details; the camera and "
                "everything in the scene stay completely motionless.")
# IF-Edit's number of late candidates is unpublished. Ours: the last quarter of the video, and
# at least 4 frames, which is what the last latent of a stride-4 video VAE (Wan, CogVideoX) decodes to.
LATE_FRACTION = 0.25
MIN_LATE_FRAMES = 4
FALLBACK_NUM_FRAMES = 9  # a registered generator without backend data: its own smallest video


def check_refine(mode: str | None) -> None:
    """F2FError unless `mode` is None or one of `REFINE_MODES`."""
    if mode is not None and mode not in REFINE_MODES:
        raise F2FError(f"Unknown refine mode '{mode}'. Choose one of: {', '.join(REFINE_MODES)} (or none).")


def laplacian_sharpness(image: Image.Image) -> float:
    """Variance of the 3x3 Laplacian of the grayscale image, in 0..255 units (higher: sharper).

    IF-Edit writes its score as the mean of the Laplacian, s = (1/HW) sum lap(x), which taken
    literally is about 0 for any image (the signed responses cancel). The variance of the
    Laplacian is the standard focus measure, and its values on 8-bit images match the
    magnitudes IF-Edit reports (840-983), so that is what this computes. The kernel is
    [[0,1,0],[1,-4,1],[0,1,0]] over the valid interior (no padding), as OpenCV's ksize=1.
    """
    import numpy as np

    gray = np.asarray(image.convert("L"), dtype=np.float64)
    if gray.shape[0] < 3 or gray.shape[1] < 3:
        return 0.0
    lap = (gray[:-2, 1:-1] + gray[2:, 1:-1] + gray[1:-1, :-2] + gray[1:-1, 2:] - 4.0 * gray[1:-1, 1:-1])
    return float(lap.var())


def late_frame_count(num_frames: int) -> int:
    """How many of the last frames `sharpest_late_frame` considers by default."""
    return max(MIN_LATE_FRAMES, math.ceil(LATE_FRACTION * num_frames))


def sharpest_late_frame(frames: Sequence[Image.Image], late: int | None = None) -> int:
    """Index of the sharpest (`laplacian_sharpness`) of the last `late` frames; ties go to the earliest.

    late: default the last quarter of the video, at least 4 frames (`late_frame_count`).
    Frame 0 (the source) is a candidate only when the video has no other frame.
    """
    if not frames:
        raise F2FError("No frames to choose from.")
    late = late_frame_count(len(frames)) if late is None else int(late)
    if late < 1:
        raise F2FError(f"late={late}: consider at least 1 frame.")
    first = max(1 if len(frames) > 1 else 0, len(frames) - late)
    scores = [laplacian_sharpness(frames[i]) for i in range(first, len(frames))]
    return first + max(range(len(scores)), key=lambda k: (scores[k], -k))


@dataclass
class Refinement:
    """A refined frame: `image` (at the output geometry), the still clip's frame it is (`source_index`), the record."""

    image: Image.Image
    source_index: int
    record: dict[str, Any] = field(default_factory=dict)


def default_num_frames(generator) -> int:
    """The frames of the still video: the backend's smallest valid count (`frame_multiple + 1`), else 9.

    Except for a transformer whose positional embedding is learned for one frame count
    (CogVideoX-5B I2V: 49; `cogvideox.positional_embedding_of`): at any other count diffusers
    swaps in an untrained sin-cos embedding, so the still video would not be the model's own;
    it gets that count.
    """
    transformer = getattr(getattr(generator, "pipe", None), "transformer", None)
    config = getattr(transformer, "config", None) or {}
    if config.get("use_learned_positional_embeddings") and config.get("sample_frames"):
        return int(config["sample_frames"])
    backend = getattr(generator, "backend", None)
    multiple = getattr(backend, "frame_multiple", None)
    return multiple + 1 if multiple else FALLBACK_NUM_FRAMES


def refine_frame(
    generator,
    frame: Image.Image,
    *,
    geometry: str,
    canvas: tuple[int, int],
    output_size: int,
    seed: int,
    num_frames: int | None = None,
    num_inference_steps: int | None = None,
    guidance_scale: float | None = None,
    guidance_scale_2: float | None = None,
    prompt: str = STILL_PROMPT,
) -> Refinement:
    """Run a short still video from `frame` on `generator` and return its sharpest frame.

    The frame is placed on the generator's canvas as the edit's source was (`canvas_for`,
    `imaging.place_on_canvas`), and every frame of the clip is cropped back (`from_canvas`)
    to `output_size` on the longer side.

    Args:
        generator: the video model that made the edit (IF-Edit uses the same one).
        frame: the frame to refine, at the output geometry.
        geometry, canvas, output_size: the preset's.
        seed: the still video's noise seed (the pipeline passes the edit's).
        num_frames: default `default_num_frames`: the backend's smallest valid count,
            `frame_multiple + 1` (5 for Wan 2.2), the learned count for a learned positional
            embedding (49 for CogVideoX-5B I2V), 9 without backend data. Ours: IF-Edit gives none.
        num_inference_steps, guidance_scale, guidance_scale_2: default the generator's (the
            pipeline passes the edit's). IF-Edit gives none.
        prompt: the still-scene prompt (`STILL_PROMPT`).
    """
    frame = frame.convert("RGB")
    num_frames = num_frames or default_num_frames(generator)
    options: dict[str, Any] = {"num_frames": num_frames}
    if num_inference_steps is not None:
        options["num_inference_steps"] = num_inference_steps
    if guidance_scale is not None:
        options["guidance_scale"] = guidance_scale
    if guidance_scale_2 is not None:
        options["guidance_scale_2"] = guidance_scale_2
    start = time.perf_counter()
    canvas_size = generator.canvas_for(frame.size, geometry=geometry, canvas=canvas)
    placed, placement = place_on_canvas(frame, canvas_size, geometry)
    video = generator(placed, prompt, seed=seed, **options)
    clip = [from_canvas(f, placement, output_size) for f in video.frames]
    scores = [laplacian_sharpness(f) for f in clip]
    best = max(range(len(clip)), key=lambda k: (scores[k], -k))  # ties to the earliest
    seconds = time.perf_counter() - start
    record = {
        "prompt": prompt,
        "seed": seed,
        "num_frames": num_frames,
        "num_inference_steps": num_inference_steps or video.record.get("arguments", {}).get("num_inference_steps"),
        "guidance_scale": guidance_scale,
        "canvas": list(canvas_size),
        "frame": best,
        "sharpness_before": laplacian_sharpness(frame),
        "sharpness_after": scores[best],
        "sharpness": scores,
        "seconds": seconds,
        "video_seconds": video.seconds,
    }
    return Refinement(image=clip[best], source_index=best, record=record)
