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


# Decode noise for a timestep-conditioned VAE (LTX-Video 0.9.1 and later): diffusers' ltx_video.md
# notes, "set decode_timestep to 0.05 and image_cond_noise_scale to 0.025" (the I2V pipeline's
# argument is decode_noise_scale). The pipeline's defaults (0.0, None) add no noise; a VAE without
# timestep conditioning ignores both (pipeline_ltx_image2video.py, the decode step).
DECODE_NOISE = {"decode_timestep": 0.05, "decode_noise_scale": 0.025}


class LTXGenerator(VideoGenerator):
    """Image-to-video over diffusers' `LTXImageToVideoPipeline`."""

    family = "ltx"

    @property
    def timestep_conditioned_vae(self) -> bool:
        return bool(self.pipe.vae.config.get("timestep_conditioning"))

    def pipeline_arguments(self, image, prompt: str, **numbers) -> dict[str, Any]:
        arguments = super().pipeline_arguments(image, prompt, **numbers)
        if self.timestep_conditioned_vae:  # the loaded VAE decides, not the hub id (its folders changed over releases)
            arguments = {**DECODE_NOISE, **arguments}  # a backend's own call_options win
        return arguments

    def run_record(self, arguments: dict[str, Any]) -> dict[str, Any]:
        import inspect

        # Left at the pipeline's default; it scales the temporal RoPE, so the record says what it was.
        frame_rate = inspect.signature(type(self.pipe).__call__).parameters["frame_rate"].default
        conditioned = self.timestep_conditioned_vae
        return {"frame_rate": frame_rate, "decode_noise": {
            "vae_timestep_conditioning": conditioned,
            "decode_timestep": arguments.get("decode_timestep") if conditioned else None,
            "decode_noise_scale": arguments.get("decode_noise_scale") if conditioned else None,
        }}
