"""The tiny CLIP (the "clip" stand-in): open_clip's CLIP class, two layers, random weights.

Written as an open_clip `local-dir:` folder (config and safetensors), so `load_clip("tiny")`
goes through open_clip's own factory as the real ViT-B/32 does. Embeddings are noise.
"""

from __future__ import annotations

import json
from pathlib import Path

from .cache import build_once, seed

TINY_CLIP_CONFIG = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 224, "layers": 2, "width": 64, "patch_size": 32, "head_width": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


def _build_tiny_clip(folder: Path) -> None:
    import open_clip
    from safetensors.torch import save_file

    seed()
    model = open_clip.CLIP(**TINY_CLIP_CONFIG)
    (folder / "open_clip_config.json").write_text(json.dumps({
        "model_cfg": TINY_CLIP_CONFIG,
        "preprocess_cfg": {"mean": list(open_clip.OPENAI_DATASET_MEAN), "std": list(open_clip.OPENAI_DATASET_STD)},
    }))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / "open_clip_model.safetensors"))


def tiny_clip_dir() -> Path:
    """Folder of the tiny open_clip model (`create_model_and_transforms(f"local-dir:{folder}")` reads it)."""
    return build_once("open-clip", _build_tiny_clip)
