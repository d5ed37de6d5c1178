"""Image features for the toy study: fixed embeddings that need no weights, or CLIP where it is installed.

Both toy embeddings are encoders in the shape `f2f_lab.manifold.embed` accepts (a `name`,
a `pretrained` tag and `encode_images(images) -> (N, D)`), so `embed`,
`reference_features`, `ManifoldProjection` and `path_measures` run on them unchanged:
    "pixels"     every pixel, RGB in 0..1: 12288-d at 64 px. The plain geometry of image space.
    "thumbnail"  the person centred, then the image box-averaged to 16 x 16, RGB in 0..1: 768-d.
                 Centring (shift the image so that the horizontal centre of mass of what differs
                 from the border colour sits in the middle, by linear interpolation) undoes the
                 position nuisance, as eigenfaces aligned faces before their PCA; in raw pixels
                 a 1-pixel shift moves an image further than raising the arms does, and the
                 three sets overlap in the PCA plane. Averaging 4 x 4 pixels keeps shapes and
                 colours but shrinks per-pixel noise fourfold, so random-noise images gather
                 into one tight cluster, as they do in CLIP space.
    "clip"       CLIP ViT-B/32 with OpenAI's weights (the paper's), when they are in the local
                 cache; otherwise F2FError (nothing is downloaded here).

"pixels" is linear, so a pixel cross-fade is a straight line in it; "thumbnail" is linear for images
with one centre, as a cross-fade between two frames of one video is.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image

from ..clip import load_clip
from ..errors import F2FError
from ..imaging import load_image

THUMBNAIL_SIDE = 16


class PixelFeatures:
    """A fixed embedding: the image's pixels (RGB in 0..1), centred and box-averaged to `side` x `side` when asked.

    Nothing is learned and nothing to fit; `encode_images` is all there is.
    """

    pretrained = "fixed"

    def __init__(self, side: int | None = None, centre: bool = False):
        self.side = side
        self.centre = centre

    @property
    def name(self) -> str:
        return "toy-" + ("centred-" if self.centre else "") + ("pixels" if self.side is None else f"pixels-{self.side}")

    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """(N, D) float32 features of PIL images (or files)."""
        rows = []
        for image in images:
            pixels = np.asarray(load_image(image), dtype=np.float64) / 255.0
            if self.centre:
                pixels = centre_horizontally(pixels)
            if self.side is not None:
                h, w, _ = pixels.shape
                if h % self.side or w % self.side:
                    raise F2FError(f"A {w}x{h} image does not box-average to {self.side}x{self.side}; "
                                   f"use sides that are multiples of {self.side}.")
                pixels = pixels.reshape(self.side, h // self.side, self.side, w // self.side, 3).mean(axis=(1, 3))
            rows.append(pixels.astype(np.float32).reshape(-1))
        if rows and len({r.size for r in rows}) > 1:
            raise F2FError("Images of different sizes give pixel features of different lengths; use one size.")
        return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)

    def __repr__(self) -> str:
        return f"PixelFeatures(side={self.side}, centre={self.centre})"


def centre_horizontally(pixels: np.ndarray) -> np.ndarray:
    """(H, W, 3) image in 0..1 shifted so that what differs from its border colour is centred left to right.

    The border's median colour stands for the background; each pixel weighs by how far its
    colour is from it; the image moves by the fractional shift that brings the weighted mean
    column to the middle (linear interpolation, the background filling in). For a toy person
    (symmetric but for the letters) this undoes `dx` to a hundredth of a pixel.
    """
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    background = np.median(border, axis=0)
    weight = np.abs(pixels - background).sum(axis=-1).sum(axis=0)
    if weight.sum() <= 1e-9:
        return pixels
    width = pixels.shape[1]
    move = width / 2 - (weight * (np.arange(width) + 0.5)).sum() / weight.sum()
    whole = int(np.floor(move))
    part = move - whole
    return (1 - part) * _shift(pixels, whole, background) + part * _shift(pixels, whole + 1, background)


def _shift(pixels: np.ndarray, k: int, fill: np.ndarray) -> np.ndarray:
    out = np.empty_like(pixels)
    out[:] = fill
    k = max(-pixels.shape[1], min(pixels.shape[1], k))
    if k > 0:
        out[:, k:] = pixels[:, :-k]
    elif k < 0:
        out[:, :k] = pixels[:, -k:]
    else:
        out[:] = pixels
    return out


FEATURES = ("thumbnail", "pixels", "clip")


def toy_encoder(features="thumbnail"):
    """An encoder by name ("thumbnail", "pixels", "clip"; see the module docstring), or an encoder object as is."""
    if not isinstance(features, str):
        if not hasattr(features, "encode_images"):
            raise F2FError(f"features must be one of {FEATURES} or an encoder with encode_images(); got {type(features).__name__}.")
        return features
    if features == "thumbnail":
        return PixelFeatures(THUMBNAIL_SIDE, centre=True)
    if features == "pixels":
        return PixelFeatures()
    if features == "clip":
        return load_clip("ViT-B-32", "openai")
    raise F2FError(f"Unknown toy features '{features}'; choose one of: {', '.join(FEATURES)}.")


def clip_available() -> bool:
    """Whether the paper's CLIP weights (ViT-B/32, OpenAI) are in the local hub cache; never downloads."""
    import open_clip
    from huggingface_hub import try_to_load_from_cache

    repo = open_clip.get_pretrained_cfg("ViT-B-32", "openai").get("hf_hub", "").strip("/")
    names = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
    return bool(repo) and any(isinstance(try_to_load_from_cache(repo, name), str) for name in names)
