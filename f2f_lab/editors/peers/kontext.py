"""FLUX.1 Kontext [dev] (Black Forest Labs, 2025), a peer instruction editor of Frame2Frame (not in the paper).

Published defaults (diffusers 0.42.1 installed; "pipeline" is the pipeline's `__call__`
default, "docs" diffusers' documentation page, "card" the model card): 28 steps (pipeline);
distilled guidance 2.5 (docs, card, the pipeline's own example; its signature says 3.5); area
1024² from height/width, sides /16, the input snapped to a preferred size (pipeline);
bfloat16 (docs); 512 T5 tokens (pipeline).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..base import ImageEditResult, with_options
from .instruction import MEGAPIXEL, InstructionEditor

FLUX_KONTEXT_DEV = "black-forest-labs/FLUX.1-Kontext-dev"


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
    title = "FLUX.1 Kontext [dev]"
    paper = KontextSettings()
    # 64x64; the preferred sizes are about a megapixel, so the tiny model keeps its input size.
    tiny = KontextSettings(model="tiny", max_area=64 * 64, num_inference_steps=2, max_sequence_length=64,
                           auto_resize=False)
    pipeline_class = "FluxKontextPipeline"
    stand_in = "flux-kontext"
    description = "FLUX.1 Kontext"
    size_multiple = 16  # VAE 8x, then 2x2 packing
    min_side = 16

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
