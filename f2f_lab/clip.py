"""CLIP embeddings (open_clip), shared by the metrics, the CLIP frame selector and the manifold study.

The paper uses CLIP ViT-B/32 for its 512-d image features (Sec. 4) and CLIP-I / CLIP score
(Sec. 5.1). `load_clip("ViT-B-32", "openai")` is that model through open_clip's factory;
`load_clip("tiny")` is a two-layer CLIP of the same classes with random weights (the
registered "clip" stand-in, an open_clip `local-dir:` folder), so offline runs use the same
loading code. Models are loaded once per (name, pretrained, device) and kept.
"""

from __future__ import annotations

import functools
from typing import Sequence

from PIL import Image

from .errors import F2FError
from .loading import default_device, model_source


class ClipEncoder:
    """L2-normalised CLIP image and text embeddings, batched, on the GPU when there is one."""

    def __init__(self, model, preprocess, tokenizer, name: str, pretrained: str | None, device: str):
        self.model = model
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self.name = name
        self.pretrained = pretrained
        self.device = device

    @property
    def dim(self) -> int:
        return int(self.model.text_projection.shape[1]) if hasattr(self.model, "text_projection") else None

    def encode_images(self, images: Sequence[Image.Image], batch_size: int = 32):
        """(N, D) float32 CPU tensor of unit-norm image embeddings."""
        import torch

        chunks = []
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                batch = torch.stack([self.preprocess(im.convert("RGB")) for im in images[start:start + batch_size]])
                features = self.model.encode_image(batch.to(self.device))
                chunks.append(torch.nn.functional.normalize(features.float(), dim=-1).cpu())
        return torch.cat(chunks) if chunks else torch.empty(0, self.dim or 0)

    def encode_texts(self, texts: Sequence[str], batch_size: int = 64):
        """(N, D) float32 CPU tensor of unit-norm text embeddings."""
        import torch

        chunks = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                tokens = self.tokenizer(list(texts[start:start + batch_size])).to(self.device)
                features = self.model.encode_text(tokens)
                chunks.append(torch.nn.functional.normalize(features.float(), dim=-1).cpu())
        return torch.cat(chunks) if chunks else torch.empty(0, self.dim or 0)

    def record(self) -> dict:
        return {"clip_model": self.name, "clip_pretrained": self.pretrained}


@functools.lru_cache(maxsize=4)
def load_clip(name: str = "ViT-B-32", pretrained: str | None = "openai", device: str | None = None) -> ClipEncoder:
    """A CLIP encoder by open_clip model name and pretrained tag, or "tiny" (random, offline)."""
    import open_clip

    device = device or default_device()
    source = model_source(name, "clip")  # a stand-in's folder for "tiny", else the name itself
    stand_in = source != name
    model_name = f"local-dir:{source}" if stand_in else name
    # OpenAI's CLIPs were trained with QuickGELU, but open_clip's "ViT-B-32" config builds plain
    # GELU and (since 3.x) only warns when given the "openai" weights: ask for the tag's activation.
    # The lookup is by exact key while the factory accepts "ViT-B/32" too: ask with its spelling.
    config_name = name.replace("/", "-")
    quick_gelu = not stand_in and bool(pretrained) and bool(open_clip.get_pretrained_cfg(config_name, pretrained).get("quick_gelu"))
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(
            model_name, pretrained=None if stand_in else pretrained, device=device, force_quick_gelu=quick_gelu
        )
        tokenizer = open_clip.get_tokenizer(model_name)
    except (OSError, RuntimeError, ValueError) as exc:
        raise F2FError(
            f"Could not load CLIP '{name}' with weights '{pretrained}' ({type(exc).__name__}: {str(exc).splitlines()[0]}). "
            "Pretrained CLIP weights download from the hub on first use; offline, use the tiny preset."
        ) from None
    model.eval()
    return ClipEncoder(model, preprocess, tokenizer, name=name, pretrained=None if stand_in else pretrained, device=device)
