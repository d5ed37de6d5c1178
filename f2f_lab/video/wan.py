"""Wan 2.1 and 2.2 image-to-video over `WanImageToVideoPipeline`.

One pipeline class runs three layouts (diffusers 0.42.1, `pipelines/wan/pipeline_wan_i2v.py`):
Wan 2.1 I2V 14B conditions on CLIP image features; Wan 2.2 TI2V 5B replaces the first
frame's latent every step (`expand_timesteps`); Wan 2.2 I2V A14B has two experts, the
high-noise `transformer` for timesteps at or above `boundary_ratio * 1000` and the
low-noise `transformer_2` below, each with its own guidance. The record says which expert
denoised which step.

What the hub's folders hold cannot be checked here, so the adapter says what ran:
- the sampling shift: the loaded scheduler's (`flow_shift` of UniPC, `shift` of FlowMatchEuler)
  is read and, where it differs from the authors' (`VideoBackend.flow_shift`: 5.0 for Wan 2.2
  I2V-A14B, whose diffusers conversion wrote 3.0 for I2V), replaced by the authors';
  `flow_shift="hub"` keeps the hub's. The record has both and the one used.
- the negative prompt: diffusers' English text by default, `negative_prompt="authors"` for the
  authors' Chinese original (`WAN_NEGATIVE_PROMPT_AUTHORS`); the record names which.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from PIL import Image

from ..errors import F2FError
from .backends import WAN_NEGATIVE_PROMPT, WAN_NEGATIVE_PROMPT_AUTHORS
from .base import VideoGenerator, VideoOutput

FLOW_SHIFTS = ("card", "hub")
NEGATIVE_PROMPTS = {"english": WAN_NEGATIVE_PROMPT, "authors": WAN_NEGATIVE_PROMPT_AUTHORS}
SHIFT_KEYS = ("flow_shift", "shift")  # UniPCMultistepScheduler's, FlowMatchEulerDiscreteScheduler's


def scheduler_shift(scheduler) -> tuple[str | None, float | None]:
    """(config key, value) of a flow-matching scheduler's shift; (None, None) when it has none."""
    for key in SHIFT_KEYS:
        if scheduler.config.get(key) is not None:
            return key, float(scheduler.config[key])
    return None, None


class WanGenerator(VideoGenerator):
    """Image-to-video over diffusers' `WanImageToVideoPipeline` (Wan 2.1 480P, Wan 2.2 5B and A14B).

    Args (beyond `VideoGenerator`'s):
        flow_shift: "card" (default: the authors' shift where the hub's scheduler differs) or
            "hub" (the loaded scheduler as it is).
        negative_prompt: "english" (diffusers' example, the default) or "authors" (the Chinese original).
    """

    family = "wan"

    def __init__(self, pipe, model_id: str, device: str, *, flow_shift: str = "card", negative_prompt: str = "english",
                 **options):
        super().__init__(pipe, model_id, device, **options)
        self.hub_scheduler = pipe.scheduler
        self.configure(flow_shift=flow_shift, negative_prompt=negative_prompt)

    @classmethod
    def from_pretrained(cls, model_id: str | None = None, *, flow_shift: str = "card", negative_prompt: str = "english",
                        **options) -> "WanGenerator":
        """`VideoGenerator.from_pretrained`, then the shift and negative prompt chosen (see the class)."""
        generator = super().from_pretrained(model_id, **options)
        generator.configure(flow_shift=flow_shift, negative_prompt=negative_prompt)
        return generator

    def configure(self, *, flow_shift: str = "card", negative_prompt: str = "english") -> None:
        """Choose the sampling shift ("card" or "hub") and the negative prompt ("english" or "authors")."""
        if flow_shift not in FLOW_SHIFTS:
            raise F2FError(f"Unknown flow_shift '{flow_shift}'. Choose one of: {', '.join(FLOW_SHIFTS)}.")
        if negative_prompt not in NEGATIVE_PROMPTS:
            raise F2FError(f"Unknown negative_prompt '{negative_prompt}'. Choose one of: {', '.join(NEGATIVE_PROMPTS)}.")
        key, hub = scheduler_shift(self.hub_scheduler)
        card = self.backend.flow_shift
        scheduler = self.hub_scheduler
        if flow_shift == "card" and key is not None and card is not None and hub != card:
            scheduler = type(scheduler).from_config(scheduler.config, **{key: card})
        self.pipe.scheduler = scheduler
        self.negative_prompt = negative_prompt
        self.flow_shift = {"choice": flow_shift, "hub": hub, "card": card, "used": scheduler_shift(scheduler)[1],
                           "config_key": key}

    @property
    def two_experts(self) -> bool:
        return self.pipe.config.get("boundary_ratio") is not None and getattr(self.pipe, "transformer_2", None) is not None

    def pipeline_arguments(self, image: Image.Image, prompt: str, *, guidance_scale_2: float | None = None,
                           **numbers) -> dict[str, Any]:
        arguments = super().pipeline_arguments(image, prompt, guidance_scale_2=None, **numbers)
        if self.backend.negative_prompt is not None:
            arguments["negative_prompt"] = NEGATIVE_PROMPTS[self.negative_prompt]
        # The pipeline refuses guidance_scale_2 without a boundary; with one it defaults to guidance_scale.
        if self.two_experts and guidance_scale_2 is not None:
            arguments["guidance_scale_2"] = guidance_scale_2
        return arguments

    def run_record(self, arguments: dict[str, Any]) -> dict[str, Any]:
        config = self.pipe.config
        return {"boundary_ratio": config.get("boundary_ratio"), "expand_timesteps": bool(config.get("expand_timesteps")),
                "image_encoder": type(self.pipe.image_encoder).__name__ if self.pipe.image_encoder is not None else None,
                "flow_shift": dict(self.flow_shift), "negative_prompt_choice": self.negative_prompt}

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
