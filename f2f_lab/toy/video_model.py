"""A learned toy image-to-video model: diffusers' `UNet2DModel` and `DDIMScheduler`, trained on toy videos.

What it is (all of it diffusers' own classes; the numbers are in `VIDEO_CONFIG`):

- The video is `FRAMES` frames of `SIZE` x `SIZE` pixels; frame 0 is the given image, the
  model makes the other 8. It diffuses their *change from frame 0*: x = 2 * (frames[1:] -
  frame 0) in 0..1 units, the 8 frames' RGB stacked as 24 channels.
- A `UNet2DModel` (three levels, 16/32/32 channels, no attention, about 0.28M parameters)
  sees the noisy x, then frame 0 (3 channels, in -1..1) and the caption's bag of words
  (`toy.text.encode`, one constant channel per known word) as extra input channels, and
  predicts the clean x (prediction_type="sample"); a cosine-schedule `DDIMScheduler` samples.
- Classifier-free guidance: captions were dropped (zero vector) for 10% of the training
  videos, so `guidance_scale` > 1 mixes the conditional and unconditional predictions.

What it learns from (`training_video`): a source drawn from one of the three sets' factor
distributions, a caption drawn from `toy.text.VIDEO_CAPTIONS`, and the path that caption
describes, rendered frame by frame: the pose moves linearly from the source's to the heart
(1.0), to the sides (0.0) or stays, and everything else stays. Nothing tells it about the
manifold; whether its frames stay on it is measured (`toy.evaluate`).

`ToyVideoGenerator` wraps it with the call of `f2f_lab.video.CogVideoXGenerator`, so
`Frame2Frame` runs it as it runs CogVideoX.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from ..errors import F2FError
from ..video.levers import Levers
from ..resources import data_path
from ..video import VideoOutput
from . import text
from .fit import check_toy_source
from .sets import SET_FACTORS, sample_set
from .world import render

SIZE = 32
FRAMES = 9  # frame 0 (the source) and 8 made ones: 8k+1, as the pipeline's frame check asks
RESIDUAL_SCALE = 2.0
CAPTION_DROPOUT = 0.1
DATA = data_path("toy")
SHIPPED = {"toy": DATA / "video"}

def unet_config(in_channels: int, out_channels: int) -> dict:
    """The toy UNet2DModel layout both toy models share: three levels of 16/32/32 channels, no attention."""
    return {
        "sample_size": SIZE, "in_channels": in_channels, "out_channels": out_channels,
        "block_out_channels": (16, 32, 32), "layers_per_block": 1, "norm_num_groups": 8,
        "down_block_types": ("DownBlock2D",) * 3, "up_block_types": ("UpBlock2D",) * 3,
    }


# The noisy change of the 8 made frames, then frame 0 and the caption's words, as input channels.
VIDEO_CONFIG = unet_config(3 * (FRAMES - 1) + 3 + len(text.VOCABULARY), 3 * (FRAMES - 1))
SCHEDULER_CONFIG = {"num_train_timesteps": 1000, "beta_schedule": "squaredcos_cap_v2", "prediction_type": "sample",
                    "clip_sample": False}


def build_unet(config: dict, seed: int = 0):
    import torch
    from diffusers import UNet2DModel

    torch.manual_seed(seed)
    return UNet2DModel(**config)


def build_scheduler(config: dict = SCHEDULER_CONFIG):
    from diffusers import DDIMScheduler

    return DDIMScheduler(**config)


def to_unit(images) -> np.ndarray:
    """(N, 3, H, W) float32 in 0..1 from PIL images."""
    return np.stack([np.asarray(im.convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / 255.0 for im in images])


def to_images(array: np.ndarray) -> list[Image.Image]:
    """PIL images from (N, 3, H, W) in 0..1 (clipped, rounded)."""
    pixels = np.clip(np.rint(np.asarray(array) * 255.0), 0, 255).astype(np.uint8)
    return [Image.fromarray(p.transpose(1, 2, 0)) for p in pixels]


def path_poses(start: float, motion: str, num_frames: int = FRAMES) -> np.ndarray:
    """The pose of each frame of a toy video that does `motion` from pose `start`."""
    end = {"raise": 1.0, "lower": 0.0, "still": start}[motion]
    return np.linspace(start, end, num_frames)


def training_video(rng: np.random.Generator, size: int = SIZE, num_frames: int = FRAMES):
    """One training example: (frames (F, 3, H, W) in 0..1, caption or None if dropped, motion)."""
    source = sample_set(str(rng.choice(list(SET_FACTORS))), rng)
    motion = str(rng.choice(text.MOTIONS))
    captions = text.VIDEO_CAPTIONS[motion]
    caption = captions[int(rng.integers(len(captions)))]
    frames = [render(source.replace(arms=float(a)), size) for a in path_poses(source.arms, motion, num_frames)]
    if rng.uniform() < CAPTION_DROPOUT:
        caption = None
    return to_unit(frames), caption, motion


def conditioning(first: np.ndarray, captions) -> np.ndarray:
    """(N, 3 + words, H, W): frame 0 in -1..1 and each caption's bag of words as constant channels."""
    n, _, h, w = first.shape
    words = np.stack([text.encode(c) for c in captions])[:, :, None, None] * np.ones((1, 1, h, w), np.float32)
    return np.concatenate([first * 2.0 - 1.0, words], axis=1).astype(np.float32)


def video_batch(rng: np.random.Generator, batch: int):
    """(x0, cond) tensors of `batch` training videos."""
    import torch

    examples = [training_video(rng) for _ in range(batch)]
    frames = np.stack([e[0] for e in examples])                          # (B, F, 3, H, W)
    x0 = RESIDUAL_SCALE * (frames[:, 1:] - frames[:, :1])
    x0 = x0.reshape(batch, -1, SIZE, SIZE)
    cond = conditioning(frames[:, 0], [e[1] for e in examples])
    return torch.from_numpy(x0.astype(np.float32)), torch.from_numpy(cond)


def denoise(unet, scheduler, cond, shape, *, steps: int, guidance_scale: float, generator, uncond=None,
            start=None, start_index: int = 0, callback_on_step_end=None, pipe=None):
    """DDIM from noise (or from `start` at timestep index `start_index`: SDEdit), with optional CFG; returns x0."""
    import torch

    scheduler.set_timesteps(steps)
    timesteps = scheduler.timesteps[start_index:]
    noise = torch.randn(shape, generator=generator)
    x = noise if start is None else scheduler.add_noise(start, noise, timesteps[:1])
    guided = guidance_scale > 1.0 and uncond is not None
    with torch.no_grad():
        for i, t in enumerate(timesteps):
            if guided:
                both = unet(torch.cat([torch.cat([x, cond], 1), torch.cat([x, uncond], 1)]), t).sample
                c, u = both.chunk(2)
                out = u + guidance_scale * (c - u)
            else:
                out = unet(torch.cat([x, cond], 1), t).sample
            x = scheduler.step(out, t, x).prev_sample
            if callback_on_step_end is not None:
                callback_on_step_end(pipe, i, t, {"latents": x})
    return x


class ToyVideoGenerator:
    """The learned toy image-to-video model, with `CogVideoXGenerator`'s call.

    `from_pretrained("toy")` loads the weights shipped in the package (`f2f toy train` made
    them); a folder written by `f2f toy train --out DIR` (its `video/`) loads the same way.
    """

    def __init__(self, unet, scheduler, model_id: str = "toy", *, info: dict | None = None, levers: Levers | None = None):
        self.unet = unet.eval()
        self.scheduler = scheduler
        self.model_id = model_id
        self.info = info or {}
        self.levers = levers or Levers()
        self.device = "cpu"

    @classmethod
    def from_pretrained(cls, model_id_or_folder: str | Path = "toy", *, canvas: tuple[int, int] | None = None,
                        device: str | None = None, torch_dtype=None, revision: str | None = None,
                        progress: bool = True, levers: Levers | None = None, backend: str | None = None) -> "ToyVideoGenerator":
        """Load "toy" (the shipped weights) or a folder with the UNet, scheduler and `toy.json`.

        canvas, if given, must be (32, 32): the model makes 32 x 32 frames. device, torch_dtype
        and backend are accepted for the interface; the toy runs on the CPU in float32.
        """
        import torch
        from diffusers import DDIMScheduler, UNet2DModel

        folder = Path(SHIPPED.get(str(model_id_or_folder), model_id_or_folder))
        if not (folder / "config.json").exists():
            raise F2FError(f"No toy video model in '{folder}' (config.json missing); "
                           "use 'toy' for the shipped one, or the video/ folder that f2f toy train wrote.")
        if canvas is not None and tuple(canvas) != (SIZE, SIZE):
            raise F2FError(f"canvas={tuple(canvas)}: the toy video model makes {SIZE}x{SIZE} frames; use canvas=({SIZE}, {SIZE}).")
        unet = UNet2DModel.from_pretrained(folder, torch_dtype=torch.float32)
        scheduler = DDIMScheduler.from_pretrained(folder)
        info = json.loads((folder / "toy.json").read_text()) if (folder / "toy.json").exists() else {}
        return cls(unet, scheduler, str(model_id_or_folder), info=info, levers=levers)

    @property
    def canvas(self) -> tuple[int, int]:
        return SIZE, SIZE

    def canvas_for(self, source_size: tuple[int, int], *, geometry: str, canvas: tuple[int, int]) -> tuple[int, int]:
        """The 32 x 32 canvas, for a 32 x 32 source only: any other size is refused, with the fix.

        A toy image rendered at another size and shrunk to 32 px is not a 32 px rendering: a
        64 px one lands 0.02-0.09 from the 32 px manifold (a rendering: 0.0006; photos from 0.1),
        and its edits come out up to 3.5 times farther from the manifold. So no silent resize.
        """
        if tuple(source_size) != self.canvas:
            width, height = source_size
            raise F2FError(
                f"The toy models edit {SIZE}x{SIZE} toy-world images only; this image is {width}x{height}. A toy image: "
                f"render it at {SIZE} px (f2f toy source --out person.png, or toy.render(factors, {SIZE})), since "
                f"shrinking blurs it off the toy manifold. A photo: use --preset paper (GPU) or tiny.")
        return self.canvas

    def __call__(self, image: Image.Image, prompt: str, *, num_frames: int = FRAMES, num_inference_steps: int = 20,
                 guidance_scale: float = 1.0, seed: int = 0, callback_on_step_end: Callable | None = None) -> VideoOutput:
        """Generate `num_frames` (9) frames that start at `image` (32 x 32), following the caption `prompt`.

        Args:
            image: a canvas-sized RGB image (see `imaging.to_canvas`).
            prompt: the temporal caption, read as a bag of known words (`toy.text`).
            num_frames: 9, the frames the model was trained to make (frame 0 is `image` itself).
            num_inference_steps: DDIM steps (20).
            guidance_scale: classifier-free guidance; 1.0 is the conditional model alone.
            seed: seeds a CPU `torch.Generator`.
            callback_on_step_end: called as `callback(self, step, timestep, {"latents": x})` after each step.
        """
        import torch

        if num_frames != FRAMES:
            raise F2FError(f"num_frames={num_frames}: the toy video model makes {FRAMES} frames.")
        if image.size != self.canvas:
            raise ValueError(f"image is {image.size}; this model generates on a {self.canvas} canvas")
        start = time.perf_counter()
        source_distance = check_toy_source(image.convert("RGB"), SIZE)  # the model knows toy images only
        first = to_unit([image])
        cond = torch.from_numpy(conditioning(first, [prompt]))
        uncond = torch.from_numpy(conditioning(first, [None]))
        generator = torch.Generator(device="cpu").manual_seed(seed)
        x = denoise(self.unet, self.scheduler, cond, (1, VIDEO_CONFIG["out_channels"], SIZE, SIZE),
                    steps=num_inference_steps, guidance_scale=guidance_scale, generator=generator, uncond=uncond,
                    callback_on_step_end=callback_on_step_end, pipe=self)
        change = x.numpy().reshape(FRAMES - 1, 3, SIZE, SIZE) / RESIDUAL_SCALE
        frames = [image.convert("RGB").copy()] + to_images(first + change)
        record = {
            "model": self.model_id, "device": "cpu", "dtype": "float32", "levers": self.levers.active(),
            "scheduler": type(self.scheduler).__name__, "text_encoding": "bag of words (f2f_lab.toy.text)",
            "source_distance": round(source_distance, 5),  # to the toy manifold (`fit.check_toy_source`)
            "caption_words": [w for w, v in zip(text.VOCABULARY, text.encode(prompt)) if v],
            "training": {k: self.info[k] for k in ("seed", "steps", "seconds") if k in self.info},
        }
        return VideoOutput(frames=frames, seconds=time.perf_counter() - start, record=record)
