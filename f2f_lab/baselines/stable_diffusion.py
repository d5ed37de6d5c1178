"""Stable Diffusion editors of the paper's comparison (Tables 1 and 2): SDEdit, LEDITS++, Pix2Pix-Zero.

Each runs the diffusers pipeline its authors (or the official Hugging Face docs) provide,
with their published defaults, as the F2F paper says it did (Sec. 5.1: "the default
hyperparameters and settings as provided in their official implementations or official
Hugging Face repositories"). The safety checker is not loaded: it would black out
false positives and distort the metrics.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

from ..loading import default_dtype
from .common import BaselineEditor, ImageEditResult, load_pipeline, source_description, timed, with_options

SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"  # the checkpoint of diffusers' img2img and LEDITS++ docs
SD14 = "CompVis/stable-diffusion-v1-4"  # the checkpoint of diffusers' Pix2Pix-Zero docs and of pix2pix-zero itself


def _tiny_sd():
    from ..tiny import tiny_stable_diffusion

    return tiny_stable_diffusion()


def _sd_dtype(device: str, torch_dtype):
    import torch

    return torch_dtype or default_dtype(device, gpu_dtype=torch.float16)  # SD 1.x's usual inference precision


# ---------------------------------------------------------------------------------------------
# SDEdit


@dataclass(frozen=True)
class SDEditSettings:
    """SDEdit (Meng et al., ICLR 2022) as diffusers runs it, `StableDiffusionImg2ImgPipeline`.

    The source is noised to `strength` of the diffusion and denoised toward the target
    caption: with strength 0.8 and 50 steps, the last 40 steps run. 0.8, 50 steps and
    guidance 7.5 are the pipeline's defaults; lower strength keeps more of the source and
    edits less.
    """

    model: str = SD15
    working_size: int = 512  # longer side the model runs at: SD 1.5's training resolution
    strength: float = 0.8
    num_inference_steps: int = 50
    guidance_scale: float = 7.5


class SDEditEditor(BaselineEditor):
    """SDEdit: noise the source part-way, denoise it with the target caption."""

    method = "sdedit"
    paper = SDEditSettings()
    tiny = SDEditSettings(model="tiny", working_size=64, num_inference_steps=4)
    size_multiple = 8

    @classmethod
    def load_pipe(cls, settings, *, device, offload, progress, torch_dtype):
        from diffusers import StableDiffusionImg2ImgPipeline

        pipe = load_pipeline(
            StableDiffusionImg2ImgPipeline, settings.model, tiny_folder=_tiny_sd, device=device,
            torch_dtype=_sd_dtype(device, torch_dtype), offload=offload, progress=progress, description="SDEdit",
            safety_checker=None, requires_safety_checker=False,
        )
        return pipe

    def edit(
        self,
        image,
        target: str,
        *,
        seed: int = 0,
        strength: float | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
    ) -> ImageEditResult:
        """Edit `image` toward `target`; None arguments take the settings' values (0.8, 50, 7.5)."""
        params = with_options(self.settings, strength=strength, num_inference_steps=num_inference_steps,
                              guidance_scale=guidance_scale)
        source, target, work = self._prepare(image, target)
        timings: dict[str, float] = {}
        with timed(timings, "edit"):
            with self._out_of_memory():
                edited = self.pipe(
                    prompt=target, image=work, strength=params.strength,
                    num_inference_steps=params.num_inference_steps, guidance_scale=params.guidance_scale,
                    generator=self._generator(seed), output_type="pil",
                ).images[0]
        return self._result(source, target, edited, seed, parameters=asdict(params),
                            prompts={"target": target}, timings=timings)


# ---------------------------------------------------------------------------------------------
# LEDITS++


@dataclass(frozen=True)
class LeditsSettings:
    """LEDITS++ (Brack et al., CVPR 2024) through `LEditsPPPipelineStableDiffusion`.

    The source is inverted exactly with the DPM-Solver++ SDE (30 steps after skipping the
    first 15 %), then regenerated with semantic guidance toward edit concepts, limited by
    implicit masks (`edit_threshold`). The numbers are the pipeline's defaults.

    Prompts. LEDITS++ needs no description of the source: `source_prompt=""` (the default of
    `invert`) inverts without text guidance. Its edits are *concepts* ("cherry blossom")
    rather than captions; a benchmark gives only a target caption, so the whole target
    caption is the single concept, guided towards (`edit_concepts` overrides this).
    """

    model: str = SD15
    working_size: int = 512
    num_inference_steps: int = 30  # diffusers' `num_inversion_steps`: inversion and editing share them
    skip: float = 0.15
    edit_guidance_scale: float = 5.0
    edit_threshold: float = 0.9
    source_prompt: str = ""
    source_guidance_scale: float = 3.5  # only used with a non-empty source prompt
    edit_concepts: tuple[str, ...] | None = None


class LeditsEditor(BaselineEditor):
    """LEDITS++: exact inversion, then semantic guidance toward the target, masked implicitly."""

    method = "ledits"
    paper = LeditsSettings()
    tiny = LeditsSettings(model="tiny", working_size=128, num_inference_steps=3)
    size_multiple = 32  # the pipeline refuses other sizes
    min_side = 64  # its masks read cross-attention at 1/32 of the image: at least 2 x 2 cells

    @classmethod
    def load_pipe(cls, settings, *, device, offload, progress, torch_dtype):
        from diffusers import DPMSolverMultistepScheduler, LEditsPPPipelineStableDiffusion

        pipe = load_pipeline(
            LEditsPPPipelineStableDiffusion, settings.model, tiny_folder=_tiny_sd, device=device,
            torch_dtype=_sd_dtype(device, torch_dtype), offload=offload, progress=progress, description="LEDITS++",
            safety_checker=None, requires_safety_checker=False,
            # The solver LEDITS++'s inversion is derived for (the pipeline would switch to it itself).
            scheduler=(DPMSolverMultistepScheduler, {"algorithm_type": "sde-dpmsolver++", "solver_order": 2}),
        )
        return pipe

    def edit(
        self,
        image,
        target: str,
        *,
        seed: int = 0,
        edit_concepts: Sequence[str] | None = None,
        source_prompt: str | None = None,
        num_inference_steps: int | None = None,
        skip: float | None = None,
        edit_guidance_scale: float | None = None,
        edit_threshold: float | None = None,
    ) -> ImageEditResult:
        """Edit `image` toward `target` (the single edit concept unless `edit_concepts` is given)."""
        params = with_options(
            self.settings, source_prompt=source_prompt, num_inference_steps=num_inference_steps, skip=skip,
            edit_guidance_scale=edit_guidance_scale, edit_threshold=edit_threshold,
            edit_concepts=tuple(edit_concepts) if edit_concepts else None,
        )
        source, target, work = self._prepare(image, target)
        concepts = list(params.edit_concepts or (target,))
        generator = self._generator(seed)
        timings: dict[str, float] = {}
        with self._out_of_memory():
            with timed(timings, "inversion"):
                self.pipe.invert(
                    image=work, source_prompt=params.source_prompt, source_guidance_scale=params.source_guidance_scale,
                    num_inversion_steps=params.num_inference_steps, skip=params.skip, generator=generator,
                    height=work.height, width=work.width,
                )
            with timed(timings, "edit"):
                edited = self.pipe(
                    editing_prompt=concepts, reverse_editing_direction=[False] * len(concepts),
                    edit_guidance_scale=params.edit_guidance_scale, edit_threshold=params.edit_threshold,
                    generator=generator, output_type="pil",
                ).images[0]
        prompts = {"target": target, "source_prompt": params.source_prompt, "edit_concepts": concepts,
                   "rule": "the target caption is the one edit concept" if not params.edit_concepts else "given"}
        return self._result(source, target, edited, seed, parameters=asdict(params), prompts=prompts, timings=timings)


# ---------------------------------------------------------------------------------------------
# Pix2Pix-Zero


@dataclass(frozen=True)
class Pix2PixZeroSettings:
    """Pix2Pix-Zero (Parmar et al., SIGGRAPH 2023) through `StableDiffusionPix2PixZeroPipeline`.

    The recipe of the pipeline's documentation for real images: DDIM inversion of the source
    conditioned on its caption (with the pipeline's noise regularisation), then DDIM
    generation from the inverted noise where the caption's embedding is moved along the edit
    direction (target embedding minus source embedding) and cross-attention guidance (0.15)
    keeps the source's structure; the caption is also the negative prompt.

    Prompts. The source caption came from BLIP-2 in the paper (Sec. 5.1); here it is
    `source_prompt` when given, else `source_description(target)` (the target's subject). The
    edit direction is built from one sentence on each side, the source caption and the
    target caption (Pix2Pix-Zero's authors average many generated sentences per concept).
    """

    model: str = SD14
    working_size: int = 512
    num_inference_steps: int = 50  # both inversion and generation
    guidance_scale: float = 7.5
    cross_attention_guidance_amount: float = 0.15
    num_reg_steps: int = 5  # inversion regularisation: the pipeline's defaults
    num_auto_corr_rolls: int = 5
    lambda_auto_corr: float = 20.0
    lambda_kl: float = 20.0
    source_prompt: str | None = None


class Pix2PixZeroEditor(BaselineEditor):
    """Pix2Pix-Zero: invert with the source caption, regenerate along a text-embedding direction."""

    method = "pix2pix-zero"
    paper = Pix2PixZeroSettings()
    tiny = Pix2PixZeroSettings(model="tiny", working_size=64, num_inference_steps=3, num_reg_steps=1,
                               num_auto_corr_rolls=1)
    size_multiple = 8

    @classmethod
    def load_pipe(cls, settings, *, device, offload, progress, torch_dtype):
        from diffusers import DDIMInverseScheduler, DDIMScheduler, StableDiffusionPix2PixZeroPipeline

        pipe = load_pipeline(
            StableDiffusionPix2PixZeroPipeline, settings.model, tiny_folder=_tiny_sd, device=device,
            torch_dtype=_sd_dtype(device, torch_dtype), offload=offload, progress=progress,
            description="Pix2Pix-Zero", safety_checker=None, requires_safety_checker=False,
            caption_generator=None, caption_processor=None,
        )
        pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)
        pipe.inverse_scheduler = DDIMInverseScheduler.from_config(pipe.scheduler.config)
        return pipe

    def edit(
        self,
        image,
        target: str,
        *,
        seed: int = 0,
        source_prompt: str | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
        cross_attention_guidance_amount: float | None = None,
    ) -> ImageEditResult:
        """Edit `image` toward `target`; `source_prompt` describes the source (else derived from the target)."""
        params = with_options(self.settings, source_prompt=source_prompt, num_inference_steps=num_inference_steps,
                              guidance_scale=guidance_scale,
                              cross_attention_guidance_amount=cross_attention_guidance_amount)
        source, target, work = self._prepare(image, target)
        caption = params.source_prompt or source_description(target)
        generator = self._generator(seed)
        timings: dict[str, float] = {}
        with self._out_of_memory():
            with timed(timings, "inversion"):
                inverted = self.pipe.invert(
                    caption, image=work, num_inference_steps=params.num_inference_steps, generator=generator,
                    num_reg_steps=params.num_reg_steps, num_auto_corr_rolls=params.num_auto_corr_rolls,
                    lambda_auto_corr=params.lambda_auto_corr, lambda_kl=params.lambda_kl,
                ).latents
            with timed(timings, "edit"):
                source_embeds = self.pipe.get_embeds([caption])
                target_embeds = self.pipe.get_embeds([target])
                edited = self.pipe(
                    caption, source_embeds=source_embeds, target_embeds=target_embeds, height=work.height,
                    width=work.width, num_inference_steps=params.num_inference_steps,
                    guidance_scale=params.guidance_scale,
                    cross_attention_guidance_amount=params.cross_attention_guidance_amount,
                    generator=generator, latents=inverted, negative_prompt=caption, output_type="pil",
                ).images[0]
        prompts = {"target": target, "source_prompt": caption,
                   "rule": "given" if params.source_prompt else "source_description(target)"}
        return self._result(source, target, edited, seed, parameters=asdict(params), prompts=prompts, timings=timings)
