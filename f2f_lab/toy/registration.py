"""How the toy world joins the core: its preset, its video model and its selector, registered.

The core (presets, video, selection, pipeline) never names the toy. Importing `f2f_lab`
imports this module, so `get_preset("toy")`, `f2f edit --preset toy` and
`Frame2Frame.from_preset("toy")` work as for any preset.
"""

from __future__ import annotations

from ..presets import Preset, register_preset
from ..selection import register_selector
from ..video import register_video_model
from .selection import ToyFactorSelector
from .video_model import ToyVideoGenerator

# The toy world's learned models: 32 px, 9 frames, CLIP-free selection by the renderer's exact
# factor fit. Real edits of toy images, on any CPU in seconds.
TOY_PRESET = register_preset(Preset(
    name="toy", video_model="toy", canvas=(32, 32), num_frames=9, num_inference_steps=20, guidance_scale=1.0,
    fps=4, output_size=32, num_tiles=8, captioner="template", selector="toy", clip_model="tiny",
    clip_pretrained=None,
))

register_video_model("toy", ToyVideoGenerator)


def _toy_selector(*, client=None, clip=None, **options) -> ToyFactorSelector:
    """The toy world's exact factor fit: no VLM, no CLIP (`client` and `clip` are not used)."""
    return ToyFactorSelector(**options)


register_selector("toy", _toy_selector)
