"""Qwen-Image-Edit-2509 (Qwen team, 2025), a peer instruction editor of Frame2Frame (not in the paper).

Published defaults (diffusers 0.42.1 installed; "pipeline" is the pipeline's `__call__`
default, "card" the model card): 40 steps (card; the pipeline's default is 50); true CFG 4.0
with negative prompt " " (pipeline, card); area 1024² from the aspect ratio, sides /32
(pipeline); bfloat16 (card); 512 text tokens (pipeline).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..base import ImageEditResult, with_options
from .instruction import MEGAPIXEL, InstructionEditor

QWEN_IMAGE_EDIT_2509 = "Qwen/Qwen-Image-Edit-2509"


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
    title = "Qwen-Image-Edit-2509"
    paper = QwenImageEditSettings()
    tiny = QwenImageEditSettings(model="tiny", max_area=96 * 64, num_inference_steps=2)  # 64x64 to 96x64: sides /32
    pipeline_class = "QwenImageEditPlusPipeline"
    stand_in = "qwen-image-edit"
    description = "Qwen-Image-Edit"
    size_multiple = 32  # the pipeline's own rounding of its output size
    min_side = 32

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
