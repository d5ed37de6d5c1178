"""LEDITS++ (Brack et al., CVPR 2024), a Stable Diffusion baseline of the paper's comparison (Tables 1 and 2).

It runs the diffusers pipeline its authors (or the official Hugging Face docs) provide,
with their published defaults, as the F2F paper says it did (Sec. 5.1: "the default
hyperparameters and settings as provided in their official implementations or official
Hugging Face repositories"). The safety checker is not loaded: it would black out
false positives and distort the metrics.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

from ..base import BaselineEditor, ImageEditResult, timed, with_options
from .sdedit import NO_SAFETY_CHECKER, SD15, SD_GPU_DTYPE


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
    title = "LEDITS++"
    paper = LeditsSettings()
    tiny = LeditsSettings(model="tiny", working_size=128, num_inference_steps=3)
    pipeline_class = "LEditsPPPipelineStableDiffusion"
    stand_in = "stable-diffusion"
    description = "LEDITS++"
    gpu_dtype = SD_GPU_DTYPE
    components = NO_SAFETY_CHECKER
    # The solver LEDITS++'s inversion is derived for (the pipeline would switch to it itself).
    pipeline_scheduler = ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++", "solver_order": 2})
    size_multiple = 32  # the pipeline refuses other sizes
    min_side = 64  # its masks read cross-attention at 1/32 of the image: at least 2 x 2 cells

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
