"""The seed sweep behind Tables 1 and 2: every task x seed, resumable, split over processes.

The paper edits every task with 15 seeds (TEdBench) or 9 (PosEdit) and keeps the best
result per task, picked by hand (Sec. 5.1). Here every (task, seed) pair is one *item*:
    OUT/
      run.json                 benchmark, method, preset, seeds, scorer settings
      <task_id>/
        reference.json         the task, and the metrics of keeping the source unedited
                               (and, PosEdit, of the ground-truth target: the "GT" row)
        caption.json           the temporal caption all seeds of the task share (F2F)
        seed-<s>/              edited.png, record.json (with "metrics" and "bench"), and
                               whatever else the editor saves (video.mp4, strip.png, ...)
      picks.json               best seed per task and the rule that picked it
      table.csv, table.md      written by `f2f bench table`

Resuming. An item is written into a hidden folder beside `<task_id>/seed-<s>/` and renamed
to it only when complete (`records.atomic_folder`), so a crash or Ctrl-C never leaves a
folder that looks finished. An item
counts as done only when `seed-<s>/record.json` parses and holds metrics and `edited.png`
exists; anything else found there is removed and redone. A rerun of the same command skips
done items and computes the rest. A run folder refuses a different benchmark, method,
preset or metric setting, so numbers in one folder are always comparable.

Several GPUs or machines. Under `accelerate launch` (or `torchrun`) each process learns its
place from accelerate's `PartialState`, as the manifold sets do, and takes items
`rank, rank + world_size, ...` of the full, fixed item list, on GPU `cuda:LOCAL_RANK`. The
split is over all items, done or not, so every item belongs to exactly one process whatever
has already finished. The items are independent, so no process ever waits for another: a
crashed process only leaves its own items for the next run. Across machines OUT must be on
a shared filesystem. One process runs everything.

Best of seeds (`pick_best`). Rules, all automatic and recorded with every pick:
    clip_under_lpips  The default. First, keep the source ("keep_source") when no seed's CLIP
                      score exceeds the CLIP score of the unedited source for the same target
                      (reference.json's "source_kept"): no seed improves edit accuracy, which
                      is when the paper, picking by hand, keeps the source. Otherwise, among
                      the seeds that do improve on it, the highest CLIP score among those
                      whose source LPIPS is at most `lpips_bound` (default 0.4, our choice: it
                      excludes edits that repaint the whole image); when none of them is under
                      the bound, the lowest source LPIPS of them ("fallback_lowest_lpips").
                      The fallback thus ranges over improving seeds only: a seed that does not
                      beat the source is never picked over keeping it (before the keep-source
                      outcome existed it ranged over all seeds).
    clip              the highest CLIP score (edit accuracy only); never keeps the source.
    lpips             the lowest source LPIPS (preservation only); never keeps the source.
    target_lpips      the lowest LPIPS to the ground-truth target (PosEdit only). It looks at
                      the answer, so it is an oracle upper bound, not a fair pick.

Tasks the file does not name are picked by the automatic rule. `write_choices` writes such a
file (a notebook widget calls it); `f2f bench table DIR --choices FILE` applies it.

A kept source, by hand (null) or by rule ("keep_source"), is one pick with seed None and the
metrics of the unedited source, so a table's means count that task as the paper does (the
source itself as the result), and the table says how many tasks kept it ("Kept source").
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from tqdm.auto import tqdm

from ..captions import Caption
from ..editors import make_editor
from ..errors import F2FError
from ..imaging import load_image, save_image
from ..metrics import Scorer
from ..presets import Preset, get_preset
from ..records import atomic_folder, library_versions, write_json_atomic
from .distributed import process_state
from .posedit import editor_options as posedit_options
from .tasks import BenchTask

SEED_COUNTS = {"tedbench": 15, "posedit": 9}  # the paper's seeds per task (Sec. 5.1, 5.3)
PICK_RULES = ("clip_under_lpips", "clip", "lpips", "target_lpips")
KEEP_SOURCE = "keep_source"  # the rule's name for "no seed beats the source's CLIP score"
MANUAL_KEEP_SOURCE = "manual: keep the source"  # a choices file's null
DEFAULT_LPIPS_BOUND = 0.4
CONFIG_KEYS = ("benchmark", "method", "preset", "scorer", "task_captions")  # must match to resume


@dataclass(frozen=True)
class BenchItem:
    """One task edited with one seed."""

    task: BenchTask
    seed: int

    @property
    def key(self) -> str:
        return f"{self.task.id}/seed-{self.seed}"


@dataclass(frozen=True)
class ProcessSlot:
    """This process's place among the processes of a run (0 of 1 without a launcher)."""

    index: int = 0
    count: int = 1
    local_index: int = 0


@dataclass
class RunSummary:
    """What one call of `run_benchmark` did."""

    out: Path
    benchmark: str
    total_items: int  # items in the whole run (all processes)
    process_items: int  # items belonging to this process
    computed: int
    skipped: int  # already done before this call
    seconds: float
    slot: ProcessSlot
    all_done: bool  # every item of the run (all processes) is done


def plan_items(tasks: Sequence[BenchTask], seeds: Iterable[int]) -> list[BenchItem]:
    """All items, task by task, seeds in order: the fixed list every process splits."""
    seeds = list(seeds)
    if not seeds:
        raise F2FError("No seeds to run; give at least one (--seeds N runs seeds 0..N-1).")
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise F2FError("Two tasks share an id; task ids must be unique within a benchmark.")
    return [BenchItem(task, seed) for task in tasks for seed in seeds]


def split_items(items: Sequence[BenchItem], process_index: int, num_processes: int) -> list[BenchItem]:
    """The items of process `process_index` of `num_processes`: every num_processes-th, from its index."""
    if num_processes < 1 or not 0 <= process_index < num_processes:
        raise F2FError(f"Process {process_index} of {num_processes} is not a valid slot.")
    return list(items[process_index::num_processes])


def process_slot() -> ProcessSlot:
    """This process's slot under `accelerate launch` or `torchrun` (accelerate's `PartialState`); 0 of 1 without."""
    state = process_state()
    return ProcessSlot(state.process_index, state.num_processes, state.local_process_index)


def item_folder(out: Path, item: BenchItem) -> Path:
    return Path(out) / item.task.id / f"seed-{item.seed}"


def read_finished(folder: Path) -> dict | None:
    """The record of a finished item folder, or None when it is missing or not complete."""
    try:
        record = json.loads((folder / "record.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("metrics"), dict) or not (folder / "edited.png").is_file():
        return None
    return record


def _write_exclusive(path: Path, data: dict) -> dict:
    """Write `data` to `path` unless it exists; return whatever `path` holds afterwards.

    Two processes racing here (two seeds of one task) both end up with the first writer's
    content, so every seed of a task uses the same temporal caption.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write_json_atomic(tmp, data)
    try:
        os.link(tmp, path)  # atomic, and fails if another process got there first
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return json.loads(path.read_text(encoding="utf-8"))


def check_run_config(out: Path, config: dict) -> None:
    """Refuse to mix runs whose numbers are not comparable in one folder."""
    path = out / "run.json"
    if not path.is_file():
        return
    try:
        existing = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return  # an unreadable run.json is rewritten; the items carry their own records
    different = [k for k in CONFIG_KEYS if k in existing and existing[k] != config[k]]
    if different:
        details = "; ".join(f"{k}: {existing[k]!r} there, {config[k]!r} now" for k in different)
        raise F2FError(f"'{out}' holds a different run ({details}). Choose another --out to keep both.")


def _check_task_unchanged(out: Path, task: BenchTask) -> None:
    """Refuse to resume a task whose target caption changed: its results would be stale."""
    earlier = []
    try:
        earlier.append(json.loads((out / task.id / "reference.json").read_text(encoding="utf-8"))["task"]["target_text"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    for folder in (out / task.id).glob("seed-*"):
        earlier.append(((read_finished(folder) or {}).get("bench") or {}).get("target_text"))
    for text in earlier:
        if text is not None and text != task.target_text:
            raise F2FError(f"'{out / task.id}' holds results for the target \"{text}\", but task '{task.id}' now reads "
                           f"\"{task.target_text}\". The task list changed; choose another --out to keep both.")


def _reference(task: BenchTask, task_dir: Path, scorer, source) -> None:
    """reference.json: the metrics of keeping the source, and of the ground truth (PosEdit)."""
    path = task_dir / "reference.json"
    if path.is_file():
        return
    target = None if task.target_image is None else load_image(task.target_image)
    rows = scorer.score_batch([source] * (2 if target else 1), [source] + ([target] if target else []),
                              [task.target_text] * (2 if target else 1), None if target is None else [target, target])
    _write_exclusive(path, {"task": task.to_dict(), "source_kept": rows[0], "ground_truth": rows[1] if target else None,
                            "scorer": scorer.config()})


def _shared_caption(task: BenchTask, task_dir: Path, editor, source, task_captions: bool) -> Caption | None:
    """The temporal caption of a task, made once and shared by its seeds; None for editors without one."""
    captioner = getattr(editor, "captioner", None)
    if captioner is None:
        return None  # a single-step editor: it takes the target caption only
    path = task_dir / "caption.json"
    if not path.is_file():
        if task_captions and task.temporal_caption:
            caption = Caption(task.temporal_caption, "task", {"source": "the benchmark's task list"})
        else:
            caption = captioner(source, task.target_text)
        _write_exclusive(path, {"text": caption.text, "captioner": caption.captioner, "record": caption.record})
    data = json.loads(path.read_text(encoding="utf-8"))
    return Caption(data["text"], data["captioner"], data.get("record", {}))


def _run_item(item: BenchItem, out: Path, editor, scorer, config: dict, slot: ProcessSlot, light: bool) -> dict:
    task, folder = item.task, item_folder(out, item)
    task_dir = folder.parent
    task_dir.mkdir(parents=True, exist_ok=True)
    source = load_image(task.source)
    _reference(task, task_dir, scorer, source)
    caption = _shared_caption(task, task_dir, editor, source, config["task_captions"])

    start = time.perf_counter()
    result = editor.edit(source, task.target_text, seed=item.seed, **({"caption": caption} if caption else {}))
    target = None if task.target_image is None else load_image(task.target_image)
    metrics = scorer.score(source, result.image, task.target_text, target=target)

    # The item appears under its final name only when complete (records.atomic_folder).
    with atomic_folder(folder, replace=True) as partial:
        if hasattr(result, "metrics"):
            result.metrics = metrics
        if hasattr(result, "save") and not light:
            result.save(partial, overwrite=True)
        if not (partial / "edited.png").is_file():
            save_image(result.image, partial / "edited.png")
        try:
            record = json.loads((partial / "record.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            record = dict(getattr(result, "record", {}) or {})
        record["metrics"] = metrics
        record["bench"] = {
            **{k: config[k] for k in ("benchmark", "method", "preset")},
            "task_id": task.id, "seed": item.seed, "target_text": task.target_text, "source": str(task.source),
            "target_image": None if task.target_image is None else str(task.target_image),
            "temporal_caption": caption.text if caption else None,
            "scorer": config["scorer"], "process_index": slot.index, "num_processes": slot.count,
            "host": platform.node(), "seconds": time.perf_counter() - start,
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        write_json_atomic(partial / "record.json", record)
    return record


def run_benchmark(
    tasks: Sequence[BenchTask],
    out: str | Path,
    *,
    benchmark: str,
    method: str = "f2f",
    preset: str | Preset = "paper",
    seeds: Iterable[int] | None = None,
    editor=None,
    scorer=None,
    scorer_options: dict[str, Any] | None = None,
    editor_options: dict[str, Any] | None = None,
    task_captions: bool = True,
    slot: ProcessSlot | None = None,
    device: str | None = None,
    light: bool = False,
    progress: bool = True,
) -> RunSummary:
    """Edit every task with every seed, score each result, write each item atomically; resume.

    Args:
        tasks: from `tedbench.load` or `posedit.load`.
        out: the run folder (see the module docstring for its layout).
        benchmark: "tedbench" or "posedit" (names the run and its default seed count).
        method, preset, editor_options: what `make_editor(method, preset, **editor_options)` builds,
            only if there is work to do; or pass a ready `editor`.
        seeds: default range(15) for TEdBench, range(9) for PosEdit (the paper's).
        scorer: default `Scorer.from_preset(preset, **scorer_options)` (clip_model, clip_score, clip_score_scale, ...).
        task_captions: use a task's own temporal caption (PosEdit categories) instead of the captioner.
        slot: this process's share; default from accelerate/torchrun's environment variables.
        device: torch device; default cuda:LOCAL_RANK when several processes share a machine's GPUs.
        light: keep only edited.png and record.json per item (no video, strip or collage; but
            those are what a person looks at to pick seeds by hand).
    """
    out = Path(out)
    preset = get_preset(preset)
    seeds = list(range(SEED_COUNTS.get(benchmark, 1))) if seeds is None else list(seeds)
    slot = slot or process_slot()
    if device is None and slot.count > 1:
        import torch

        if torch.cuda.is_available():
            device = f"cuda:{slot.local_index % torch.cuda.device_count()}"
            torch.cuda.set_device(device)
    scorer = scorer or Scorer.from_preset(preset, **{"device": device, **(scorer_options or {})})
    config = {"benchmark": benchmark, "method": method, "preset": preset.name, "scorer": scorer.config(),
              "task_captions": task_captions}
    out.mkdir(parents=True, exist_ok=True)
    check_run_config(out, config)
    if benchmark == "posedit" and editor is None:  # the paper's fixed source description (bench.posedit)
        editor_options = {**posedit_options(method), **(editor_options or {})}
    # editor_options (frames, steps, selector, ...) are recorded, not enforced: each item's record has the exact values.
    write_json_atomic(out / "run.json", {**config, "seeds": seeds, "tasks": [t.id for t in tasks],
                                         "preset_fields": preset.to_dict(), "editor_options": editor_options or {},
                                         "versions": library_versions()})

    start = time.perf_counter()
    items = plan_items(tasks, seeds)
    mine = split_items(items, slot.index, slot.count)
    for task in tasks:
        _check_task_unchanged(out, task)
    todo = [item for item in mine if read_finished(item_folder(out, item)) is None]
    if todo and editor is None:
        options = {k: v for k, v in (editor_options or {}).items() if v is not None}
        if device is not None:
            options.setdefault("device", device)
        editor = make_editor(method, preset, **options)
    bar = tqdm(todo, desc=f"{benchmark} {method}" + (f" [{slot.index + 1}/{slot.count}]" if slot.count > 1 else ""),
               unit="item", disable=not progress, position=slot.index if slot.count > 1 else None, dynamic_ncols=True)
    if progress and len(todo) < len(mine):
        bar.write(f"{len(mine) - len(todo)} of {len(mine)} items already done in '{out}'; computing the other {len(todo)}.")
    for item in bar:
        bar.set_postfix_str(item.key)
        _run_item(item, out, editor, scorer, config, slot, light)
    bar.close()
    all_done = all(read_finished(item_folder(out, item)) is not None for item in items)
    return RunSummary(out=out, benchmark=benchmark, total_items=len(items), process_items=len(mine),
                      computed=len(todo), skipped=len(mine) - len(todo), seconds=time.perf_counter() - start,
                      slot=slot, all_done=all_done)


# -- best of seeds --------------------------------------------------------------------------


def collect_records(out: str | Path) -> dict[str, dict[int, dict]]:
    """{task_id: {seed: record}} of every finished item under a run folder."""
    found: dict[str, dict[int, dict]] = {}
    for record_path in sorted(Path(out).glob("*/seed-*/record.json")):
        record = read_finished(record_path.parent)
        if record is None:
            continue
        bench = record.get("bench", {})
        found.setdefault(bench.get("task_id", record_path.parent.parent.name), {})[int(bench.get("seed", record_path.parent.name[5:]))] = record
    return found


def load_choices(path: str | Path) -> dict[str, int | None]:
    """A manual-picks file: {task_id: seed or null} (see the module docstring)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        raise F2FError(f"No choices file at '{path}'.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise F2FError(f"'{path}' is not valid JSON ({exc}).") from None
    if not isinstance(data, dict) or not all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in data.values()):
        raise F2FError(f"'{path}' must be a JSON object mapping task ids to a seed (integer) or null, e.g. {{\"012_cat\": 3}}.")
    return data


def write_choices(path: str | Path, choices: Mapping[str, int | None]) -> Path:
    """Write a manual-picks file atomically (for notebooks and widgets)."""
    for task_id, seed in choices.items():
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise F2FError(f"The choice for '{task_id}' must be a seed (integer) or None, not {seed!r}.")
    return write_json_atomic(path, dict(choices))


def _source_kept(out: Path, task_id: str) -> dict:
    """The metrics of keeping a task's source unedited (its reference.json, written before any seed)."""
    path = out / task_id / "reference.json"
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))["source_kept"]
    except (OSError, ValueError, KeyError, TypeError):
        metrics = None
    if not isinstance(metrics, dict) or "clip_score" not in metrics:
        raise F2FError(f"'{path}' is missing or unreadable; it holds the metrics of keeping the source. "
                       "Delete it and rerun the same `f2f bench` command to rewrite it.")
    return metrics


def _pick(records: dict[int, dict], rule: str, lpips_bound: float, source_kept: dict | None = None) -> tuple[int | None, str]:
    """(seed, how) of one task; seed None keeps the source (rule clip_under_lpips only, which needs `source_kept`)."""
    def metric(seed, name):
        return records[seed]["metrics"][name]

    seeds = sorted(records)
    if rule == "clip":
        return max(seeds, key=lambda s: metric(s, "clip_score")), "clip"
    if rule == "lpips":
        return min(seeds, key=lambda s: metric(s, "source_lpips")), "lpips"
    if rule == "target_lpips":
        if "target_lpips" not in records[seeds[0]]["metrics"]:
            raise F2FError("Rule 'target_lpips' needs a ground-truth target (PosEdit); choose another --rule.")
        return min(seeds, key=lambda s: metric(s, "target_lpips")), "target_lpips"
    if source_kept is None:
        raise F2FError("Rule 'clip_under_lpips' compares the seeds with the unedited source; give its metrics.")
    improving = [s for s in seeds if metric(s, "clip_score") > source_kept["clip_score"]]
    if not improving:
        return None, KEEP_SOURCE
    faithful = [s for s in improving if metric(s, "source_lpips") <= lpips_bound]
    if faithful:
        return max(faithful, key=lambda s: metric(s, "clip_score")), f"clip_under_lpips({lpips_bound:g})"
    return min(improving, key=lambda s: metric(s, "source_lpips")), "fallback_lowest_lpips"


def pick_best(
    out: str | Path,
    rule: str = "clip_under_lpips",
    *,
    lpips_bound: float = DEFAULT_LPIPS_BOUND,
    choices: Mapping[str, int | None] | str | Path | None = None,
    write: bool = True,
) -> dict:
    """Pick one result per task (see the module docstring); write `picks.json` in the run folder.

    Returns {"rule", "lpips_bound", "manual_choices", "picks": {task_id: {"seed", "rule", "metrics"}},
    "seeds_per_task", "kept_source": [task ids]}. A pick with seed None keeps the unedited source
    (a manual null, rule "manual: keep the source", or the default rule's "keep_source"); its
    metrics are the source's own (reference.json), so means over picks count it as the paper does.
    """
    out = Path(out)
    if rule not in PICK_RULES:
        raise F2FError(f"Unknown rule '{rule}'. Choose one of: {', '.join(PICK_RULES)}.")
    if isinstance(choices, (str, Path)):
        choices = load_choices(choices)
    records = collect_records(out)
    if not records:
        raise F2FError(f"No finished items in '{out}'. Run `f2f bench tedbench|posedit --out {out}` first.")
    unknown = sorted(set(choices or {}) - set(records))
    if unknown:
        raise F2FError(f"The choices name task(s) with no results in '{out}': {', '.join(unknown[:5])}.")
    picks = {}
    for task_id, by_seed in sorted(records.items()):
        if choices and task_id in choices:
            seed, how = choices[task_id], "manual"
            if seed is not None and seed not in by_seed:
                raise F2FError(f"The choice for '{task_id}' is seed {seed}, which has no finished result in '{out}'.")
        else:
            seed, how = _pick(by_seed, rule, lpips_bound, _source_kept(out, task_id) if rule == "clip_under_lpips" else None)
        if seed is None:  # kept source, by hand or by rule: reported the same way
            picks[task_id] = {"seed": None, "rule": MANUAL_KEEP_SOURCE if how == "manual" else how,
                              "metrics": _source_kept(out, task_id)}
        else:
            picks[task_id] = {"seed": seed, "rule": how, "metrics": by_seed[seed]["metrics"]}
    result = {"rule": rule, "lpips_bound": lpips_bound, "manual_choices": len(choices or {}),
              "seeds_per_task": {t: sorted(s) for t, s in sorted(records.items())}, "picks": picks,
              "kept_source": [t for t, p in picks.items() if p["seed"] is None]}
    if write:
        write_json_atomic(out / "picks.json", result)
    return result
