"""Stand-ins: the real models' classes with random weights, tiny for tests and offline runs, full size for timing.

Importing this package registers the "tiny" stand-ins with `f2f_lab.loading`, so the core asks
`model_source("tiny", what, **context)` (or `load_pipeline(..., stand_in=what)`) and never names
a builder. What each stands in for:

- "video:<backend key>" (context: canvas=(width, height), used by the paper's CogVideoX): `tiny_video`
- "clip": open_clip's CLIP (`tiny_clip`); "vlm:qwen2.5-vl": the local VLM (`tiny_vlm`)
- "flux", "stable-diffusion", "flux-kontext", "qwen-image-edit", "chronoedit": the editors' models
  (`tiny_editors`)

Tiny folders are built once into the cache (`cache.build_once`, one `CACHE_VERSION`) and read
back with `from_pretrained`. `full_size` builds the published architectures with random
weights drawn on the GPU (configurations in `configs`), for the speed harness and the GPU check.
The builders import their modules (and torch, diffusers) only when called: importing
this package stays light.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from ..loading import register_stand_ins
from ..video.backends import BACKENDS
from . import tiny_editors
from .tiny_clip import tiny_clip_dir
from .tiny_video import tiny_video
from .tiny_vlm import tiny_qwen2_5_vl

# Every video backend has a tiny stand-in (`tiny_video`; tests/test_registries.py checks its tables).
VIDEO_KEYS = tuple(BACKENDS)


def _video(key: str, canvas: tuple[int, int] | None = None) -> Path:
    return tiny_video(key, canvas)


def _clip() -> Path:
    return tiny_clip_dir()


def _vlm() -> Path:
    return tiny_qwen2_5_vl()


def _editor(what: str) -> Path:
    return getattr(tiny_editors, EDITOR_BUILDERS[what])()


EDITOR_BUILDERS = {"flux": "tiny_flux", "stable-diffusion": "tiny_stable_diffusion", "flux-kontext": "tiny_flux_kontext",
                   "qwen-image-edit": "tiny_qwen_image_edit", "chronoedit": "tiny_chronoedit"}

register_stand_ins("tiny", {
    **{f"video:{key}": partial(_video, key) for key in VIDEO_KEYS},
    "clip": _clip,
    "vlm:qwen2.5-vl": _vlm,
    **{what: partial(_editor, what) for what in EDITOR_BUILDERS},
})
