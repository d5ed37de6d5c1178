"""Pix2Pix-Zero (Parmar et al., SIGGRAPH 2023), a Stable Diffusion baseline of the paper (Table 2).

It runs the diffusers pipeline its authors (or the official Hugging Face docs) provide,
with their published defaults, as the F2F paper says it did (Sec. 5.1: "the default
hyperparameters and settings as provided in their official implementations or official
Hugging Face repositories"). The safety checker is not loaded: it would black out
false positives and distort the metrics.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..base import BaselineEditor, ImageEditResult, timed, with_options
from .prompts import source_description
from .sdedit import NO_SAFETY_CHECKER, SD_GPU_DTYPE

SD14 = "CompVis/stable-diffusion-v1-4"  # the checkpoint of diffusers' Pix2Pix-Zero docs and of pix2pix-zero itself


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
    title = "Pix2Pix-ZERO"
    paper = Pix2PixZeroSettings()
    tiny = Pix2PixZeroSettings(model="tiny", working_size=64, num_inference_steps=3, num_reg_steps=1,
                               num_auto_corr_rolls=1)
    pipeline_class = "StableDiffusionPix2PixZeroPipeline"
    stand_in = "stable-diffusion"
    description = "Pix2Pix-Zero"
    gpu_dtype = SD_GPU_DTYPE
    components = {**NO_SAFETY_CHECKER, "caption_generator": None, "caption_processor": None}
    uses_source_description = True  # it needs a caption of the source (`source_description`)
    size_multiple = 8

    @classmethod
    def prepare_pipe(cls, pipe, settings):
        """DDIM for generation and its inverse for inversion, as the pipeline's documentation does."""
        from diffusers import DDIMInverseScheduler, DDIMScheduler

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

