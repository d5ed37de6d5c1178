"""The single-step editor for contrast: SDEdit over a learned toy image diffusion model.

The image model is diffusers' `UNet2DModel` (the video model's three 16/32/32-channel levels)
conditioned on the caption only: a noisy 32 x 32 image (3 channels, -1..1) and the caption's
bag of words (`toy.text.encode`, constant channels) in, the noise out (epsilon prediction,
cosine `DDIMScheduler`), trained on images of the three toy sets, each with its prompt
(`toy.text.IMAGE_CAPTIONS`; the paper's target names the heart-only set), captions dropped
for 10%. It is a text-to-image model of the toy world, as FLUX is of the real one.

SDEdit (Meng et al., 2022): noise the source to a fraction `strength` of the way to pure
noise, then denoise with the target caption. Low strength keeps the source and does not
edit; high strength edits, from what the caption says alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import F2FError
from . import text
from .sets import sample_set
from .video_model import DATA, SIZE, denoise, to_images, to_unit, unet_config
from .world import render

IMAGE_CONFIG = unet_config(3 + len(text.VOCABULARY), 3)  # the noisy image, then the caption's words
SCHEDULER_CONFIG = {"num_train_timesteps": 1000, "beta_schedule": "squaredcos_cap_v2", "prediction_type": "epsilon",
                    "clip_sample": True}
STRENGTHS = (0.3, 0.5, 0.7, 0.9)
CAPTION_DROPOUT = 0.1


def words_channels(captions, n: int) -> np.ndarray:
    return np.stack([text.encode(c) for c in captions])[:, :, None, None] * np.ones((1, 1, n, n), np.float32)


def image_batch(rng: np.random.Generator, batch: int):
    """(x0, cond) tensors of `batch` training images: a prompt, an image of its set."""
    import torch

    prompts = list(text.IMAGE_CAPTIONS)
    chosen = [prompts[int(rng.integers(len(prompts)))] for _ in range(batch)]
    images = [render(sample_set(text.IMAGE_CAPTIONS[p], rng), SIZE) for p in chosen]
    captions = [None if rng.uniform() < CAPTION_DROPOUT else p for p in chosen]
    x0 = to_unit(images) * 2.0 - 1.0
    return torch.from_numpy(x0.astype(np.float32)), torch.from_numpy(words_channels(captions, SIZE))


class ToySDEdit:
    """SDEdit over the toy image model: `editor(image, target, strength=..., seed=...) -> PIL image`."""

    def __init__(self, unet, scheduler, *, info: dict | None = None):
        self.unet = unet.eval()
        self.scheduler = scheduler
        self.info = info or {}

    @classmethod
    def from_pretrained(cls, folder: str | Path = "toy") -> "ToySDEdit":
        import torch
        from diffusers import DDIMScheduler, UNet2DModel

        folder = DATA / "image" if str(folder) == "toy" else Path(folder)
        if not (folder / "config.json").exists():
            raise F2FError(f"No toy image model in '{folder}' (config.json missing); use 'toy' for the shipped one.")
        info = json.loads((folder / "toy.json").read_text()) if (folder / "toy.json").exists() else {}
        return cls(UNet2DModel.from_pretrained(folder, torch_dtype=torch.float32), DDIMScheduler.from_pretrained(folder),
                   info=info)

    def __call__(self, image: Image.Image, target: str, *, strength: float = 0.7, num_inference_steps: int = 20,
                 guidance_scale: float = 1.0, seed: int = 0) -> Image.Image:
        """The source noised to `strength` (0..1] and denoised toward `target`; a 32 x 32 image."""
        return self.edit_batch([image], [target], strength=strength, num_inference_steps=num_inference_steps,
                               guidance_scale=guidance_scale, seeds=[seed])[0]

    def edit_batch(self, images, targets, *, strength: float, num_inference_steps: int = 20,
                   guidance_scale: float = 1.0, seeds=None) -> list[Image.Image]:
        """SDEdit of several images at once; image i's noise is seeded by `seeds[i]`, as alone."""
        import torch

        if not 0.0 < strength <= 1.0:
            raise F2FError(f"strength={strength}: SDEdit's strength is in (0, 1].")
        if any(im.size != (SIZE, SIZE) for im in images):
            raise F2FError(f"The toy image model edits {SIZE}x{SIZE} images.")
        seeds = list(range(len(images))) if seeds is None else list(seeds)
        skip = num_inference_steps - max(1, round(strength * num_inference_steps))
        out = []
        for image, target, seed in zip(images, targets, seeds):  # one generator per image: a seed means one edit
            x0 = torch.from_numpy(to_unit([image]) * 2.0 - 1.0)
            cond = torch.from_numpy(words_channels([target], SIZE))
            uncond = torch.from_numpy(words_channels([None], SIZE))
            x = denoise(self.unet, self.scheduler, cond, tuple(x0.shape), steps=num_inference_steps,
                        guidance_scale=guidance_scale, generator=torch.Generator().manual_seed(seed), uncond=uncond,
                        start=x0, start_index=skip)
            out += to_images((x.numpy() + 1.0) / 2.0)
        return out


def sample_images(editor: ToySDEdit, target: str, n: int, seed: int = 0) -> list[Image.Image]:
    """Text-to-image samples of the toy image model (SDEdit at strength 1 from a blank source)."""
    blank = Image.new("RGB", (SIZE, SIZE), (128, 128, 128))
    return editor.edit_batch([blank] * n, [target] * n, strength=1.0, seeds=range(seed, seed + n))

