"""The paper's ablations (appendix B.2, C.2) and its open question on frame count.

- Table S4: the target caption itself drives the video instead of the temporal caption
  (`captioner="target"`).
- Table S5: the video's last frame is the edit instead of the selected frame
  (`selector="last"`).
- Video model (beyond the paper): the same tasks, seeds, captioner and selector with each
  image-to-video backend (`run_video_models`), one model loaded at a time.
- Frame count: the paper generates 49 frames and asks whether fewer would do; 49 vs 33 vs 25
  frames (8k+1, as CogVideoX needs), for edit accuracy, preservation and time. Mind that
  CogVideoX-5B I2V learned its positional embedding for 49 frames: at 33 or 25 diffusers
  substitutes an untrained sin-cos one (warned, and recorded as `positional_embedding`), so
  this row measures that substitute as much as the frame count.

Every variant is a benchmark run (`bench.runner.run_benchmark`) of an editor that shares the
loaded video model with the base editor (`variant`), so an ablation costs its videos, not
another model load. `ablation_table` puts the measured rows beside the paper's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

from .bench.runner import run_benchmark
from .bench.tables import METRIC_COLUMNS, QUOTED_DIGITS, BenchTable, measured_rows
from .errors import F2FError
from .loading import release_memory
from .pipeline import Frame2Frame
from .presets import get_preset

# Quoted from the paper (Table S4, TEdBench, best of 15 seeds).
PAPER_TABLE_S4 = [
    {"Model": "Original Captions", "source_lpips": 0.21, "source_clip_i": 0.89, "clip_score": 0.60},
    {"Model": "Temporal Captions", "source_lpips": 0.22, "source_clip_i": 0.89, "clip_score": 0.63},
]
# Quoted from the paper (Table S5, TEdBench, best of 15 seeds).
PAPER_TABLE_S5 = [
    {"Model": "Last Frame", "source_lpips": 0.24, "source_clip_i": 0.90, "clip_score": 0.61},
    {"Model": "Selected Frame", "source_lpips": 0.22, "source_clip_i": 0.89, "clip_score": 0.63},
]
METRICS = METRIC_COLUMNS["tedbench"]  # Table 1's columns: "Target CLIP (2.5·max(cos,0)) ↑", the default scorer's


def variant(editor: Frame2Frame, *, captioner: str | None = None, selector: str | None = None,
            device: str | None = None, **preset_fields) -> Frame2Frame:
    """`editor` with another captioner, selector or preset numbers, sharing its video model and VLM client.

    Example: `variant(editor, captioner="target")`, `variant(editor, num_frames=33)`.
    """
    preset = editor.preset.with_options(captioner=captioner, selector=selector, **preset_fields)
    if preset.canvas != editor.preset.canvas or preset.video_model != editor.preset.video_model:
        raise F2FError("A variant shares the video model, so it cannot change video_model or canvas; build a new editor.")
    # Stages that do not change stay the editor's own (no second CLIP load, same options).
    return Frame2Frame.from_preset(
        preset, device=device, vlm=editor.vlm, generator=editor.generator,
        captioner=editor.captioner if captioner is None else None, selector=editor.selector if selector is None else None,
    )


def run_ablation(editor: Frame2Frame, tasks, out: str | Path, variants: Mapping[str, dict], *, seeds,
                 benchmark: str = "tedbench", scorer=None, light: bool = True, progress: bool = True) -> dict[str, Path]:
    """Run every variant of `editor` over `tasks` x `seeds`, each into its own folder under `out`; resumable.

    Args:
        variants: {row label: options of `variant`}, e.g. {"Original Captions": {"captioner": "target"},
            "Temporal Captions": {}}. Options equal to the editor's own settings are dropped, so
            variants that do the same thing share one run folder (and run once).
        seeds: the seeds of every task (the paper: 15 on TEdBench).
        scorer: a `metrics.Scorer` shared by the runs (default: the preset's).
        light: keep only edited.png and record.json per item (the tables need no more);
            False also keeps each item's video, strip and collage.

    Returns {label: run folder}, for `ablation_table`.
    """
    out, folders = Path(out), {}
    for label, options in variants.items():
        preset = editor.preset
        changed = {k: v for k, v in options.items() if getattr(preset, k, object()) != v}
        name = "-".join(f"{k}-{v}" for k, v in sorted(changed.items())) or "base"
        folder = out / name
        if folder not in folders.values():
            variant_editor = variant(editor, **changed) if changed else editor
            run_benchmark(tasks, folder, benchmark=benchmark, preset=variant_editor.preset, seeds=seeds,
                          editor=variant_editor, scorer=scorer, light=light, progress=progress)
        folders[label] = folder
    return folders


def run_video_models(tasks, out: str | Path, video_models, *, preset="paper", seeds, benchmark: str = "tedbench",
                     scorer=None, light: bool = True, progress: bool = True, device: str | None = None,
                     **editor_options) -> dict[str, Path]:
    """The "video model" axis: `preset`'s pipeline with each backend of `video_models`, same tasks and seeds.

    Each backend gets its own editor (its card's frames, steps, guidance and size; the preset's
    captioner, selector and VLM) and run folder `out/<key>`; each is released before the next
    loads, so one GPU holds one video model at a time. Resumable like every benchmark run.

    Example: `run_video_models(tasks, "runs/models", ["cogvideox", "wan2.2-5b"], seeds=range(3))`.
    Returns {key: run folder}, for `ablation_table`.
    """
    out, folders = Path(out), {}
    for key in video_models:
        editor = Frame2Frame.from_preset(get_preset(preset), video_backend=key, device=device, progress=progress,
                                         **editor_options)
        folder = out / key
        run_benchmark(tasks, folder, benchmark=benchmark, preset=editor.preset, seeds=seeds, editor=editor, scorer=scorer,
                      light=light, progress=progress)
        folders[key] = folder
        del editor
        release_memory()
    return folders


def seconds_per_item(run_dir: str | Path) -> dict[str, float | None]:
    """Mean seconds per finished item of a run: the video alone, and the whole item (caption, video, selection, metrics)."""
    video, total = [], []
    for path in sorted(Path(run_dir).glob("*/seed-*/record.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if "video" in record.get("timings", {}):
            video.append(record["timings"]["video"])
        if "seconds" in record.get("bench", {}):
            total.append(record["bench"]["seconds"])
    mean = lambda values: sum(values) / len(values) if values else None  # noqa: E731
    return {"video_seconds": mean(video), "item_seconds": mean(total)}


def ablation_table(runs: Mapping[str, str | Path], paper_rows: list[dict] | None = None, *,
                   rule: str = "clip_under_lpips", timing: bool = False) -> BenchTable:
    """Measured rows (one run folder per label, best seed per task by `rule`) after the paper's rows.

    Args:
        runs: {row label: run folder of `run_benchmark`}.
        paper_rows: quoted rows (PAPER_TABLE_S4, PAPER_TABLE_S5), or None.
        timing: add the mean seconds of the video and of a whole item (the frame-count question).
    """
    if not runs:
        raise F2FError("No runs to tabulate; give {label: run folder}.")
    columns = ["Model"] + [header for _, header in METRICS]
    if timing:
        columns += ["Frames", "Video s/item", "Item s/item"]
    columns += ["Tasks", "Seeds", "Origin"]
    rows = [{"Model": q["Model"], **{h: q[k] for k, h in METRICS}, "Origin": "quoted from the paper", QUOTED_DIGITS: 2}
            for q in paper_rows or []]
    for label, run_dir in runs.items():
        _, measured, run = measured_rows(run_dir, rule=rule)
        row, frames = measured[-1], run.get("editor_options", {}).get("num_frames") or run.get("preset_fields", {}).get("num_frames")
        tiny = run.get("preset_fields", {}).get("video_model", run.get("preset")) == "tiny"
        rows.append({"Model": label, **{h: row.get(k) for k, h in METRICS}, "Tasks": row["Tasks"], "Seeds": row["Seeds"],
                     "Origin": "measured here, TINY preset: noise" if tiny else f"measured here ({run.get('preset')})"})
        if timing:
            times = seconds_per_item(run_dir)
            rows[-1].update({"Frames": frames, "Video s/item": times["video_seconds"], "Item s/item": times["item_seconds"]})
    notes = [f"Measured rows keep the best seed per task by rule '{rule}' (f2f_lab.bench.runner); the paper picked by hand."]
    if paper_rows:
        notes.insert(0, "Rows marked 'quoted from the paper' are its published numbers (arXiv 2411.16819, appendix).")
    return BenchTable(benchmark="ablation", columns=columns, rows=rows, notes=notes)
