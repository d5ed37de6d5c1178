"""What every image-to-video backend shares: loading, levers, memory, the call, the record.

A backend adapter (`cogvideox.py`, `wan.py`, `hunyuan.py`, `ltx.py`) subclasses
`VideoGenerator` and says only what differs: the arguments its pipeline takes, its canvas,
what to record. The numbers come from the backend's data (`backends.VideoBackend`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from PIL import Image

from ..errors import F2FError
from ..imaging import aspect_canvas
from ..loading import default_device, default_dtype, load_pipeline, out_of_memory, place_pipeline
from ..records import revision_of
from .backends import VideoBackend, get_backend
from .latent_dropout import LatentDropout
from .levers import Levers, apply_levers, transformers_of

OOM_ADVICE = ("Use --offload (model CPU offload and VAE tiling), fewer frames, a smaller canvas, or a GPU with "
              "more memory.")


@dataclass
class VideoOutput:
    """Generated frames on the video canvas (PIL, canvas-sized), with what it took."""

    frames: list[Image.Image]
    seconds: float
    record: dict[str, Any] = field(default_factory=dict)


class VideoGenerator:
    """Image-to-video over one diffusers pipeline, driven by a `VideoBackend`'s data."""

    family = ""

    def __init__(self, pipe, model_id: str, device: str, *, backend: VideoBackend | str, revision: str | None = None,
                 levers: Levers | None = None):
        self.pipe = pipe
        self.model_id = model_id
        self.device = device
        self.backend = get_backend(backend) if isinstance(backend, str) else backend
        self.levers = levers or Levers()
        self.revision = revision

    # -- loading -------------------------------------------------------------------------------

    @classmethod
    def from_pretrained(
        cls,
        model_id: str | None = None,
        *,
        backend: VideoBackend | str = "cogvideox",
        canvas: tuple[int, int] | None = None,
        device: str | None = None,
        torch_dtype=None,
        revision: str | None = None,
        progress: bool = True,
        levers: Levers | None = None,
    ) -> "VideoGenerator":
        """Load the pipeline: a hub id (downloaded on first use), a local folder, or "tiny".

        Args:
            model_id: default the backend's hub id; "tiny" loads its small random-weight copy.
            backend: a key of `backends.BACKENDS` or a `VideoBackend`.
            canvas: (width, height) of the tiny stand-in (the real models know their own).
            device: "cuda" when available, else "cpu".
            torch_dtype: the backend's dtype (bfloat16) on CUDA, float32 on CPU; the components
                its card keeps in float32 (Wan's VAE and image encoder) stay float32.
            levers: speed and memory settings (`Preset.levers`); None is plain diffusers.
        """
        import diffusers
        import torch

        backend = get_backend(backend) if isinstance(backend, str) else backend
        model_id = model_id or backend.hub_id
        device = device or default_device()
        torch_dtype = torch_dtype or default_dtype(device, gpu_dtype=getattr(torch, backend.dtype))
        levers = levers or Levers()
        levers.check()  # a wrong setting fails before a many-gigabyte load
        if levers.offload and not device.startswith("cuda"):
            raise F2FError("--offload moves models between CPU and GPU; it needs a CUDA GPU.")
        dtype = torch_dtype
        if backend.fp32_components and torch_dtype != torch.float32:
            dtype = {"default": torch_dtype, **{name: torch.float32 for name in backend.fp32_components}}
        pipe = load_pipeline(
            getattr(diffusers, backend.pipeline), model_id, description=f"the video model {backend.key} ({backend.parameters})",
            torch_dtype=dtype, revision=revision,
            stand_in=f"video:{backend.key}", stand_in_context={"canvas": canvas or backend.tiny_canvas},
        )
        apply_levers(pipe, levers, device=device)
        pipe.set_progress_bar_config(disable=not progress, desc="video", leave=False)
        # The pipeline keeps the hub id as given; its components keep the snapshot path (with the commit).
        loaded_from = pipe.transformer.config.get("_name_or_path")
        return cls(pipe, model_id=model_id, device=device, backend=backend, revision=revision or revision_of(loaded_from),
                   levers=levers)

    # -- geometry ------------------------------------------------------------------------------

    def canvas_for(self, source_size: tuple[int, int], *, geometry: str, canvas: tuple[int, int]) -> tuple[int, int]:
        """The (width, height) this model generates for a source of `source_size`.

        "letterbox": `canvas` itself (checked against the size multiple); "aspect": the
        source's aspect ratio within `canvas`'s area, rounded down to the size multiple.
        """
        multiple = self.backend.size_multiple
        if geometry == "letterbox":
            if canvas[0] % multiple or canvas[1] % multiple:
                raise F2FError(f"The canvas {canvas[0]}x{canvas[1]} is not a multiple of {multiple}, as {self.backend.key} needs.")
            return tuple(canvas)
        if geometry == "aspect":
            if self.backend.fixed_size:
                raise F2FError(f"{self.backend.key} generates at {canvas[0]}x{canvas[1]} only (its positional embedding is "
                               "learned for that size); use geometry='letterbox'.")
            return aspect_canvas(source_size, canvas[0] * canvas[1], multiple, self.max_size())
        raise F2FError(f"Unknown geometry '{geometry}'; use 'letterbox' or 'aspect'.")

    def max_size(self) -> tuple[int, int] | None:
        return self.backend.max_size

    # -- memory, as diffusers pipelines offer it (the levers record what is on) ------------

    def enable_model_cpu_offload(self, device: str | None = None) -> None:
        """Keep whole models on the CPU and move each to the GPU while it runs."""
        self._place(offload=True, offload_mode="model", device=device)

    def enable_sequential_cpu_offload(self, device: str | None = None) -> None:
        """Move layer by layer: least GPU memory, slowest."""
        self._place(offload=True, offload_mode="sequential", device=device)

    def enable_group_offload(self, device: str | None = None) -> None:
        """Stream leaf modules to the GPU on a side CUDA stream, ahead of their use."""
        self._place(offload=True, offload_mode="group", device=device)

    def enable_vae_tiling(self) -> None:
        """Decode the video in spatial tiles (less memory)."""
        self.pipe.vae.enable_tiling()
        self.levers = replace(self.levers, vae_tiling=True)

    def _place(self, *, offload: bool, offload_mode: str, device: str | None) -> None:
        device = device or self.device
        levers = replace(self.levers, offload=offload, offload_mode=offload_mode)
        levers.check()
        self.pipe.remove_all_hooks()
        place_pipeline(self.pipe, device, offload=offload, offload_mode=offload_mode)
        self.pipe.vae.enable_tiling()  # offloading leaves the VAE beside other models' leftovers
        self.pipe.vae.enable_slicing()
        self.device, self.levers = device, levers

    # -- the call ------------------------------------------------------------------------------

    def check_num_frames(self, num_frames: int) -> None:
        self.backend.check_num_frames(num_frames)

    def pipeline_arguments(self, image: Image.Image, prompt: str, *, num_frames: int, num_inference_steps: int,
                           guidance_scale: float, guidance_scale_2: float | None = None) -> dict[str, Any]:
        """The keyword arguments of the pipeline's `__call__`, beyond generator and callback (adapters extend).

        `guidance_scale_2` is the low-noise expert's guidance; only a two-expert adapter uses it.
        """
        width, height = image.size
        arguments = {"height": height, "width": width, "num_frames": num_frames,
                     "num_inference_steps": num_inference_steps, "guidance_scale": guidance_scale}
        if self.backend.negative_prompt is not None:
            arguments["negative_prompt"] = self.backend.negative_prompt
        return {**arguments, **self.backend.call_options}

    def run_record(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """What this backend adds to the video record (adapters extend)."""
        return {}

    def __call__(
        self,
        image: Image.Image,
        prompt: str,
        *,
        num_frames: int | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
        guidance_scale_2: float | None = None,
        seed: int = 0,
        callback_on_step_end: Callable | None = None,
        latent_dropout: int | None = None,
        latent_dropout_at: float = 0.9,
    ) -> VideoOutput:
        """Generate `num_frames` frames that start at `image` (already on this model's canvas).

        Args:
            image: an RGB image at the size `canvas_for` gave (see `imaging.place_on_canvas`).
            prompt: the temporal editing caption.
            num_frames, num_inference_steps, guidance_scale: default the backend's (its card's).
            guidance_scale_2: the low-noise expert's guidance (two-expert Wan 2.2 only).
            seed: seeds a CPU `torch.Generator`, so a seed means the same noise on any device.
            callback_on_step_end: passed to the diffusers pipeline (progress, inspection).
            latent_dropout, latent_dropout_at: keep every K-th latent frame once the timestep is
                below `latent_dropout_at` x 1000 (IF-Edit's temporal latent dropout, `latent_dropout`);
                the frames returned are those of the kept latents, `record["frame_indices"]` says which.
        """
        import torch


        backend = self.backend
        num_frames = num_frames or backend.num_frames
        self.check_num_frames(num_frames)
        arguments = self.pipeline_arguments(
            image, prompt, num_frames=num_frames, num_inference_steps=num_inference_steps or backend.num_inference_steps,
            guidance_scale=backend.guidance_scale if guidance_scale is None else guidance_scale,
            guidance_scale_2=backend.guidance_scale_2 if guidance_scale_2 is None else guidance_scale_2,
        )
        if callback_on_step_end is not None:
            arguments["callback_on_step_end"] = self.step_callback(callback_on_step_end)
        dropout = LatentDropout(self, latent_dropout, latent_dropout_at) if latent_dropout else None
        start = time.perf_counter()
        with out_of_memory("generating the video", OOM_ADVICE):
            generator = torch.Generator(device="cpu").manual_seed(seed)
            if dropout is None:
                output = self.pipe(image=image, prompt=prompt, generator=generator, output_type="pil", **arguments)
                frames, frame_indices = list(output.frames[0]), list(range(num_frames))
            else:
                with dropout.install(num_frames):
                    output = self.pipe(image=image, prompt=prompt, generator=generator, output_type="latent", **arguments)
                frames, frame_indices = dropout.decode(output.frames), dropout.record()["kept_frames"]
        seconds = time.perf_counter() - start
        if len(frames) != len(frame_indices):
            raise RuntimeError(f"the model returned {len(frames)} frames, {len(frame_indices)} were expected")
        if frames[0].size != image.size:
            raise RuntimeError(f"the model returned {frames[0].size} frames for a {image.size} canvas")
        ran_with = {k: v for k, v in arguments.items() if k != "callback_on_step_end"}
        record = {
            "backend": backend.key,
            "model": self.model_id,
            "hub_id": backend.hub_id,  # the published model this is (or, with "tiny", stands in for)
            "pipeline": type(self.pipe).__name__,
            "revision": self.revision,
            "device": self.device,
            "dtype": str(self.pipe.transformer.dtype).replace("torch.", ""),
            "component_dtypes": {name: str(module.dtype).replace("torch.", "") for name, module in self.components().items()},
            "offload": self.levers.offload,
            "levers": self.levers.active(),
            "scheduler": type(self.pipe.scheduler).__name__,
            "scheduler_config": {k: v for k, v in self.pipe.scheduler.config.items() if not k.startswith("_")},
            "arguments": ran_with,
            **self.run_record(arguments),
        }
        if dropout is not None:
            record["latent_dropout"] = dropout.record()
            record["frame_indices"] = frame_indices  # returned frame k is frame frame_indices[k] of the full video
        return VideoOutput(frames=frames, seconds=seconds, record=record)

    def step_callback(self, callback: Callable) -> Callable:
        """The callback handed to the pipeline (adapters whose pipeline lacks one override this)."""
        return callback

    def components(self) -> dict[str, Any]:
        """The pipeline's weighted modules by name (for dtypes and memory)."""
        import torch

        return {name: module for name, module in self.pipe.components.items() if isinstance(module, torch.nn.Module)}

    @property
    def transformers(self) -> list:
        return transformers_of(self.pipe)
