"""Step 2 of Frame2Frame: an image-to-video model generates the pathway (Sec. 3.2).

The paper's model is CogVideoX-5B I2V; any image-to-video model in diffusers can walk the
path instead. Each backend is data (`backends.BACKENDS`: hub id, size, frame rule, the
card's defaults) plus a small adapter over its diffusers pipeline:

| key            | adapter                  | pipeline                           |
|----------------|--------------------------|------------------------------------|
| `cogvideox`    | `CogVideoXGenerator`     | CogVideoXImageToVideoPipeline      |
| `cogvideox1.5` | `CogVideoXGenerator`     | CogVideoXImageToVideoPipeline      |
| `wan2.1-480p`  | `WanGenerator`           | WanImageToVideoPipeline            |
| `wan2.2-5b`    | `WanGenerator`           | WanImageToVideoPipeline            |
| `wan2.2-a14b`  | `WanGenerator`           | WanImageToVideoPipeline (2 experts)|
| `hunyuan1.5`   | `HunyuanVideo15Generator`| HunyuanVideo15ImageToVideoPipeline |
| `ltx`          | `LTXGenerator`           | LTXImageToVideoPipeline            |

The real weights come from the Hugging Face hub cache on first use, exactly as diffusers
loads them; a stand-in model id ("tiny", registered by `f2f_lab.stand_ins`) loads a small
random-weight copy of the same classes. A video model that is not a diffusers backend (the
toy world's learned model) registers its generator class under its own model id.
"""

from __future__ import annotations

from .backends import BACKENDS, GEOMETRIES, VideoBackend, get_backend
from .base import VideoGenerator, VideoOutput
from .cogvideox import PAPER_MODEL, CogVideoXGenerator, positional_embedding_of
from .hunyuan import HunyuanVideo15Generator
from .levers import SDPAKernelProcessor, apply_levers, cache_config
from .ltx import LTXGenerator
from .wan import WanGenerator

ADAPTERS = {"cogvideox": CogVideoXGenerator, "wan": WanGenerator, "hunyuan": HunyuanVideo15Generator, "ltx": LTXGenerator}

# Video models outside the backend table, by model id: each has its own frame count and size,
# so the backends' frame rules do not apply to it (`has_own_frames`). Add-ons register here.
VIDEO_MODELS: dict[str, type] = {}


def register_video_model(model_id: str, generator_class: type) -> type:
    """Make `model_id` load with `generator_class` (which has `from_pretrained` and `canvas_for`)."""
    VIDEO_MODELS[model_id] = generator_class
    return generator_class


def has_own_frames(model_id: str) -> bool:
    """Whether `model_id` is a registered video model with its own frames (no backend frame rule)."""
    return model_id in VIDEO_MODELS


def video_model_class(model_id: str, backend: str = "cogvideox"):
    """The generator class that loads `model_id`: a registered video model's, else the backend's adapter."""
    if model_id in VIDEO_MODELS:
        return VIDEO_MODELS[model_id]
    return ADAPTERS[get_backend(backend).family]


__all__ = [
    "ADAPTERS", "BACKENDS", "GEOMETRIES", "VIDEO_MODELS", "PAPER_MODEL", "CogVideoXGenerator", "HunyuanVideo15Generator", "LTXGenerator",
    "SDPAKernelProcessor", "VideoBackend", "VideoGenerator", "VideoOutput", "WanGenerator", "apply_levers",
    "cache_config", "get_backend", "has_own_frames", "positional_embedding_of",
    "register_video_model", "video_model_class",
]
