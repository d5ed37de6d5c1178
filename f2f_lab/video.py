"""Step 2 of Frame2Frame: an image-to-video model generates the pathway (Sec. 3.2).

The paper uses CogVideoX-5B I2V through diffusers with its published defaults: 49 frames,
50 denoising steps, classifier-free guidance 6.0, the model's own DDIM scheduler with
v-prediction, 8 fps (appendix E). `CogVideoXGenerator` wraps that pipeline and nothing
more: the real weights come from the Hugging Face hub cache on first use, exactly as
diffusers loads them; the `tiny` model id loads a small random-weight copy instead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from PIL import Image

from .errors import F2FError
from .records import revision_of

PAPER_MODEL = "THUDM/CogVideoX-5b-I2V"


@dataclass
class VideoOutput:
    """Generated frames on the video canvas (PIL, canvas-sized), with what it took."""

    frames: list[Image.Image]
    seconds: float
    record: dict[str, Any] = field(default_factory=dict)


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def check_num_frames(num_frames: int) -> None:
    # CogVideoX's VAE compresses time 4x and decodes latents two at a time after the first,
    # so only 8k+1 frames (9, 17, 25, 33, 41, 49) come back as asked.
    if num_frames < 9 or (num_frames - 1) % 8:
        raise F2FError(f"num_frames={num_frames} is not supported by CogVideoX; use 8k+1 frames (9, 17, 25, 33, 41 or 49).")


class CogVideoXGenerator:
    """Image-to-video over diffusers' `CogVideoXImageToVideoPipeline`."""

    def __init__(self, pipe, model_id: str, device: str, offload: bool = False, revision: str | None = None):
        self.pipe = pipe
        self.model_id = model_id
        self.device = device
        self.offload = offload
        self.revision = revision

    @classmethod
    def from_pretrained(
        cls,
        model_id: str = PAPER_MODEL,
        *,
        canvas: tuple[int, int] = (720, 480),
        device: str | None = None,
        torch_dtype=None,
        offload: bool = False,
        revision: str | None = None,
        progress: bool = True,
    ) -> "CogVideoXGenerator":
        """Load the pipeline: a hub id (downloaded on first use), a local folder, or "tiny".

        Args:
            canvas: (width, height) the model generates; 720x480 for CogVideoX-5B I2V.
            device: "cuda" when available, else "cpu".
            torch_dtype: bfloat16 on CUDA (the model's training precision), float32 on CPU.
            offload: model CPU offload plus VAE tiling and slicing, for GPUs with less
                memory than the whole model (see the README for the figures).
        """
        import torch
        from diffusers import CogVideoXImageToVideoPipeline

        device = device or default_device()
        if torch_dtype is None:
            torch_dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        source = model_id
        if model_id == "tiny":
            from .tiny import tiny_cogvideox_i2v

            source = str(tiny_cogvideox_i2v(canvas))
        try:
            pipe = CogVideoXImageToVideoPipeline.from_pretrained(source, dtype=torch_dtype, revision=revision)
        except (OSError, ValueError) as exc:
            raise F2FError(
                f"Could not load the video model '{model_id}' ({type(exc).__name__}: {str(exc).splitlines()[0]}). "
                "Real weights (about 22 GB) download from the Hugging Face hub on first use: check the network, "
                "HF_HOME and HF_HUB_OFFLINE, or run offline with --preset tiny."
            ) from None
        if offload:
            if not device.startswith("cuda"):
                raise F2FError("--offload moves models between CPU and GPU; it needs a CUDA GPU.")
            pipe.enable_model_cpu_offload()
            pipe.vae.enable_tiling()
            pipe.vae.enable_slicing()
        else:
            pipe.to(device)
        pipe.set_progress_bar_config(disable=not progress, desc="video", leave=False)
        loaded_from = pipe.config.get("_name_or_path")
        return cls(pipe, model_id=model_id, device=device, offload=offload, revision=revision or revision_of(loaded_from))

    @property
    def canvas(self) -> tuple[int, int]:
        config = self.pipe.transformer.config
        scale = self.pipe.vae_scale_factor_spatial
        return config.sample_width * scale, config.sample_height * scale

    def __call__(
        self,
        image: Image.Image,
        prompt: str,
        *,
        num_frames: int = 49,
        num_inference_steps: int = 50,
        guidance_scale: float = 6.0,
        seed: int = 0,
        callback_on_step_end: Callable | None = None,
    ) -> VideoOutput:
        """Generate `num_frames` frames that start at `image` (already on the canvas).

        Args:
            image: a canvas-sized RGB image (see `imaging.to_canvas`).
            prompt: the temporal editing caption.
            num_frames: 49 in the paper (about 6 s at 8 fps); 8k+1 frames are supported.
            num_inference_steps: 50 in the paper.
            guidance_scale: classifier-free guidance, 6.0 in the paper.
            seed: seeds a CPU `torch.Generator`, so a seed means the same noise on any device.
            callback_on_step_end: passed to the diffusers pipeline (progress, inspection).
        """
        import torch

        check_num_frames(num_frames)
        if image.size != self.canvas:
            raise ValueError(f"image is {image.size}; this model generates on a {self.canvas} canvas")
        width, height = self.canvas
        max_length = self.pipe.transformer.config.max_text_seq_length
        start = time.perf_counter()
        try:
            output = self.pipe(
                image=image,
                prompt=prompt,
                height=height,
                width=width,
                num_frames=num_frames,
                num_inference_steps=num_inference_steps,
                guidance_scale=guidance_scale,
                generator=torch.Generator(device="cpu").manual_seed(seed),
                max_sequence_length=max_length,
                callback_on_step_end=callback_on_step_end,
                output_type="pil",
            )
        except torch.OutOfMemoryError:
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            raise F2FError(
                "The GPU ran out of memory while generating the video. Use --offload (model CPU offload and "
                "VAE tiling, about 10 GB of GPU memory), fewer frames, or a GPU with more memory."
            ) from None
        seconds = time.perf_counter() - start
        frames = list(output.frames[0])
        if len(frames) != num_frames:
            raise RuntimeError(f"the model returned {len(frames)} frames, {num_frames} were asked for")
        record = {
            "model": self.model_id,
            "revision": self.revision,
            "device": self.device,
            "dtype": str(self.pipe.transformer.dtype).replace("torch.", ""),
            "offload": self.offload,
            "scheduler": type(self.pipe.scheduler).__name__,
            "max_sequence_length": max_length,
        }
        return VideoOutput(frames=frames, seconds=seconds, record=record)
