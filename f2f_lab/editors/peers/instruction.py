"""What the peer instruction editors share (ChronoEdit, FLUX.1 Kontext [dev], Qwen-Image-Edit-2509).

Unlike the paper's baselines these take an *instruction* ("Edit the image so that it shows a
cat yawning."), not a caption; `f2f_lab.instructions` derives it from the benchmark's target
caption, by a fixed template (the default) or a VLM that sees the source
(`instruction="vlm"`), and every result records the instruction and how it was made.

Geometry. Each model works at about a megapixel with the source's aspect ratio (its own
rule, in its module); the result is resized so that its longer side is 512 px, like Frame2Frame's
edits and the other baselines', so that the metrics compare like with like.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from PIL import Image

from ...captions import check_caption
from ...errors import F2FError
from ...imaging import load_image
from ...instructions import Instruction, TemplateInstructor, make_instructor
from ...loading import default_device
from ...presets import get_preset
from ..base import BaselineEditor, ImageEditResult, timed, with_options

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
