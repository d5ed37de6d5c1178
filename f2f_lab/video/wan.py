"""Wan 2.1 and 2.2 image-to-video over `WanImageToVideoPipeline`.

One pipeline class runs three layouts (diffusers 0.42.1, `pipelines/wan/pipeline_wan_i2v.py`):
Wan 2.1 I2V 14B conditions on CLIP image features; Wan 2.2 TI2V 5B replaces the first
frame's latent every step (`expand_timesteps`); Wan 2.2 I2V A14B has two experts, the
high-noise `transformer` for timesteps at or above `boundary_ratio * 1000` and the
low-noise `transformer_2` below, each with its own guidance. The record says which expert
denoised which step.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from PIL import Image

from .base import VideoGenerator, VideoOutput


class WanGenerator(VideoGenerator):
    """Image-to-video over diffusers' `WanImageToVideoPipeline` (Wan 2.1 480P, Wan 2.2 5B and A14B)."""

    family = "wan"

    @property
    def two_experts(self) -> bool:
        return self.pipe.config.get("boundary_ratio") is not None and getattr(self.pipe, "transformer_2", None) is not None

    def pipeline_arguments(self, image: Image.Image, prompt: str, *, guidance_scale_2: float | None = None,
                           **numbers) -> dict[str, Any]:
        arguments = super().pipeline_arguments(image, prompt, guidance_scale_2=None, **numbers)
        # The pipeline refuses guidance_scale_2 without a boundary; with one it defaults to guidance_scale.
        if self.two_experts and guidance_scale_2 is not None:
            arguments["guidance_scale_2"] = guidance_scale_2
        return arguments

    def run_record(self, arguments: dict[str, Any]) -> dict[str, Any]:
        config = self.pipe.config
        return {"boundary_ratio": config.get("boundary_ratio"), "expand_timesteps": bool(config.get("expand_timesteps")),
                "image_encoder": type(self.pipe.image_encoder).__name__ if self.pipe.image_encoder is not None else None}

    def __call__(self, image: Image.Image, prompt: str, **options) -> VideoOutput:
        with self.watch_experts() as steps:
            output = super().__call__(image, prompt, **options)
        if self.two_experts:
            boundary = self.pipe.config.boundary_ratio * self.pipe.scheduler.config.num_train_timesteps
            output.record["experts"] = {
                "boundary_timestep": boundary,
                "steps": steps,  # [timestep, "high"|"low"] per denoising step, in order
                "high_noise_steps": sum(1 for _, expert in steps if expert == "high"),
                "low_noise_steps": sum(1 for _, expert in steps if expert == "low"),
            }
        return output

    @contextmanager
    def watch_experts(self) -> Iterator[list]:
        """Record, per denoising step, the timestep and which expert ran (forward hooks, removed after)."""
        steps: list[list] = []
        if not self.two_experts:
            yield steps
            return

        def hook(name):
            def record(module, args, kwargs):
                timestep = kwargs.get("timestep")
                value = float(timestep.flatten()[0]) if timestep is not None else None
                if not steps or steps[-1][0] != value or steps[-1][1] != name:  # one entry per step, not per CFG branch
                    steps.append([value, name])
            return record

        handles = [self.pipe.transformer.register_forward_pre_hook(hook("high"), with_kwargs=True),
                   self.pipe.transformer_2.register_forward_pre_hook(hook("low"), with_kwargs=True)]
        try:
            yield steps
        finally:
            for handle in handles:
                handle.remove()
