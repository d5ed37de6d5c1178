"""Today's instruction editors as peers of Frame2Frame: FLUX.1 Kontext [dev] and Qwen-Image-Edit-2509.

Unlike the paper's baselines these take an *instruction* ("Edit the image so that it shows a
cat yawning."), not a caption; `f2f_lab.instructions` derives it from the benchmark's target
caption, by a fixed template (the default) or a VLM that sees the source
(`instruction="vlm"`), and every result records the instruction and how it was made.
ChronoEdit, which also takes an instruction, is in `chronoedit.py` on the same base class.

Geometry. Each model works at about a megapixel with the source's aspect ratio (its own
rule, below); the result is resized so that its longer side is 512 px, like Frame2Frame's
edits and the other baselines', so that the metrics compare like with like.

Published defaults, with where each comes from (diffusers 0.42.1 installed; "pipeline" is the
pipeline's `__call__` default, "docs" diffusers' documentation page, "card" the model card):

| setting | Kontext [dev] | Qwen-Image-Edit-2509 |
|---|---|---|
| steps | 28 (pipeline) | 40 (card; the pipeline's default is 50) |
| guidance | 2.5 distilled guidance (docs, card, the pipeline's own example; its signature says 3.5) | true CFG 4.0 with negative prompt " " (pipeline, card) |
| size | area 1024² from height/width, sides /16; input snapped to a preferred size (pipeline) | area 1024² from the aspect ratio, sides /32 (pipeline) |
| dtype | bfloat16 (docs) | bfloat16 (card) |
| text length | 512 T5 tokens (pipeline) | 512 (pipeline) |
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from PIL import Image

from ..errors import F2FError
from ..instructions import Instruction, TemplateInstructor, make_instructor
from ..loading import default_device, default_dtype
from .common import BaselineEditor, ImageEditResult, load_pipeline, timed, with_options

FLUX_KONTEXT_DEV = "black-forest-labs/FLUX.1-Kontext-dev"
QWEN_IMAGE_EDIT_2509 = "Qwen/Qwen-Image-Edit-2509"
MEGAPIXEL = 1024 * 1024


def area_size(size: tuple[int, int], max_area: int, multiple: int) -> tuple[int, int]:
    """(width, height) of about `max_area` pixels with the aspect ratio of `size`, each side floored to `multiple`.

    The rule of ChronoEdit's documentation and of Kontext's pipeline: width = sqrt(area * w / h),
    height = sqrt(area * h / w), each rounded, then floored to the multiple.
    """
    width, height = size
    aspect = width / height
    return (max(multiple, round(math.sqrt(max_area * aspect)) // multiple * multiple),
            max(multiple, round(math.sqrt(max_area / aspect)) // multiple * multiple))


class InstructionEditor(BaselineEditor):
    """What the instruction editors share: the instruction, the area geometry, the record.

    A subclass's settings dataclass has `model`, `max_area` and `instruction` ("template" or
    "vlm"); `size_multiple` is what the model needs the sides to divide by.
    """

    def __init__(self, pipe, settings, *, instructor=None, **options):
        super().__init__(pipe, settings, **options)
        self.instructor = instructor or TemplateInstructor()

    @classmethod
    def from_preset(cls, preset="paper", *, device: str | None = None, offload: bool | None = None,
                    progress: bool = True, torch_dtype=None, vlm=None, vlm_options: dict | None = None, **overrides):
        """The editor with its model card's defaults, or the tiny offline stand-in for the "tiny" preset.

        Args:
            vlm: the VLM client that writes instructions when `instruction="vlm"` (anything with
                `.chat`); None builds the preset's (as Frame2Frame does) with `vlm_options`.
            overrides: fields of the settings, e.g. `num_inference_steps=20`, `instruction="vlm"`.
        """
        from ..presets import get_preset

        preset = get_preset(preset)
        settings = cls.settings_for(preset, **overrides)
        # The instructor first: a missing VLM key fails before a model of tens of GB loads.
        instructor = make_instructor(settings.instruction, client=vlm, preset=preset, device=device,
                                     torch_dtype=torch_dtype, vlm_options=vlm_options)
        device = device or default_device()
        offload = bool(preset.levers.offload if offload is None else offload)
        pipe = cls.load_pipe(settings, device=device, offload=offload, progress=progress, torch_dtype=torch_dtype)
        return cls(pipe, settings, instructor=instructor, device=device, offload=offload,
                   output_size=preset.output_size, is_tiny=preset.is_tiny, progress=progress)

    @classmethod
    def settings_for(cls, preset, **overrides):
        """The settings a preset starts from (the card's, or the tiny ones), with `overrides` applied."""
        base = cls.tiny if preset.is_tiny else cls.paper
        cls.check_options(base, overrides)
        return with_options(base, **overrides)

    @classmethod
    def check_options(cls, settings, overrides: dict) -> None:
        """Refuse option names that are not fields of the settings, naming the ones there are."""
        unknown = sorted(set(overrides) - {f.name for f in fields(settings)})
        if unknown:
            raise F2FError(
                f"The {cls.method} editor has no option {', '.join(unknown)}. Its options: device, offload, progress, "
                f"torch_dtype, vlm, vlm_options, {', '.join(f.name for f in fields(settings))}."
            )

    def _prepare(self, image, target: str):
        """The source, the checked target, and the source resized to the model's working size (area rule)."""
        from ..captions import check_caption
        from ..imaging import load_image

        source = load_image(image)
        target = check_caption(target)
        width, height = self.work_size(source.size)
        if min(width, height) < self.min_side or max(width, height) / min(width, height) > 8:
            raise F2FError(
                f"A {source.width}x{source.height} image runs at {width}x{height} for {self.method}; its aspect ratio "
                "is too extreme. Crop it first."
            )
        return source, target, source.resize((width, height), Image.Resampling.LANCZOS)

    def work_size(self, size: tuple[int, int]) -> tuple[int, int]:
        """(width, height) the model runs at for a source of `size`: about `max_area` pixels, its aspect ratio."""
        return area_size(size, self.settings.max_area, self.size_multiple)

    def instruction_for(self, source: Image.Image, target: str, instruction_text: str | None = None) -> Instruction:
        """The instruction of this edit: `instruction_text` as given, else the instructor's (template or VLM)."""
        if instruction_text is not None:
            from ..captions import check_caption

            return Instruction(text=check_caption(instruction_text, "instruction"), method="given")
        return self.instructor(source, target)

    def _instructed_edit(self, image, target: str, seed: int, instruction_text: str | None, params,
                         run) -> ImageEditResult:
        """What every instruction editor's `edit` does around its pipeline call, in order.

        The source is brought to the working size, the instruction derived (or `instruction_text`
        taken as given), then `run(work, instruction_text, generator)` calls the pipeline and
        returns (edited image, extra record or None); out-of-memory becomes a clear error.
        """
        source, target, work = self._prepare(image, target)
        timings: dict[str, float] = {}
        with timed(timings, "instruction"):
            instruction = self.instruction_for(source, target, instruction_text)
        with timed(timings, "edit"):
            with self._out_of_memory():
                edited, extra = run(work, instruction.text, self._generator(seed))
        return self._edit_result(source, target, edited, seed, parameters=asdict(params), instruction=instruction,
                                 timings=timings, extra=extra)

    def _edit_result(self, source, target, edited, seed, *, parameters: dict, instruction: Instruction,
                     timings: dict, extra: dict | None = None) -> ImageEditResult:
        """`_result` with the instruction, how it was made, and the scheduler's settings in the record."""
        prompts = {"target": target, "instruction": instruction.text, "instruction_method": instruction.method,
                   "instruction_record": instruction.record}
        result = self._result(source, target, edited, seed, parameters=parameters, prompts=prompts, timings=timings)
        scheduler = self.pipe.scheduler.config
        result.record["model"]["scheduler_config"] = {
            key: scheduler.get(key) for key in ("flow_shift", "shift", "use_dynamic_shifting", "time_shift_type")
            if key in scheduler
        }
        result.record["instructor"] = self.instructor.describe()
        result.record.update(extra or {})
        return result


def _card_dtype(device: str, torch_dtype):
    import torch

    return torch_dtype or default_dtype(device, gpu_dtype=torch.bfloat16)


# ---------------------------------------------------------------------------------------------
# FLUX.1 Kontext [dev]


@dataclass(frozen=True)
class KontextSettings:
    """FLUX.1 Kontext [dev] (Black Forest Labs, 2025) through `FluxKontextPipeline`.

    The source image's tokens sit beside the noise in FLUX's transformer, which follows the
    instruction. Guidance is FLUX's distilled guidance (an input of the model, one pass per
    step); `true_cfg_scale` 1.0 and no negative prompt keep it that way, as the card does.
    `height`/`width` are passed (the source's aspect ratio at `max_area` pixels, the pipeline's
    own rule), so the output keeps the source's shape: without them the pipeline makes a square.
    `auto_resize` snaps the *input* to the nearest of Kontext's preferred training sizes.
    """

    model: str = FLUX_KONTEXT_DEV
    max_area: int = MEGAPIXEL
    num_inference_steps: int = 28
    guidance_scale: float = 2.5
    true_cfg_scale: float = 1.0
    negative_prompt: str | None = None
    max_sequence_length: int = 512
    auto_resize: bool = True
    instruction: str = "template"


class KontextEditor(InstructionEditor):
    """FLUX.1 Kontext [dev]: instruction editing with the source in context."""

    method = "kontext"
    paper = KontextSettings()
    # 64x64; the preferred sizes are about a megapixel, so the tiny model keeps its input size.
    tiny = KontextSettings(model="tiny", max_area=64 * 64, num_inference_steps=2, max_sequence_length=64,
                           auto_resize=False)
    size_multiple = 16  # VAE 8x, then 2x2 packing
    min_side = 16

    @classmethod
    def load_pipe(cls, settings, *, device, offload, progress, torch_dtype):
        from diffusers import FluxKontextPipeline

        from ..tiny_peers import tiny_flux_kontext

        return load_pipeline(FluxKontextPipeline, settings.model, tiny_folder=tiny_flux_kontext, device=device,
                             torch_dtype=_card_dtype(device, torch_dtype), offload=offload, progress=progress,
                             description="FLUX.1 Kontext")

    def edit(self, image, target: str, *, seed: int = 0, instruction_text: str | None = None,
             num_inference_steps: int | None = None, guidance_scale: float | None = None) -> ImageEditResult:
        """Edit `image` toward `target` (as an instruction: derived, or `instruction_text` as given)."""
        params = with_options(self.settings, num_inference_steps=num_inference_steps, guidance_scale=guidance_scale)

        def run(work, prompt, generator):
            return self.pipe(
                image=work, prompt=prompt, height=work.height, width=work.width, max_area=params.max_area,
                _auto_resize=params.auto_resize, num_inference_steps=params.num_inference_steps,
                guidance_scale=params.guidance_scale, true_cfg_scale=params.true_cfg_scale,
                negative_prompt=params.negative_prompt, max_sequence_length=params.max_sequence_length,
                generator=generator, output_type="pil",
            ).images[0], None

        return self._instructed_edit(image, target, seed, instruction_text, params, run)


# ---------------------------------------------------------------------------------------------
# Qwen-Image-Edit-2509


@dataclass(frozen=True)
class QwenImageEditSettings:
    """Qwen-Image-Edit-2509 (Qwen team, 2025) through `QwenImageEditPlusPipeline`.

    Qwen2.5-VL reads the source (at about 384x384) with the instruction, and the MMDiT
    generates with the source's VAE latents (at about 1024x1024) as reference. Classifier-free
    guidance is "true" CFG, two passes per step: it needs a negative prompt, and the card's is
    a single space (without one the pipeline silently turns CFG off). `guidance_scale` is not
    passed: this transformer is not guidance-distilled and ignores it.
    """

    model: str = QWEN_IMAGE_EDIT_2509
    max_area: int = MEGAPIXEL
    num_inference_steps: int = 40
    true_cfg_scale: float = 4.0
    negative_prompt: str = " "
    max_sequence_length: int = 512
    instruction: str = "template"


class QwenImageEditEditor(InstructionEditor):
    """Qwen-Image-Edit-2509: a VLM-conditioned MMDiT that edits from an instruction."""

    method = "qwen-edit"
    paper = QwenImageEditSettings()
    tiny = QwenImageEditSettings(model="tiny", max_area=96 * 64, num_inference_steps=2)  # 64x64 to 96x64: sides /32
    size_multiple = 32  # the pipeline's own rounding of its output size
    min_side = 32

    @classmethod
    def load_pipe(cls, settings, *, device, offload, progress, torch_dtype):
        from diffusers import QwenImageEditPlusPipeline

        from ..tiny_peers import tiny_qwen_image_edit

        return load_pipeline(QwenImageEditPlusPipeline, settings.model, tiny_folder=tiny_qwen_image_edit, device=device,
                             torch_dtype=_card_dtype(device, torch_dtype), offload=offload, progress=progress,
                             description="Qwen-Image-Edit")

    def work_size(self, size: tuple[int, int]) -> tuple[int, int]:
        """The pipeline's own output size for this aspect ratio (`calculate_dimensions`: area, sides rounded to 32)."""
        from diffusers.pipelines.qwenimage.pipeline_qwenimage_edit_plus import calculate_dimensions

        width, height = calculate_dimensions(self.settings.max_area, size[0] / size[1])
        return max(self.size_multiple, width), max(self.size_multiple, height)

    def edit(self, image, target: str, *, seed: int = 0, instruction_text: str | None = None,
             num_inference_steps: int | None = None, true_cfg_scale: float | None = None) -> ImageEditResult:
        """Edit `image` toward `target` (as an instruction: derived, or `instruction_text` as given)."""
        params = with_options(self.settings, num_inference_steps=num_inference_steps, true_cfg_scale=true_cfg_scale)

        def run(work, prompt, generator):
            return self.pipe(
                image=work, prompt=prompt, negative_prompt=params.negative_prompt, true_cfg_scale=params.true_cfg_scale,
                height=work.height, width=work.width, num_inference_steps=params.num_inference_steps,
                max_sequence_length=params.max_sequence_length, generator=generator, output_type="pil",
            ).images[0], None

        return self._instructed_edit(image, target, seed, instruction_text, params, run)
