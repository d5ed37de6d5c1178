"""CLIP image features for the study (Sec. 4: CLIP ViT-B/32, 512-d), cached on disk by image hash.

Each image's feature vector is stored as `<cache>/<encoder>/<image hash>.npy`, so a second
call (another notebook session, the CLI after the notebook) encodes only images it has not
seen. The cache is keyed by the encoder's name and weights as well as the pixels.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from ..clip import load_clip
from ..errors import F2FError
from ..imaging import image_hash, load_image
from ..records import atomic_path
from ..stand_ins.cache import cache_root


def default_cache_dir() -> Path:
    return cache_root() / "clip-features"


def encoder_key(encoder) -> str:
    """A folder name for an encoder's features: its model name and pretrained tag."""
    name = f"{getattr(encoder, 'name', type(encoder).__name__)}-{getattr(encoder, 'pretrained', None) or 'random'}"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def resolve_encoder(clip="ViT-B-32", pretrained: str | None = "openai", device: str | None = None):
    """A ClipEncoder from a name ("ViT-B-32", "tiny") or any object with `encode_images` and `name`."""
    if not isinstance(clip, str):
        if not hasattr(clip, "encode_images"):
            raise F2FError(f"clip must be a model name or an encoder with encode_images(); got {type(clip).__name__}.")
        return clip

    return load_clip(clip, None if clip == "tiny" else pretrained, device)


def embed(
    images: Sequence[Image.Image | str | os.PathLike],
    clip="ViT-B-32",
    *,
    pretrained: str | None = "openai",
    device: str | None = None,
    cache_dir: str | Path | None = None,
    batch_size: int = 32,
    progress: bool = True,
) -> np.ndarray:
    """(N, D) float32 unit-norm CLIP image features of `images` (PIL images or files).

    Args:
        clip: an open_clip model name ("ViT-B-32", the paper's), "tiny" (random, offline), or
            an encoder object with `encode_images(list[PIL]) -> (N, D)` and a `name`.
        pretrained: open_clip weights tag ("openai", the paper's CLIP).
        cache_dir: where features are kept (default `$F2F_CACHE/clip-features`); None to use
            the default, False to switch caching off.
        batch_size: images loaded and encoded at a time (files are read lazily).
    """
    from tqdm.auto import tqdm

    encoder = resolve_encoder(clip, pretrained, device)
    folder = None
    if cache_dir is not False:
        folder = Path(cache_dir or default_cache_dir()) / encoder_key(encoder)
        folder.mkdir(parents=True, exist_ok=True)
    rows: list[np.ndarray | None] = [None] * len(images)
    bar = tqdm(total=len(images), desc="CLIP features", unit="img", disable=not progress or len(images) < batch_size)
    for start in range(0, len(images), batch_size):
        batch = [load_image(im) for im in images[start:start + batch_size]]
        hashes = [image_hash(im) for im in batch]
        missing = []
        for offset, digest in enumerate(hashes):
            cached = folder / f"{digest}.npy" if folder is not None else None
            if cached is not None and cached.exists():
                rows[start + offset] = np.load(cached)
            else:
                missing.append(offset)
        if missing:
            features = np.asarray(encoder.encode_images([batch[o] for o in missing]), dtype=np.float32)
            for offset, vector in zip(missing, features):
                rows[start + offset] = vector
                if folder is not None:
                    with atomic_path(folder / f"{hashes[offset]}.npy") as tmp:
                        np.save(tmp, vector)
        bar.update(len(batch))
    bar.close()
    if not rows:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack(rows).astype(np.float32)
