"""ChronoEdit-14B (NVIDIA, arXiv 2510.04290): editing as a short video, Frame2Frame's closest relative.

ChronoEdit fine-tunes an image-to-video model (Wan 2.1 I2V 14B) on editing pairs: the source
is the first frame and the edit the last of a very short video (5 frames, i.e. 2 latent
frames). With *temporal reasoning* it first denoises a longer video (29 frames) whose middle
frames imagine the path, then, after `num_temporal_reasoning_steps`, drops them and finishes
only the first and last frame. Frame2Frame instead keeps an unmodified video model, drives it
with a temporal caption, and picks the earliest frame of a 49-frame path that completes the
edit (see the README, "ChronoEdit and Frame2Frame: how they differ").

Published defaults (diffusers 0.42.1 installed; "pipeline" = `ChronoEditPipeline.__call__`,
"docs" = diffusers' chronoedit.md, which is also the model card's recipe):

| setting | plain | temporal reasoning | distilled (8-step LoRA) |
|---|---|---|---|
| frames | 5 (the pipeline forces 5 without reasoning) | 29 (docs) | 5 |
| steps | 50 (pipeline, docs) | 50, all of them with reasoning frames (docs) | 8 (docs) |
| guidance | 5.0 (pipeline, docs) | 5.0 | 1.0, i.e. no CFG (docs) |
| scheduler | the repository's | the repository's | UniPC from it with flow_shift 2.0 (docs) |
| size | area 720x1280 with the source's aspect, sides /16 (docs) | same | same |
| dtype | transformer and text encoder bfloat16, VAE and CLIP image encoder float32 (docs) | same | same |

The distillation LoRA is `lora/chronoedit_distill_lora.safetensors` in the same repository,
fused at scale 1.0 (docs). It is read with diffusers' own LoRA loader (`lora_state_dict`,
which converts the Wan authors' key format) and added into the weights here (W += B A),
which is what `fuse_lora(lora_scale=1.0)` computes, without needing the `peft` package.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ...errors import F2FError
from ...loading import explained_load_errors, model_source
from ..base import ImageEditResult, with_options
from .instruction import InstructionEditor

CHRONOEDIT_14B = "nvidia/ChronoEdit-14B-Diffusers"
CHRONOEDIT_DISTILL_LORA = "lora/chronoedit_distill_lora.safetensors"  # in the same repository (docs)


@dataclass(frozen=True)
class ChronoEditSettings:
    """ChronoEdit through `ChronoEditPipeline`; the edit is the video's last frame.

    `temporal_reasoning=True` and `distilled=True` switch to the documented settings of those
    modes (table above) unless a field is given explicitly too.
    """

    model: str = CHRONOEDIT_14B
    max_area: int = 720 * 1280
    num_inference_steps: int = 50
    guidance_scale: float = 5.0
    num_frames: int = 5
    temporal_reasoning: bool = False
    num_temporal_reasoning_steps: int = 0
    negative_prompt: str | None = None  # the pipeline's default: an empty negative prompt under CFG
    max_sequence_length: int = 512
    distilled: bool = False
    lora_weight_name: str = CHRONOEDIT_DISTILL_LORA
    lora_scale: float = 1.0
    flow_shift: float | None = None  # None keeps the repository's scheduler; the distilled mode sets 2.0
    instruction: str = "template"


# What each mode changes (docs), for the published settings and the tiny ones.
REASONING = {"num_frames": 29, "num_temporal_reasoning_steps": 50}
DISTILLED = {"num_inference_steps": 8, "guidance_scale": 1.0, "flow_shift": 2.0}
TINY_DISTILLED = {**DISTILLED, "num_inference_steps": 2}


class ChronoEditEditor(InstructionEditor):
    """ChronoEdit-14B: an image-to-video model fine-tuned so that the last frame is the edit."""

    method = "chronoedit"
    title = "ChronoEdit"
    paper = ChronoEditSettings()
    tiny = ChronoEditSettings(model="tiny", max_area=64 * 64, num_inference_steps=2, max_sequence_length=64)
    pipeline_class = "ChronoEditPipeline"
    stand_in = "chronoedit"
    description = "ChronoEdit"
    float32_components = ("vae", "image_encoder")  # the docs keep these in float32, the rest in bfloat16
    size_multiple = 16  # VAE 8x, then 1x2x2 patches
    min_side = 16

    @classmethod
    def settings_for(cls, preset, **overrides):
        """The card's settings of the chosen mode (plain, reasoning, distilled), then `overrides`."""
        settings = cls.tiny if preset.is_tiny else cls.paper
        cls.check_options(settings, overrides)
        if overrides.get("distilled"):
            settings = replace(settings, distilled=True, **(TINY_DISTILLED if preset.is_tiny else DISTILLED))
        if overrides.get("temporal_reasoning"):
            # The docs' reasoning runs with the reasoning frames for every step.
            steps = overrides.get("num_inference_steps") or settings.num_inference_steps
            settings = replace(settings, temporal_reasoning=True, num_frames=REASONING["num_frames"],
                               num_temporal_reasoning_steps=min(REASONING["num_temporal_reasoning_steps"], steps))
        settings = with_options(settings, **overrides)
        if settings.num_frames % 4 != 1:
            raise F2FError(f"ChronoEdit needs 4k+1 frames (its VAE compresses time 4x); got num_frames={settings.num_frames}.")
        return settings

    @classmethod
    def prepare_pipe(cls, pipe, settings):
        """The distillation LoRA fused (distilled mode) and the scheduler's flow shift set, as the docs do."""
        from diffusers import UniPCMultistepScheduler

        if settings.distilled:
            fuse_lora(pipe, model_source(settings.model, cls.stand_in), settings.lora_weight_name,
                      scale=settings.lora_scale)
        if settings.flow_shift is not None:
            pipe.scheduler = UniPCMultistepScheduler.from_config(pipe.scheduler.config, flow_shift=settings.flow_shift)
        return pipe

    def edit(self, image, target: str, *, seed: int = 0, instruction_text: str | None = None,
             num_inference_steps: int | None = None, guidance_scale: float | None = None) -> ImageEditResult:
        """Edit `image` toward `target` (as an instruction: derived, or `instruction_text` as given)."""
        params = with_options(self.settings, num_inference_steps=num_inference_steps, guidance_scale=guidance_scale)

        def run(work, prompt, generator):
            frames = self.pipe(
                image=work, prompt=prompt, negative_prompt=params.negative_prompt, height=work.height,
                width=work.width, num_frames=params.num_frames, num_inference_steps=params.num_inference_steps,
                guidance_scale=params.guidance_scale, enable_temporal_reasoning=params.temporal_reasoning,
                num_temporal_reasoning_steps=params.num_temporal_reasoning_steps,
                max_sequence_length=params.max_sequence_length, generator=generator, output_type="pil",
            ).frames[0]
            extra = {"video": {"frames_decoded": len(frames), "edit": "the last frame (docs: output[-1])"}}
            if params.distilled:
                extra["lora"] = {"repository": params.model, "weight_name": params.lora_weight_name,
                                 "scale": params.lora_scale, "how": "fused into the transformer's weights (W += scale B A)"}
            return frames[-1], extra

        return self._instructed_edit(image, target, seed, instruction_text, params, run)


def fuse_lora(pipe, source: str, weight_name: str, *, scale: float = 1.0) -> int:
    """Add a LoRA into the transformer's weights (W += scale * alpha/r * B A, bias += scale * b); returns the layer count.

    The state dict comes from diffusers' `lora_state_dict` (downloaded like any model file,
    converted from the Wan authors' format when it is in theirs). Without metadata, diffusers
    and PEFT use alpha = r (the converter folds a checkpoint's own alphas into A and B), so the
    delta is B A; a file saved with PEFT metadata gives its lora_alpha / r.
    """
    import torch

    with explained_load_errors(f"{source} ({weight_name})", "ChronoEdit's distillation LoRA"):
        state, metadata = pipe.lora_state_dict(source, weight_name=weight_name, return_lora_metadata=True)
    metadata = metadata or {}
    if metadata.get("rank_pattern") or metadata.get("alpha_pattern"):
        raise F2FError(f"The LoRA {weight_name} sets per-layer ranks or alphas, which this fuser does not read.")
    factor = scale * (float(metadata["lora_alpha"]) / float(metadata["r"]) if "lora_alpha" in metadata and "r" in metadata else 1.0)
    prefix = "transformer."
    layers = 0
    with torch.no_grad():
        for key in sorted(k for k in state if k.endswith(".lora_A.weight")):
            path = key[: -len(".lora_A.weight")]
            module = pipe.transformer.get_submodule(path[len(prefix):] if path.startswith(prefix) else path)
            down, up = state[key].float(), state[f"{path}.lora_B.weight"].float()
            weight = module.weight
            weight.copy_((weight.float() + factor * (up @ down)).to(weight.dtype))
            bias = state.get(f"{path}.lora_B.bias")
            if bias is not None:
                if module.bias is None:
                    raise F2FError(f"The LoRA {weight_name} has a bias for {path}, which has none.")
                module.bias.copy_((module.bias.float() + factor * bias.float()).to(module.bias.dtype))
            layers += 1
    leftover = [k for k in state if ".lora_A." not in k and ".lora_B." not in k]
    if not layers or leftover:
        raise F2FError(f"The LoRA {weight_name} holds no LoRA layers the fuser knows"
                       f"{' (unexpected keys: ' + ', '.join(leftover[:3]) + ')' if leftover else ''}.")
    return layers
