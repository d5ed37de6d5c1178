"""LTX-Video image-to-video over `LTXImageToVideoPipeline`.

Sizes are multiples of 32 and frame counts 8k+1 (its VAE compresses space 32x and time
8x); the defaults are the pipeline example's for `Lightricks/LTX-Video` (704x480, 161
frames, 50 steps, its negative prompt). The distilled 0.9.7/0.9.8 checkpoints run through
`LTXConditionPipeline` with fixed timesteps and a latent upsampler (diffusers' ltx_video
notes); they are not a backend here yet.
"""

from __future__ import annotations

from typing import Any

from .base import VideoGenerator


class LTXGenerator(VideoGenerator):
    """Image-to-video over diffusers' `LTXImageToVideoPipeline`."""

    family = "ltx"

    def run_record(self, arguments: dict[str, Any]) -> dict[str, Any]:
        import inspect

        # Left at the pipeline's default; it scales the temporal RoPE, so the record says what it was.
        frame_rate = inspect.signature(type(self.pipe).__call__).parameters["frame_rate"].default
        return {"frame_rate": frame_rate}
