"""Notebook widgets: the frame-strip player of one edit (`player`), and a best-of-seeds picker (`picker`).

Both are built only from stock ipywidgets. What needs no ipywidgets (banners, image grids,
`example_grid`, `default_preset`) lives in `f2f_lab.display` and is re-exported here, so
notebooks can keep importing everything from `f2f_lab.widgets`.

    player = f2f.show(result)          # FramePlayer
    picker = f2f.show(results)         # SeedPicker, for several seeds of one task
    picker = RunPicker("runs/bench/tedbench/f2f-paper")   # every task of a benchmark run
"""

from ..display import (BANNER_STYLE, CHOSEN_CSS, CURRENT_CSS, METRIC_LABELS, Banner, default_preset, example_grid,
                       grid, metrics_html, preset_banner, tiny_notice_html)
from ..imaging import encode_image
from .picker import RunItem, RunPicker, SeedPicker, load_run_items
from .player import FRAME_SIDE, SOURCE_SIDE, THUMB_SIDE, FramePlayer, show

__all__ = [
    "BANNER_STYLE", "CHOSEN_CSS", "CURRENT_CSS", "FRAME_SIDE", "METRIC_LABELS", "SOURCE_SIDE", "THUMB_SIDE",
    "Banner", "FramePlayer", "RunItem", "RunPicker", "SeedPicker",
    "default_preset", "encode_image", "example_grid", "grid", "load_run_items", "metrics_html", "preset_banner",
    "show", "tiny_notice_html",
]
