"""CogVideoX I2V: the paper's video model (5B) and CogVideoX 1.5, over `CogVideoXImageToVideoPipeline`.

The paper uses CogVideoX-5B I2V with its published defaults: 49 frames, 50 denoising steps,
classifier-free guidance 6.0, the model's own DDIM scheduler with v-prediction, 8 fps
(appendix E), on a fixed 720x480 canvas. CogVideoX 1.5 is the same class with a short side
of 768 and a long side up to 1360 (multiples of 16, either orientation: its card) and 16N+1
frames (81 at 16 fps).
"""

from __future__ import annotations

import warnings
from typing import Any

from PIL import Image

from ..errors import F2FError
from ..imaging import LetterboxCanvas
from .levers import Levers
from .backends import BACKENDS, VideoBackend
from .base import VideoGenerator

PAPER_MODEL = BACKENDS["cogvideox"].hub_id


def positional_embedding_of(num_frames: int, config) -> tuple[str, str | None]:
    """Which positional embedding the transformer uses for `num_frames`, and a warning when it is untrained.

    CogVideoX-5B I2V learns its positional embedding for `sample_frames` (49) frames; for any
    other count diffusers silently drops it and adds a sin-cos embedding the model never saw
    (`CogVideoXPatchEmbed`), so the video changes in ways no test of the weights covered.
    """
    if not config.get("use_learned_positional_embeddings"):
        return "rotary only" if config.get("use_rotary_positional_embeddings") else "sin-cos", None
    frames = config.get("sample_frames")
    if num_frames == frames:
        return f"learned ({frames} frames)", None
    return f"sin-cos substitute: the learned one is for {frames} frames", (
        f"num_frames={num_frames}: this CogVideoX transformer learned its positional embedding for {frames} frames only; "
        f"diffusers replaces it by an untrained sin-cos embedding for {num_frames}, so the video is not the model's own. "
        f"Use {frames} frames for the model as published (the paper: 49)."
    )


class CogVideoXGenerator(VideoGenerator):
    """Image-to-video over diffusers' `CogVideoXImageToVideoPipeline` (CogVideoX-5B I2V and 1.5)."""

    family = "cogvideox"

    def __init__(self, pipe, model_id: str, device: str, *, backend: VideoBackend | str = "cogvideox",
                 revision: str | None = None, levers: Levers | None = None):
        super().__init__(pipe, model_id, device, backend=backend, revision=revision, levers=levers)

    @classmethod
    def from_pretrained(cls, model_id: str | None = None, *, backend: VideoBackend | str = "cogvideox", **options) -> "CogVideoXGenerator":
        """Load CogVideoX-5B I2V (the paper's; `canvas` (width, height) sizes the tiny stand-in) or 1.5."""
        return super().from_pretrained(model_id, backend=backend, **options)

    @property
    def canvas(self) -> tuple[int, int]:
        """The size the transformer learned (CogVideoX-5B generates at this size only)."""
        config = self.pipe.transformer.config
        scale = self.pipe.vae_scale_factor_spatial
        return config.sample_width * scale, config.sample_height * scale

    def max_size(self) -> tuple[int, int] | None:
        # CogVideoX 1.5's RoPE (grid_type "slice") covers at most the config's sample size:
        # a taller or wider latent grid fails (zai-org/CogVideo#521).
        sample = self.canvas
        cap = self.backend.max_size or sample
        return min(cap[0], sample[0]), min(cap[1], sample[1])

    def short_side_canvas(self, source_size: tuple[int, int], canvas: tuple[int, int]) -> tuple[int, int]:
        """CogVideoX 1.5's size rule (its card: Min(W, H) = 768, 768 <= Max(W, H) <= 1360, Max(W, H) % 16 = 0).

        The short side is `canvas`'s short side, in the source's orientation; the long side is
        the source's aspect times it, to the nearest multiple of 16, at most `canvas`'s long side.
        A source more elongated than that gets a `LetterboxCanvas` of the largest size: it is
        letterboxed, not stretched. The rotary grid (the transformer's sample size) caps both.
        """
        multiple = self.backend.size_multiple
        short, longest = min(canvas), max(canvas)
        if short % multiple or longest % multiple:
            raise F2FError(f"The canvas {canvas[0]}x{canvas[1]} is not a multiple of {multiple}, as {self.backend.key} needs.")
        width, height = source_size
        ratio = max(width, height) / min(width, height)
        long_side = max(short, round(short * ratio / multiple) * multiple)
        size = (min(long_side, longest), short) if width >= height else (short, min(long_side, longest))
        grid = self.max_size()
        if size[0] > grid[0] or size[1] > grid[1]:
            raise F2FError(f"{self.backend.key} would generate {size[0]}x{size[1]}, beyond its transformer's rotary grid "
                           f"of {grid[0]}x{grid[1]} px; use a smaller canvas.")
        return LetterboxCanvas(size) if long_side > longest else size

    def canvas_for(self, source_size, *, geometry: str, canvas: tuple[int, int]) -> tuple[int, int]:
        if geometry == "aspect" and self.backend.size_rule == "short side":
            return self.short_side_canvas(source_size, canvas)
        size = super().canvas_for(source_size, geometry=geometry, canvas=canvas)
        if self.backend.fixed_size and size != self.canvas:
            raise F2FError(f"{self.backend.key} generates on a {self.canvas} canvas only; the preset asks for {size}.")
        return size

    def pipeline_arguments(self, image: Image.Image, prompt: str, **numbers) -> dict[str, Any]:
        arguments = super().pipeline_arguments(image, prompt, **numbers)
        if self.backend.fixed_size and image.size != self.canvas:
            raise ValueError(f"image is {image.size}; this model generates on a {self.canvas} canvas")
        _, warning = positional_embedding_of(arguments["num_frames"], self.pipe.transformer.config)
        if warning:
            warnings.warn(warning, UserWarning, stacklevel=3)
        return {
            **arguments,
            "max_sequence_length": self.pipe.transformer.config.max_text_seq_length,
            "use_dynamic_cfg": False,  # diffusers' default and the model card's: the paper's plain DDIM guidance
        }

    def run_record(self, arguments: dict[str, Any]) -> dict[str, Any]:
        embedding, _ = positional_embedding_of(arguments["num_frames"], self.pipe.transformer.config)
        return {"use_dynamic_cfg": False, "positional_embedding": embedding,
                "max_sequence_length": arguments["max_sequence_length"]}
