"""What a notebook shows without ipywidgets: preset banners, labelled image grids, benchmark examples.

Everything here is plain HTML or a plain PIL image, so it survives export to HTML and
GitHub's notebook viewer, and imports where ipywidgets is not installed. The interactive
views (the frame-strip player, the seed picker) are in `f2f_lab.widgets`.

    preset_banner("tiny")                  # a loud yellow box: tiny outputs are noise
    grid({"deblurring": (clean, blurry, edit)}, ["clean", "input", "F2F"])
    example_grid("runs/bench/tedbench/f2f-paper")   # source and picked edit of every task
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

from PIL import Image, ImageDraw

from .bench.runner import pick_best
from .errors import F2FError
from .imaging import CHOSEN_COLOUR, _fit_height, _font, load_image
from .pages import BANNER_STYLE, METRIC_LABELS, metrics_html, paragraph_html, tiny_notice_html  # noqa: F401 (re-exported)
from .presets import TINY_NOTICE

CHOSEN_CSS = "#{:02x}{:02x}{:02x}".format(*CHOSEN_COLOUR)  # the orange of strip.png and collage.png
CURRENT_CSS = "#1f77b4"


def default_preset() -> str:
    """The notebooks' preset: $F2F_PRESET, else "paper" on a CUDA machine and "tiny" elsewhere."""
    name = os.environ.get("F2F_PRESET", "").strip()
    if name:
        return name
    import torch

    return "paper" if torch.cuda.is_available() else "tiny"


class Banner:
    """The tiny-preset warning as a notebook output: a yellow box in HTML, the text elsewhere."""

    def __init__(self, preset: str):
        self.preset = getattr(preset, "name", preset)

    @property
    def text(self) -> str:
        if self.preset == "tiny":
            return TINY_NOTICE
        return f"Preset '{self.preset}': the paper's models and numbers."

    def _repr_html_(self) -> str:
        if self.preset != "tiny":
            return paragraph_html(self.text)
        return tiny_notice_html(self.text)

    def __repr__(self) -> str:
        return f"*** {self.text} ***" if self.preset == "tiny" else self.text


def preset_banner(preset: str) -> Banner:
    """A banner saying what the preset means; loud in tiny mode, where outputs are noise."""
    return Banner(preset)


def grid(rows: dict[str, Sequence[Image.Image | None]], columns: Sequence[str] = (), *, height: int = 160,
         gap: int = 8) -> Image.Image:
    """A labelled grid of images: one row per key (its title above it), one titled column per position.

    Every image is resized to `height` pixels high, aspect ratio kept; a column is as wide as
    its widest image. `None` leaves a cell empty.
    Example: `grid({"deblurring": (clean, blurry, edit)}, ["clean", "input", "F2F"])`.
    """
    if not rows:
        raise F2FError("Nothing to show: no rows.")
    fitted = {title: [None if im is None else _fit_height(load_image(im), height) for im in images]
              for title, images in rows.items()}
    count = max(len(images) for images in fitted.values())
    widths = [max([ims[c].width for ims in fitted.values() if c < len(ims) and ims[c] is not None] or [height])
              for c in range(count)]
    font, title_h, header_h = _font(15), 22, 24 if columns else 0
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    width = max([sum(widths) + gap * (count + 1)] + [int(measure.textlength(t, font=font)) + 2 * gap + 4 for t in rows])
    board = Image.new("RGB", (width, header_h + len(rows) * (title_h + height + gap) + gap), (255, 255, 255))
    draw = ImageDraw.Draw(board)
    x = gap
    for c, label in enumerate(list(columns)[:count]):
        draw.text((x + 2, 4), label, fill=(90, 90, 90), font=font)
        x += widths[c] + gap
    y = header_h
    for title, images in fitted.items():
        draw.text((gap + 2, y + 3), title, fill=(0, 0, 0), font=font)
        y += title_h
        x = gap
        for c in range(count):
            if c < len(images) and images[c] is not None:
                board.paste(images[c], (x, y))
            x += widths[c] + gap
        y += height + gap
    return board


def example_grid(run_dir: str | os.PathLike, picks: dict | None = None, *, height: int = 160) -> Image.Image:
    """Source, picked edit (and PosEdit's ground truth) for every task of a benchmark run.

    `picks` is what `bench.runner.pick_best` returns (default: it is called with its default
    rule, manual choices from `<run_dir>/choices.json` when present).
    """
    run_dir = Path(run_dir)
    if picks is None:
        choices = run_dir / "choices.json"
        picks = pick_best(run_dir, choices=choices if choices.is_file() else None, write=False)
    rows, has_target = {}, False
    for task_id, pick in picks["picks"].items():
        reference = json.loads((run_dir / task_id / "reference.json").read_text(encoding="utf-8"))["task"]
        source = load_image(reference["source"])
        edit = source if pick["seed"] is None else load_image(run_dir / task_id / f"seed-{pick['seed']}" / "edited.png")
        target = load_image(reference["target_image"]) if reference.get("target_image") else None
        has_target = has_target or target is not None
        how = "source kept" if pick["seed"] is None else f"seed {pick['seed']}, {pick['rule']}"
        rows[f"{task_id}: {reference['target_text']}  ({how})"] = (source, edit, target)
    columns = ("source", "edit (picked seed)", "ground truth") if has_target else ("source", "edit (picked seed)")
    return grid({k: v[:len(columns)] for k, v in rows.items()}, columns, height=height)
