"""Frame2Frame: image editing as a path on the image manifold (Rotstein et al., 2024).

    caption  = captioner(source, target)                  # Sec. 3.1, temporal editing caption
    frames   = generator(to_canvas(source), caption)      # Sec. 3.2, image-to-video
    index    = selector(source, frames, target)           # Sec. 3.3, frame selection

Each stage is a plain object with one call and can be swapped for another.
"""

from __future__ import annotations

import time
from typing import Iterable

from PIL import Image

from . import __version__
from .captions import Caption, check_caption, make_captioner
from .imaging import ImageInput, from_canvas, image_hash, load_image, to_canvas
from .presets import TINY_NOTICE, Preset, get_preset
from .records import library_versions
from .results import EditResult
from .selection import make_selector
from .video import CogVideoXGenerator, Levers, check_num_frames


class Frame2Frame:
    """Caption, generate, select: the three steps of the paper, in that order."""

    def __init__(self, generator, captioner, selector, preset: Preset):
        self.generator = generator
        self.captioner = captioner
        self.selector = selector
        self.preset = preset

    @classmethod
    def from_preset(
        cls,
        preset: str | Preset = "paper",
        *,
        captioner: str | None = None,
        selector: str | None = None,
        device: str | None = None,
        offload: bool | None = None,
        progress: bool = True,
        vlm_options: dict | None = None,
        **overrides,
    ) -> "Frame2Frame":
        """Build the editor of a preset ("paper" or "tiny"); keyword arguments override its fields.

        Example: `Frame2Frame.from_preset("paper", selector="clip", num_frames=33)`.
        """
        preset = get_preset(preset).with_options(captioner=captioner, selector=selector, offload=offload, **overrides)
        check_num_frames(preset.num_frames)
        # Stages without weights first, so a missing API key fails before a 22 GB load.
        captioner_stage = make_captioner(preset.captioner, **{"model": preset.vlm_model, **(vlm_options or {})})
        selector_stage = make_selector(
            preset.selector,
            vlm={"model": preset.vlm_model, **(vlm_options or {})},
            clip={"model_name": preset.clip_model, "pretrained": preset.clip_pretrained, "device": device},
        )
        generator = CogVideoXGenerator.from_pretrained(
            preset.video_model, canvas=preset.canvas, device=device, progress=progress, levers=Levers.from_preset(preset)
        )
        return cls(generator, captioner_stage, selector_stage, preset)

    def edit(
        self,
        image: ImageInput,
        target: str,
        *,
        seed: int = 0,
        caption: str | Caption | None = None,
        num_frames: int | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
    ) -> EditResult:
        """Edit `image` toward the `target` caption.

        Args:
            image: a path, PIL image or array; any mode is converted to RGB.
            target: what the edited image shows, e.g. "A photo of a cat yawning."
            seed: the video's noise seed (the paper keeps the best of 15 seeds).
            caption: a temporal caption to use instead of asking the captioner.
            num_frames, num_inference_steps, guidance_scale: override the preset's.
        """
        source = load_image(image)
        target = check_caption(target)
        timings: dict[str, float] = {}

        start = time.perf_counter()
        caption = self._caption(source, target, caption)
        timings["caption"] = time.perf_counter() - start

        return self._generate_and_select(source, target, caption, seed, timings, num_frames, num_inference_steps, guidance_scale)

    def edit_seeds(self, image: ImageInput, target: str, seeds: Iterable[int], **kwargs) -> list[EditResult]:
        """One edit per seed with one temporal caption, as the paper's best-of-seeds protocol does."""
        source = load_image(image)
        target = check_caption(target)
        start = time.perf_counter()
        caption = self._caption(source, target, kwargs.pop("caption", None))
        caption_seconds = time.perf_counter() - start
        return [
            self._generate_and_select(source, target, caption, seed, {"caption": caption_seconds}, **kwargs)
            for seed in seeds
        ]

    def _caption(self, source: Image.Image, target: str, caption: str | Caption | None) -> Caption:
        if isinstance(caption, Caption):
            return caption
        if caption is not None:
            return Caption(text=check_caption(caption, "temporal caption"), captioner="given")
        return self.captioner(source, target)

    def _generate_and_select(
        self,
        source: Image.Image,
        target: str,
        caption: Caption,
        seed: int,
        timings: dict[str, float],
        num_frames: int | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
    ) -> EditResult:
        preset = self.preset
        params = {
            "num_frames": num_frames or preset.num_frames,
            "num_inference_steps": num_inference_steps or preset.num_inference_steps,
            "guidance_scale": preset.guidance_scale if guidance_scale is None else guidance_scale,
        }
        timings = dict(timings)
        canvas, placement = to_canvas(source, preset.canvas)
        video = self.generator(canvas, caption.text, seed=seed, **params)
        timings["video"] = video.seconds

        start = time.perf_counter()
        frames = [from_canvas(frame, placement, preset.output_size) for frame in video.frames]
        # The source at the output geometry straight from the original (sharper than the canvas).
        source_output = source.resize(placement.output_size(preset.output_size), Image.Resampling.LANCZOS)
        selection = self.selector(source_output, frames, target, every=preset.sample_every)
        timings["selection"] = time.perf_counter() - start

        record = {
            "f2f_lab": __version__,
            "method": "frame2frame",
            "notice": TINY_NOTICE if preset.is_tiny else None,
            "inputs": {"image_sha256": image_hash(source), "image_size": list(source.size), "target": target},
            "caption": {"text": caption.text, "captioner": caption.captioner, **caption.record},
            "video": {**params, "seed": seed, "fps": preset.fps, "canvas": list(preset.canvas),
                      "placement": list(placement.box), **video.record},
            "selection": {"index": selection.index, "tile": selection.tile, "selector": selection.selector,
                          "every": preset.sample_every, **selection.record},
            "preset": preset.to_dict(),
            "timings": timings,
            "versions": library_versions(),
        }
        return EditResult(
            source=source, target=target, caption=caption.text, frames=frames, index=selection.index, seed=seed,
            source_output=source_output, timings=timings, record=record, sample_every=preset.sample_every,
            fps=preset.fps, tiny=preset.is_tiny,
        )
