"""Classic vision tasks as temporal edits (paper Sec. 5.5, Figure 6, appendix I).

The paper shows that deblurring, denoising, relighting and outpainting can be phrased as a
video that starts at the degraded image: the temporal captions below are appendix I's,
verbatim. The paper generated those videos with Runway Gen-3 (a closed model); here the
local CogVideoX image-to-video model runs them, so results will differ from Figure 6.

This module makes the degraded inputs (blur, noise, a shrunken image on a larger canvas)
and holds each task's captions:

    task = CLASSIC_TASKS["deblurring"]
    blurry = task.degrade(load_image(sample_path("cat.jpg")))
    result = editor.edit(blurry, task.target, caption=task.caption)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from PIL import Image, ImageFilter

from .errors import F2FError
from .imaging import ImageInput, load_image

# Appendix I, verbatim (the paper's temporal editing captions for classic tasks).
APPENDIX_I_CAPTIONS = {
    "relighting": (
        "The scene\u2019s lighting shifts gradually, changing to night. The sun is setting, and artificial lights "
        "replace it. The camera is static. Time-lapse. Cinematic."
    ),
    "outpainting": "The image expands, adding new surroundings seamlessly beyond the original frame.",
    "denoising": "The image clears up as noise fades away, revealing smoother, cleaner details.",
    "deblurring": (
        "The camera comes into focus, revealing sharp details and enhanced clarity, as though a camera lens has "
        "adjusted perfectly. Nothing moves. Static image."
    ),
}


def blur(image: ImageInput, radius: float = 4.0) -> Image.Image:
    """A Gaussian blur of `radius` pixels, relative to a 512-pixel side (so it looks alike at any size)."""
    image = load_image(image)
    return image.filter(ImageFilter.GaussianBlur(radius * max(image.size) / 512))


def add_noise(image: ImageInput, sigma: float = 0.2, seed: int = 0) -> Image.Image:
    """Additive Gaussian noise of standard deviation `sigma` (in units of the 0..1 pixel range)."""
    if sigma < 0:
        raise F2FError(f"The noise level must be at least 0; got {sigma}.")
    image = load_image(image)
    pixels = np.asarray(image, dtype=np.float32) / 255.0
    noisy = pixels + np.random.default_rng(seed).normal(0.0, sigma, pixels.shape).astype(np.float32)
    return Image.fromarray((np.clip(noisy, 0.0, 1.0) * 255.0).round().astype(np.uint8))


def shrink_on_canvas(image: ImageInput, scale: float = 0.6, fill: tuple[int, int, int] = (0, 0, 0)) -> Image.Image:
    """The image shrunk by `scale` and centred on a canvas of its original size: the frame to outpaint.

    Black fill, as the paper pads sources onto the video canvas.
    """
    if not 0.1 <= scale < 1.0:
        raise F2FError(f"The outpainting scale must be in [0.1, 1); got {scale}.")
    image = load_image(image)
    small = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.LANCZOS)
    board = Image.new("RGB", image.size, fill)
    board.paste(small, ((image.width - small.width) // 2, (image.height - small.height) // 2))
    return board


def unchanged(image: ImageInput) -> Image.Image:
    """Relighting starts from an ordinary daylight photo: appendix I's caption turns day into night."""
    return load_image(image)


@dataclass(frozen=True)
class ClassicTask:
    """A classic task as a temporal edit.

    caption: appendix I's temporal caption (the paper's, verbatim); target: what the result
    should show, for frame selection and CLIP score (ours: the paper gives none for these);
    degrade: makes the task's input from a clean image.
    """

    name: str
    caption: str
    target: str
    degrade: Callable[[ImageInput], Image.Image]


CLASSIC_TASKS: dict[str, ClassicTask] = {
    "deblurring": ClassicTask("deblurring", APPENDIX_I_CAPTIONS["deblurring"], "A sharp, in-focus photo.", blur),
    "denoising": ClassicTask("denoising", APPENDIX_I_CAPTIONS["denoising"], "A clean photo without noise.", add_noise),
    "relighting": ClassicTask("relighting", APPENDIX_I_CAPTIONS["relighting"], "The same scene at night, lit by artificial lights.", unchanged),
    "outpainting": ClassicTask("outpainting", APPENDIX_I_CAPTIONS["outpainting"], "A wider view of the scene, filling the whole frame.", shrink_on_canvas),
}


def get_task(name: str) -> ClassicTask:
    try:
        return CLASSIC_TASKS[name]
    except KeyError:
        raise F2FError(f"Unknown classic task '{name}'. Choose one of: {', '.join(CLASSIC_TASKS)}.") from None
