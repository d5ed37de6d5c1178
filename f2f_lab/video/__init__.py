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
loads them; the model id "tiny" loads a small random-weight copy of the same classes.
"""

from __future__ import annotations

from .backends import BACKENDS, GEOMETRIES, VideoBackend, get_backend
from .base import VideoGenerator, VideoOutput
from .cogvideox import PAPER_MODEL, CogVideoXGenerator, check_num_frames, positional_embedding_of
from .hunyuan import HunyuanVideo15Generator
from .levers import SDPAKernelProcessor, apply_levers, cache_config
from .ltx import LTXGenerator
from .wan import WanGenerator

ADAPTERS = {"cogvideox": CogVideoXGenerator, "wan": WanGenerator, "hunyuan": HunyuanVideo15Generator, "ltx": LTXGenerator}


def video_model_class(model_id: str, backend: str = "cogvideox"):
    """The generator class that loads `model_id`: the learned toy model for "toy", else the backend's adapter."""
    if model_id == "toy":
        from ..toy.video_model import ToyVideoGenerator

        return ToyVideoGenerator
    return ADAPTERS[get_backend(backend).family]


__all__ = [
    "ADAPTERS", "BACKENDS", "GEOMETRIES", "PAPER_MODEL", "CogVideoXGenerator", "HunyuanVideo15Generator", "LTXGenerator",
    "SDPAKernelProcessor", "VideoBackend", "VideoGenerator", "VideoOutput", "WanGenerator", "apply_levers",
    "cache_config", "check_num_frames", "get_backend", "positional_embedding_of", "video_model_class",
]
