"""SDEdit (Meng et al., ICLR 2022), the first of the paper's Stable Diffusion baselines (Tables 1 and 2).

It runs the diffusers pipeline its authors (or the official Hugging Face docs) provide,
with their published defaults, as the F2F paper says it did (Sec. 5.1: "the default
hyperparameters and settings as provided in their official implementations or official
Hugging Face repositories"). The safety checker is not loaded: it would black out
false positives and distort the metrics.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..base import BaselineEditor, ImageEditResult, timed, with_options

SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"  # the checkpoint of diffusers' img2img and LEDITS++ docs
SD_GPU_DTYPE = "float16"  # SD 1.x's usual inference precision
NO_SAFETY_CHECKER = {"safety_checker": None, "requires_safety_checker": False}


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
    title = "SDEdit"
    paper = SDEditSettings()
    tiny = SDEditSettings(model="tiny", working_size=64, num_inference_steps=4)
    pipeline_class = "StableDiffusionImg2ImgPipeline"
    stand_in = "stable-diffusion"
    description = "SDEdit"
    gpu_dtype = SD_GPU_DTYPE
    components = NO_SAFETY_CHECKER
    size_multiple = 8

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
