"""Frame2Frame: image editing as a path on the image manifold (Rotstein et al., 2024).

    caption  = captioner(source, target)                  # Sec. 3.1, temporal editing caption
    frames   = generator(to_canvas(source), caption)      # Sec. 3.2, image-to-video
    index    = selector(source, frames, target)           # Sec. 3.3, frame selection

Each stage is a plain object with one call and can be swapped for another.
"""

from __future__ import annotations

import time
from typing import Iterable, Iterator

from PIL import Image

from .captions import Caption, check_caption, make_captioner
from .imaging import ImageInput, from_canvas, load_image, place_on_canvas
from .presets import Preset, get_preset
from .records import library_versions
from .refine import SHARPNESS_MEASURE, refine_frame, sharpest_late_frame
from .results import EditResult, record_header
from .selection import clip_options, make_selector, tile_frames
from .video import video_model_class
from .vlm import make_vlm_client


class Frame2Frame:
    """Caption, generate, select: the three steps of the paper, in that order.

    `vlm` is the one VLM client the captioner and the selector share (None when neither
    stage uses a VLM).
    """

    def __init__(self, generator, captioner, selector, preset: Preset, *, vlm=None):
        self.generator = generator
        self.captioner = captioner
        self.selector = selector
        self.preset = preset
        self.vlm = vlm

    @classmethod
    def from_preset(
        cls,
        preset: str | Preset = "paper",
        *,
        captioner=None,
        selector=None,
        device: str | None = None,
        torch_dtype=None,
        progress: bool = True,
        vlm=None,
        vlm_options: dict | None = None,
        captioner_options: dict | None = None,
        selector_options: dict | None = None,
        generator=None,
        **overrides,
    ) -> "Frame2Frame":
        """Build the editor of a preset; keyword arguments override its fields (and levers).

        Args:
            preset: a name ("paper", "tiny", ...), a spec ("paper:num_inference_steps=30") or a `Preset`.
            captioner, selector: stage names ("vlm", "template", "target"; "vlm", "clip", "last"),
                or stage objects to use as they are (the preset keeps its names for them).
            device, torch_dtype: where and in what precision the models run (default: cuda and
                bfloat16 when a GPU is visible, else cpu and float32).
            vlm: a VLM client (`vlm.VLMClient`, `vlm.LocalVLM` or anything with `chat` and
                `describe`) shared by both VLM stages; None builds one with `vlm.make_vlm_client`
                from the preset's `vlm_backend` and `vlm_model` and `vlm_options` (openai: base_url,
                api_key, timeout, max_retries, temperature, max_tokens; local: placement,
                max_new_tokens, do_sample, ...).
            captioner_options, selector_options: options of one stage only (icl_examples,
                image_max_side; fallback, tile_size, margin, ...).
            generator: an already loaded video model to use (variants share one).
            overrides: preset fields, e.g. `num_inference_steps=30` or `offload=True`;
                `video_backend="wan2.2-5b"` switches the video model, at its card's defaults.

        Example: `Frame2Frame.from_preset("paper", selector="clip", num_inference_steps=30)`,
        `Frame2Frame.from_preset("wan2.2-5b")` (the paper's method on Wan 2.2 TI2V 5B).
        """
        names = {k: v for k, v in (("captioner", captioner), ("selector", selector)) if isinstance(v, str)}
        preset = get_preset(preset).with_options(**names, **overrides).check()  # before any load
        captioner_stage = None if captioner is None or isinstance(captioner, str) else captioner
        selector_stage = None if selector is None or isinstance(selector, str) else selector
        # Stages without weights first, so a missing API key fails before a 22 GB load.
        needs_vlm = (captioner_stage is None and preset.captioner in ("vlm", "cot")) or (selector_stage is None and preset.selector == "vlm")
        if vlm is None and needs_vlm:  # the preset's backend: OpenAI protocol, or a local model loaded onto the CPU here
            vlm = make_vlm_client(**{"backend": preset.vlm_backend, "model": preset.vlm_model, "tiny": preset.is_tiny,
                                     "device": device, "torch_dtype": torch_dtype, **(vlm_options or {})})
        if captioner_stage is None:
            captioner_stage = make_captioner(preset.captioner, client=vlm, **(captioner_options or {}))
        if selector_stage is None:
            selector_stage = make_selector(preset.selector, client=vlm, clip=clip_options(preset, device), **(selector_options or {}))
        if generator is None:
            generator = video_model_class(preset.video_model, preset.video_backend).from_pretrained(
                preset.video_model, backend=preset.video_backend, canvas=preset.canvas, device=device,
                torch_dtype=torch_dtype, progress=progress, levers=preset.levers,
            )
        return cls(generator, captioner_stage, selector_stage, preset, vlm=vlm)

    # -- memory, as on a diffusers pipeline ----------------------------------------------------

    def enable_model_cpu_offload(self, device: str | None = None) -> "Frame2Frame":
        """Keep the video model's parts on the CPU, each moved to the GPU while it runs (GPUs under ~40 GB)."""
        self.generator.enable_model_cpu_offload(device)
        self.preset = self.preset.with_options(offload=True, offload_mode="model")
        return self

    def enable_sequential_cpu_offload(self, device: str | None = None) -> "Frame2Frame":
        """Move the video model layer by layer: least GPU memory, slowest."""
        self.generator.enable_sequential_cpu_offload(device)
        self.preset = self.preset.with_options(offload=True, offload_mode="sequential")
        return self

    def enable_vae_tiling(self) -> "Frame2Frame":
        """Decode the video in spatial tiles (less memory, same frames up to tile seams)."""
        self.generator.enable_vae_tiling()
        self.preset = self.preset.with_options(vae_tiling=True)
        return self

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
        callback_on_step_end=None,
    ) -> EditResult:
        """Edit `image` toward the `target` caption.

        Args:
            image: a path, PIL image or array; any mode is converted to RGB.
            target: what the edited image shows, e.g. "A photo of a cat yawning."
            seed: the video's noise seed (the paper keeps the best of 15 seeds).
            caption: a temporal caption to use instead of asking the captioner.
            num_frames, num_inference_steps, guidance_scale: override the preset's.
            callback_on_step_end: called by the video model after each denoising step, as in
                diffusers (`callback(pipe, step, timestep, callback_kwargs)` returning the kwargs).
        """
        source = load_image(image)
        target = check_caption(target)
        timings: dict[str, float] = {}

        start = time.perf_counter()
        caption = self._caption(source, target, caption)
        timings["caption"] = time.perf_counter() - start

        return self._generate_and_select(source, target, caption, seed, timings, num_frames, num_inference_steps,
                                         guidance_scale, callback_on_step_end)

    def edit_seeds(self, image: ImageInput, target: str, seeds: Iterable[int], **kwargs) -> list[EditResult]:
        """One edit per seed with one temporal caption, as the paper's best-of-seeds protocol does."""
        return list(self.iter_seeds(image, target, seeds, **kwargs))

    def iter_seeds(self, image: ImageInput, target: str, seeds: Iterable[int], **kwargs) -> Iterator[EditResult]:
        """`edit_seeds`, each edit yielded as soon as it is done (so that it can be saved before the next starts)."""
        source = load_image(image)
        target = check_caption(target)
        start = time.perf_counter()
        caption = self._caption(source, target, kwargs.pop("caption", None))
        caption_seconds = time.perf_counter() - start
        for seed in seeds:
            yield self._generate_and_select(source, target, caption, seed, {"caption": caption_seconds}, **kwargs)

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
        callback_on_step_end=None,
    ) -> EditResult:
        preset = self.preset
        params = {
            "num_frames": num_frames or preset.num_frames,
            "num_inference_steps": num_inference_steps or preset.num_inference_steps,
            "guidance_scale": preset.guidance_scale if guidance_scale is None else guidance_scale,
        }
        if preset.guidance_scale_2 is not None:
            params["guidance_scale_2"] = preset.guidance_scale_2
        timings = dict(timings)
        canvas_size = self.generator.canvas_for(source.size, geometry=preset.geometry, canvas=preset.canvas)
        canvas, placement = place_on_canvas(source, canvas_size, preset.geometry)
        dropout = {"latent_dropout": preset.latent_dropout, "latent_dropout_at": preset.latent_dropout_at} if preset.latent_dropout else {}
        video = self.generator(canvas, caption.text, seed=seed, callback_on_step_end=callback_on_step_end, **params, **dropout)
        timings["video"] = video.seconds

        start = time.perf_counter()
        frames = [from_canvas(frame, placement, preset.output_size) for frame in video.frames]
        # The source at the output geometry straight from the original (sharper than the canvas).
        source_output = source.resize(placement.output_size(preset.output_size), Image.Resampling.LANCZOS)
        tiles = tile_frames(len(frames), preset.num_tiles)
        selection = self.selector(source_output, frames, target, tiles=tiles)
        timings["selection"] = time.perf_counter() - start
        refinement, refine_record = self._refine(frames, selection.index, seed, params) if preset.refine else (None, None)
        if refinement is not None:
            timings["refine"] = refinement.record["seconds"]

        record = {
            **record_header("frame2frame", source, target, tiny=preset.is_tiny),
            "caption": {"text": caption.text, "captioner": caption.captioner, **caption.record},
            "video": {**params, "seed": seed, "fps": preset.fps, "canvas": list(canvas_size), "geometry": preset.geometry,
                      "placement": list(placement.box), **video.record},
            "selection": {"index": selection.index, "tile": selection.tile, "selector": selection.selector,
                          "tiles": tiles, **selection.record,
                          # With latent dropout the returned frames are the kept latents' ones: the index in the full video.
                          **({"video_frame": video.record["frame_indices"][selection.index]} if dropout else {})},
            **({"refine": refine_record} if refine_record is not None else {}),
            "preset": preset.to_dict(),
            "timings": timings,
            "versions": library_versions(),
        }
        return EditResult(
            source=source, target=target, caption=caption.text, frames=frames, index=selection.index, seed=seed,
            source_output=source_output, timings=timings, record=record, tiles=tiles,
            fps=preset.fps, tiny=preset.is_tiny,
            refined=refinement.image if refinement is not None else None,
            refined_from=refine_record["index"] if refinement is not None else None,
        )

    def _refine(self, frames: list[Image.Image], selected: int, seed: int, params: dict):
        """IF-Edit's post-refinement of one frame (`preset.refine`): (Refinement or None, its record)."""
        preset = self.preset
        mode = preset.refine
        record = {"mode": mode, "sharpness_measure": SHARPNESS_MEASURE}
        if mode == "selected" and selected == 0:
            return None, {**record, "index": 0, "refined": False,
                          "reason": "the selector kept the source (index 0): no generated frame to refine"}
        index = selected if mode == "selected" else sharpest_late_frame(frames)
        refinement = refine_frame(
            self.generator, frames[index], geometry=preset.geometry, canvas=preset.canvas, output_size=preset.output_size,
            seed=seed, num_inference_steps=params["num_inference_steps"], guidance_scale=params["guidance_scale"],
            guidance_scale_2=params.get("guidance_scale_2"),
        )
        return refinement, {**record, "index": index, "refined": True, "frame": refinement.record}
