"""Notebook widgets: the frame-strip player of one edit, and a best-of-seeds picker.

Built only from stock ipywidgets, so they work in JupyterLab 4 and the classic notebook
alike with no extension of ours. Frames go to the browser as JPEG bytes in `Image`
widgets (binary buffers, a few kB each), never as arrays or base64 text.

    player = f2f.show(result)          # FramePlayer
    player.result                      # the edit with the frame chosen in the player
    player.save("runs/cat")            # and every later "use this frame" re-saves there

    picker = f2f.show(results)         # SeedPicker, for several seeds of one task
    picker = RunPicker("runs/bench/tedbench/f2f-paper")   # every task of a benchmark run;
    picker.choices                     # choices saved to <run>/choices.json, as the runner reads them
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, Sequence

import ipywidgets as widgets
from PIL import Image

from .errors import F2FError
from .imaging import CHOSEN_COLOUR, load_image
from .presets import TINY_NOTICE

CHOSEN_CSS = "#{:02x}{:02x}{:02x}".format(*CHOSEN_COLOUR)  # the orange of strip.png and collage.png
CURRENT_CSS = "#1f77b4"
FRAME_SIDE = 384  # the large view, in CSS pixels
SOURCE_SIDE = 256
THUMB_SIDE = 88

_BANNER_STYLE = (
    "background:#fff3cd;border:2px solid #e0a800;border-radius:4px;padding:6px 10px;"
    "font-weight:600;color:#5c4400;line-height:1.35"
)


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
            return f"<p>{escape(self.text)}</p>"
        return f'<div style="{_BANNER_STYLE}">{escape(self.text)}</div>'

    def __repr__(self) -> str:
        return f"*** {self.text} ***" if self.preset == "tiny" else self.text


def preset_banner(preset: str) -> Banner:
    """A banner saying what the preset means; loud in tiny mode, where outputs are noise."""
    return Banner(preset)


def encode_image(image: Image.Image, max_side: int | None = None, quality: int = 88) -> bytes:
    """JPEG bytes of `image`, shrunk so its longer side is at most `max_side` pixels."""
    image = image.convert("RGB")
    if max_side and max(image.size) > max_side:
        image = image.copy()
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _image_widget(image: Image.Image, side: int, css_class: str) -> widgets.Image:
    view = widgets.Image(
        value=encode_image(image, max_side=2 * side if side < 256 else 512),
        format="jpeg",
        layout=widgets.Layout(width=f"{side}px", height="auto", object_fit="contain"),
    )
    view.add_class(css_class)
    return view


# How the paper names its metrics (Tables 1 and 2), with the better direction.
METRIC_LABELS = {
    "source_lpips": "source LPIPS &darr;", "source_clip_i": "source CLIP-I &uarr;", "clip_score": "CLIP score &uarr;",
    "clip_score_cosine": "CLIP cosine", "target_lpips": "target LPIPS &darr;", "target_clip_i": "target CLIP-I &uarr;",
}


def _metrics_html(metrics: dict[str, float] | None, note: str = "") -> str:
    if not metrics:
        return f"<i>{escape(note)}</i>" if note else ""
    rows = "".join(
        f"<tr><td style='padding:1px 10px 1px 0'>{METRIC_LABELS.get(k, escape(k))}</td>"
        f"<td style='text-align:right'>{v:.3f}</td></tr>" if isinstance(v, (int, float))
        else f"<tr><td>{METRIC_LABELS.get(k, escape(k))}</td><td>{escape(str(v))}</td></tr>"
        for k, v in metrics.items()
    )
    extra = f"<div><i>{escape(note)}</i></div>" if note else ""
    return f"<b>Metrics</b><table style='font-size:0.92em'>{rows}</table>{extra}"


class FramePlayer(widgets.VBox):
    """Step through an edit's video, see the chosen frame, and choose another by hand.

    Shows the source beside a large view of the current frame, a Play control linked to a
    slider (in the browser, with `jslink`), a strip of thumbnails (0, the frames the selector
    saw, the last and the chosen one; click a number to jump there), the target and temporal
    captions, and the metrics when they are known. Index 0 shows the source: choosing it
    keeps the source, as the paper's selector does when no frame completes the edit.

    "Use this frame" replaces `player.result` with `result.with_index(k)`; if the player
    saved the result (`player.save(folder)`) or was given `folder=`, the folder is
    re-written so that edited.png and record.json say what is now chosen.

    Args:
        result: an `EditResult`.
        folder: a run folder that already holds this result; re-saved on "use this frame".
        scorer: optional `f2f_lab.metrics.Scorer` (anything with `score(source, edited, text)`):
            with it the player scores a result that has no metrics yet and re-scores a frame
            chosen by hand; without it, metrics are dropped when the frame changes, since
            they described the previous frame.
    """

    def __init__(self, result, *, folder: str | os.PathLike | None = None, scorer: Any = None):
        if not getattr(result, "frames", None):
            raise F2FError("This result has no frames to play; show() needs an EditResult from Frame2Frame.edit.")
        if scorer is not None and result.metrics is None:
            result = dataclasses.replace(result, metrics=scorer.score(result.source_output, result.image, result.target))
        self.result = result
        self.folder = Path(folder) if folder is not None else None
        self.scorer = scorer
        self._frame_cache: dict[int, bytes] = {}
        last = len(result.frames) - 1

        self.source_view = _image_widget(result.source_output, SOURCE_SIDE, "f2f-source")
        self.frame_view = widgets.Image(
            value=self._frame_bytes(result.index), format="jpeg",
            layout=widgets.Layout(width=f"{FRAME_SIDE}px", height="auto", border=f"3px solid {CHOSEN_CSS}"),
        )
        self.frame_view.add_class("f2f-frame")
        self.frame_label = widgets.HTML()
        self.frame_label.add_class("f2f-frame-label")

        self.play = widgets.Play(value=result.index, min=0, max=last, step=1, interval=max(40, 1000 // result.fps),
                                 description="Play", show_repeat=False)
        self.slider = widgets.IntSlider(value=result.index, min=0, max=last, step=1, description="frame",
                                        continuous_update=True, layout=widgets.Layout(width=f"{FRAME_SIDE - 60}px"))
        self.slider.add_class("f2f-slider")
        self.link = widgets.jslink((self.play, "value"), (self.slider, "value"))  # in the browser, no kernel round trip

        self.use_button = widgets.Button(description="Use this frame", icon="check", button_style="warning",
                                         tooltip="Make the shown frame the edit (and re-save the run folder)")
        self.use_button.add_class("f2f-use")
        self.chosen_label = widgets.HTML(layout=widgets.Layout(margin="0 0 0 10px"))
        self.chosen_label.add_class("f2f-chosen")
        self.metrics_view = widgets.HTML(layout=widgets.Layout(margin="0 0 0 12px"))
        self.status = widgets.HTML()
        self.status.add_class("f2f-status")

        self._thumbs: dict[int, widgets.VBox] = {}
        self.strip = widgets.HBox(layout=widgets.Layout(overflow="auto", padding="4px 0"))
        self.strip.add_class("f2f-strip")

        children = []
        if result.tiny:
            children.append(widgets.HTML(f'<div style="{_BANNER_STYLE}">{escape(TINY_NOTICE)}</div>'))
        children += [
            widgets.HTML(self._captions_html()),
            widgets.HBox([
                widgets.VBox([widgets.HTML("<b>Source</b>"), self.source_view], layout=widgets.Layout(margin="0 12px 0 0")),
                widgets.VBox([self.frame_label, self.frame_view, widgets.HBox([self.play, self.slider]),
                              widgets.HBox([self.use_button, self.chosen_label])]),
                self.metrics_view,
            ], layout=widgets.Layout(align_items="flex-start")),
            widgets.HTML("<b>Frames</b> (orange: chosen, blue: shown; click a number to jump)"),
            self.strip,
            self.status,
        ]
        super().__init__(children)
        self.add_class("f2f-player")

        self.slider.observe(self._on_slide, names="value")
        self.use_button.on_click(self._on_use)
        self._refresh()

    # -- what a user calls -----------------------------------------------------------------

    @property
    def index(self) -> int:
        """The frame shown now (not necessarily the chosen one: that is `result.index`)."""
        return self.slider.value

    def choose(self, index: int | None = None):
        """Make frame `index` (default: the shown one) the edit; re-save if a folder is known."""
        index = self.slider.value if index is None else int(index)
        previous = self.result
        chosen = previous.with_index(index)
        note = ""
        if self.scorer is not None and (index != previous.index or previous.metrics is None):
            chosen = dataclasses.replace(chosen, metrics=self.scorer.score(chosen.source_output, chosen.image, chosen.target))
        elif previous.metrics is not None and index != previous.index:
            chosen = dataclasses.replace(chosen, metrics=None)  # they described the previous frame
            note = f"metrics dropped: they were for frame {previous.index}; show(result, scorer=...) re-scores"
        self.result = chosen
        if self.folder is not None:
            self.result.save(self.folder, overwrite=True)
            self.status.value = f"Frame {index} chosen by hand; saved to <code>{escape(str(self.folder))}</code>."
        else:
            self.status.value = f"Frame {index} chosen by hand{'; ' + escape(note) if note else ''}."
        self._refresh(note)
        return self.result

    def save(self, folder: str | os.PathLike, overwrite: bool = False) -> Path:
        """Save the current result (`EditResult.save`); later choices re-save the same folder."""
        path = self.result.save(folder, overwrite=overwrite)
        self.folder = Path(path)
        self.status.value = f"Saved to <code>{escape(str(self.folder))}</code>."
        return self.folder

    # -- drawing ---------------------------------------------------------------------------

    def _frame(self, index: int) -> Image.Image:
        # Index 0 means "keep the source", so the player shows the source there (as strip.png does).
        return self.result.source_output if index == 0 else self.result.frames[index]

    def _frame_bytes(self, index: int) -> bytes:
        if index not in self._frame_cache:
            self._frame_cache[index] = encode_image(self._frame(index), max_side=512)
        return self._frame_cache[index]

    def _strip_indices(self) -> list[int]:
        """Frame 0, the frames the selector saw, the last frame, and the chosen one."""
        return sorted({0, *self.result.tile_indices, len(self.result.frames) - 1, self.result.index})

    def _thumb(self, index: int) -> widgets.VBox:
        image = widgets.Image(value=encode_image(self._frame(index), max_side=2 * THUMB_SIDE), format="jpeg",
                              layout=widgets.Layout(width=f"{THUMB_SIDE}px", height="auto"))
        jump = widgets.Button(description=str(index), tooltip=f"show frame {index}",
                              layout=widgets.Layout(width=f"{THUMB_SIDE}px", height="24px"))
        jump.on_click(lambda _button, index=index: setattr(self.slider, "value", index))
        box = widgets.VBox([image, jump], layout=widgets.Layout(padding="2px", margin="0 4px 0 0"))
        box.add_class("f2f-thumb")
        self._thumbs[index] = box
        return box

    def _captions_html(self) -> str:
        result = self.result
        captioner = result.record.get("caption", {}).get("captioner", "")
        return (
            f"<div style='line-height:1.5'><b>Target:</b> {escape(result.target)}<br>"
            f"<b>Temporal caption</b>{f' ({escape(str(captioner))})' if captioner else ''}: {escape(result.caption)}<br>"
            f"<span style='color:#666'>seed {result.seed} &middot; {len(result.frames)} frames at {result.fps} fps</span></div>"
        )

    def _refresh(self, note: str = "") -> None:
        result, shown = self.result, self.slider.value
        self.frame_view.value = self._frame_bytes(shown)
        is_chosen = shown == result.index
        self.frame_view.layout.border = f"3px solid {CHOSEN_CSS if is_chosen else CURRENT_CSS}"
        what = "the chosen frame" if is_chosen else "not chosen"
        source = " (the source)" if shown == 0 else ""
        self.frame_label.value = f"<b>Frame {shown}</b>{source} of 0&ndash;{len(result.frames) - 1} &middot; {what}"
        selector = result.record.get("selection", {}).get("selector", "")
        by = "by hand" if selector == "manual" else f"{escape(str(selector))} selector" if selector else ""
        source_note = " (the source itself)" if result.index == 0 else ""
        self.chosen_label.value = f"<b>Chosen: frame {result.index}</b>{source_note}{' &middot; ' + by if by else ''}"
        self.use_button.disabled = is_chosen
        indices = self._strip_indices()
        if [self._thumbs.get(i) for i in indices] != list(self.strip.children):  # a frame chosen by hand joins
            self.strip.children = [self._thumbs[i] if i in self._thumbs else self._thumb(i) for i in indices]
        for index, box in self._thumbs.items():
            colour = CHOSEN_CSS if index == result.index else CURRENT_CSS if index == shown else "transparent"
            box.layout.border = f"3px solid {colour}"
        self.metrics_view.value = _metrics_html(result.metrics, note)

    def _on_slide(self, change) -> None:
        self._refresh()

    def _on_use(self, _button) -> None:
        try:
            self.choose()
        except F2FError as error:
            self.status.value = f"<span style='color:#b00'>{escape(str(error))}</span>"

    def __repr__(self) -> str:  # the text/plain fallback where widgets do not render
        return (f"FramePlayer(frame {self.result.index} of {len(self.result.frames)} chosen; "
                f"target {self.result.target!r}; run it in Jupyter to see the player)")


# -- best of seeds -------------------------------------------------------------------------


@dataclass
class RunItem:
    """One finished (task, seed) item of a benchmark run folder, as the picker shows it."""

    task_id: str
    seed: int
    image: Image.Image
    target: str
    metrics: dict[str, float] = field(default_factory=dict)
    index: int | None = None  # the chosen frame, for Frame2Frame items
    source_output: Image.Image | None = None


def load_run_items(run_dir: str | os.PathLike, task_id: str) -> list[RunItem]:
    """The finished seeds of one task of a `run_benchmark` folder, in seed order."""
    from .bench.runner import collect_records

    run_dir = Path(run_dir)
    by_seed = collect_records(run_dir).get(task_id)
    if not by_seed:
        raise F2FError(f"No finished results for task '{task_id}' in '{run_dir}'.")
    source = None
    items = []
    for seed, record in sorted(by_seed.items()):
        folder = run_dir / task_id / f"seed-{seed}"
        if source is None:
            source_path = folder / "source.png"
            if not source_path.is_file():
                source_path = Path(record.get("bench", {}).get("source", ""))
            source = load_image(source_path) if source_path.is_file() else None
        items.append(RunItem(
            task_id=task_id, seed=seed, image=load_image(folder / "edited.png"),
            target=record.get("bench", {}).get("target_text", ""), metrics=record.get("metrics", {}),
            index=record.get("selection", {}).get("index"), source_output=source,
        ))
    return items


def _read_choices(path: Path | None) -> dict[str, int | None]:
    if path is None or not path.exists():
        return {}
    from .bench.runner import load_choices

    return load_choices(path)


_UNDECIDED = object()


class SeedPicker(widgets.VBox):
    """Several seeds' results of one task side by side; pick the best by hand (Sec. 5.1).

    The paper keeps, for every method and image, the best of 15 (TEdBench) or 9 (PosEdit)
    seeds, chosen by hand; when no seed does the edit it keeps the source. A pick is written
    to `choices_file`, the manual-choices file the benchmark runner reads
    (`bench.runner.load_choices`: `{task_id: seed or null}`, null = keep the source), which
    `tables.build_table(..., choices=...)` and `f2f bench table DIR --choices FILE` apply.

    Args:
        results: results of one task, one per seed (EditResult, RunItem, or anything with
            `.image`, `.seed`, and optionally `.metrics`, `.index`, `.target`, `.source_output`).
        task_id: the benchmark task's id; needed to write `choices_file`.
        choices_file: the JSON file of choices; an earlier choice for this task is shown.
    """

    def __init__(self, results: Sequence, *, task_id: str | None = None,
                 choices_file: str | os.PathLike | None = None, side: int = 200):
        results = list(results)
        if not results:
            raise F2FError("No results to pick from; pass the results of several seeds.")
        if choices_file is not None and task_id is None:
            raise F2FError("A choices file needs the task id: SeedPicker(results, task_id=..., choices_file=...).")
        seeds = [r.seed for r in results]
        if len(set(seeds)) != len(seeds):
            raise F2FError(f"Each result must have its own seed; got seeds {seeds}.")
        self.results = results
        self.task_id = task_id
        self.choices_file = Path(choices_file) if choices_file is not None else None
        earlier = _read_choices(self.choices_file)
        self._choice = earlier[str(task_id)] if str(task_id) in earlier else _UNDECIDED

        self._cards: dict[int | None, widgets.VBox] = {}
        self._buttons: dict[int | None, widgets.Button] = {}
        cards = []
        source = getattr(results[0], "source_output", None)
        if source is not None:
            cards.append(self._card(None, source, "the source, unedited", side))
        for result in results:
            lines = f"seed {result.seed}"
            if getattr(result, "index", None) is not None:
                lines += f" &middot; frame {result.index}"
            metrics = getattr(result, "metrics", None) or {}
            shown = [(k, v) for k, v in metrics.items() if k in METRIC_LABELS and k != "clip_score_cosine"]
            if shown:
                lines += "<br><span style='font-size:0.85em;color:#444'>" + "<br>".join(
                    f"{METRIC_LABELS[k]} {v:.3f}" for k, v in shown) + "</span>"
            cards.append(self._card(result.seed, result.image, lines, side))
        self.status = widgets.HTML()
        self.status.add_class("f2f-pick-status")
        target = escape(getattr(results[0], "target", "") or "")
        header = widgets.HTML(f"<b>{escape(str(task_id)) + ': ' if task_id else ''}</b>{target}"
                              f" &mdash; {len(results)} seeds; pick the best edit, or keep the source if none does it")
        super().__init__([header, widgets.HBox(cards, layout=widgets.Layout(overflow="auto")), self.status])
        self.add_class("f2f-picker")
        self._refresh()

    @property
    def decided(self) -> bool:
        return self._choice is not _UNDECIDED

    @property
    def picked(self) -> int | None:
        """The picked seed; None before a pick, or when the source is kept (see `decided`)."""
        return None if self._choice is _UNDECIDED else self._choice

    @property
    def result(self):
        """The picked result; None before a pick or when the source is kept."""
        return next((r for r in self.results if self.decided and r.seed == self._choice), None)

    def pick(self, seed: int | None):
        """Pick `seed` as the best (None: no seed does the edit, keep the source); written to the choices file."""
        if seed not in self._cards and seed is not None:
            raise F2FError(f"Seed {seed} is not among {sorted(s for s in self._cards if s is not None)}.")
        self._choice = None if seed is None else int(seed)
        what = "keep the source" if seed is None else f"seed {seed}"
        if self.choices_file is not None:
            from .bench.runner import write_choices

            choices = _read_choices(self.choices_file)
            choices[str(self.task_id)] = self._choice
            self.choices_file.parent.mkdir(parents=True, exist_ok=True)
            write_choices(self.choices_file, dict(sorted(choices.items())))
            self.status.value = f"Picked: {what}; written to <code>{escape(str(self.choices_file))}</code>."
        else:
            self.status.value = f"Picked: {what}."
        self._refresh()
        return self.result

    def _card(self, seed: int | None, image: Image.Image, lines: str, side: int) -> widgets.VBox:
        label = "Keep the source" if seed is None else f"Pick seed {seed}"
        button = widgets.Button(description=label, layout=widgets.Layout(width=f"{side}px"))
        button.on_click(lambda _button, seed=seed: self.pick(seed))
        self._buttons[seed] = button
        card = widgets.VBox([_image_widget(image, side, "f2f-pick-image"),
                             widgets.HTML(lines, layout=widgets.Layout(width=f"{side}px")), button],
                            layout=widgets.Layout(padding="3px", margin="0 6px 0 0"))
        card.add_class("f2f-pick-card")
        self._cards[seed] = card
        return card

    def _refresh(self) -> None:
        for seed, card in self._cards.items():
            chosen = self.decided and seed == self._choice
            card.layout.border = f"3px solid {CHOSEN_CSS if chosen else 'transparent'}"
            self._buttons[seed].button_style = "warning" if chosen else ""
            self._buttons[seed].icon = "check" if chosen else ""

    def __repr__(self) -> str:
        state = "undecided" if not self.decided else "keep the source" if self._choice is None else f"seed {self._choice}"
        return f"SeedPicker({len(self.results)} seeds of {self.task_id or 'one task'}: {state}; run it in Jupyter to pick)"


class RunPicker(widgets.VBox):
    """A `SeedPicker` for every task of a benchmark run folder, all writing one choices file.

    Args:
        run_dir: the `out` of `bench.runner.run_benchmark` (or `f2f bench ...`).
        choices_file: default `<run_dir>/choices.json`.
        tasks: only these task ids (default: every task with finished results).
    """

    def __init__(self, run_dir: str | os.PathLike, *, choices_file: str | os.PathLike | None = None,
                 tasks: Sequence[str] | None = None, side: int = 176):
        from .bench.runner import collect_records

        self.run_dir = Path(run_dir)
        self.choices_file = Path(choices_file) if choices_file is not None else self.run_dir / "choices.json"
        found = sorted(collect_records(self.run_dir))
        if not found:
            raise F2FError(f"No finished results in '{self.run_dir}'. Run the benchmark first.")
        task_ids = found if tasks is None else list(tasks)
        self.pickers = [SeedPicker(load_run_items(self.run_dir, t), task_id=t, choices_file=self.choices_file, side=side)
                        for t in task_ids]
        note = widgets.HTML(f"Choices are saved to <code>{escape(str(self.choices_file))}</code> "
                            f"as {{task id: seed or null}}; tasks left undecided use the automatic rule.")
        super().__init__([note, *self.pickers])
        self.add_class("f2f-run-picker")

    @property
    def choices(self) -> dict[str, int | None]:
        """The manual choices so far ({task_id: seed or None}), for `tables.build_table(choices=...)`."""
        return {p.task_id: p.picked for p in self.pickers if p.decided}

    def __repr__(self) -> str:
        return f"RunPicker({len(self.pickers)} tasks of '{self.run_dir}', {len(self.choices)} decided)"


# -- static views (plain images: they survive export to HTML and GitHub's notebook viewer) ---


def grid(rows: dict[str, Sequence[Image.Image | None]], columns: Sequence[str] = (), *, height: int = 160,
         gap: int = 8) -> Image.Image:
    """A labelled grid of images: one row per key (its title above it), one titled column per position.

    `None` leaves a cell empty. Example: `grid({"deblurring": (clean, blurry, edit)}, ["clean", "input", "F2F"])`.
    """
    from PIL import ImageDraw

    from .imaging import _fit_height, _font

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
    from .bench.runner import pick_best

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


def show(result, **options):
    """A `FramePlayer` for one result, a `SeedPicker` for a list of results of one task."""
    if isinstance(result, (list, tuple)):
        return SeedPicker(result, **options)
    return FramePlayer(result, **options)
