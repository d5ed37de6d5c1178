"""Best of seeds by hand (Sec. 5.1): several seeds' results of a task side by side, one click to pick.

    picker = f2f.show(results)         # SeedPicker, for several seeds of one task
    picker = RunPicker("runs/bench/tedbench/f2f-paper")   # every task of a benchmark run;
    picker.choices                     # choices saved to <run>/choices.json, as the runner reads them
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import ipywidgets as widgets
from PIL import Image

from ..bench.runner import collect_records, load_choices, write_choices
from ..display import CHOSEN_CSS, METRIC_LABELS
from ..errors import F2FError
from ..imaging import load_image
from ..pages import escape
from ._views import image_widget


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
        card = widgets.VBox([image_widget(image, side, "f2f-pick-image"),
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
