"""Every method on one photo: one grid, one metrics table, one page (`f2f compare`).

    from f2f_lab.compare import compare
    result = compare("cat.jpg", "A photo of a cat yawning.", methods=["f2f", "chronoedit", "kontext"],
                     preset="paper", seed=0, out="runs/cmp")
    result            # in a notebook: the grid and the table
    result.rows       # one dict of metrics per method

The folder it writes:
    OUT/
      compare.json     what was compared: the image's hash, the caption, seed, preset, scorer, methods
      <method>/        that method's run folder (source.png, edited.png, record.json with "metrics";
                       Frame2Frame's also has video.mp4, strip.png, collage.png, report.html)
      grid.png         the source and each method's edit, labelled
      metrics.csv      the table: source LPIPS, source CLIP-I, CLIP score, and what drove each edit
      metrics.json
      report.html      all of it on one page

Methods load one at a time, and each is deleted (and the CUDA cache emptied) before the next
loads, so the largest model alone sets the memory needed; the metrics' CLIP and LPIPS (well
under 1 GB) stay loaded throughout. Every result is at the same output geometry (longer side
512 px) and scored by the benchmarks' `metrics.Scorer`, against the same source and caption.

Resuming: a method whose folder is complete (record.json with metrics, and edited.png) is
read back, not recomputed, so a rerun after a crash, or with one more method, only computes
what is missing. A folder that holds a comparison of another image, caption, seed, preset or
scorer is refused unless `overwrite=True`, which recomputes everything.

This module computes and resumes, and writes the outputs (the grid, metrics.csv and
metrics.json beside the rest); the page's HTML is `pages.render_compare_page`, and the
command line is `f2f_lab.cli.compare`.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from PIL import Image

from .bench.runner import read_finished
from .bench.tables import METHOD_NAMES
from .captions import check_caption
from .display import grid
from .editors import METHODS, PEER_METHODS, make_editor
from .editors.base import output_size
from .errors import F2FError
from .imaging import ImageInput, image_hash, load_image, save_image
from .instructions import INSTRUCTION_MODES
from .loading import release_memory
from .metrics import Scorer, clip_score_header
from .pages import compare_html, render_compare_page
from .presets import get_preset
from .records import check_writable_dir, recover_folder, write_json_atomic, write_text_atomic
from .results import save_or_recover
from .vlm import make_vlm_client

DEFAULT_COMPARE_METHODS = ("f2f", "chronoedit", "kontext", "qwen-edit", "ledits")
COMPARE_FILES = ("compare.json", "grid.png", "metrics.csv", "metrics.json", "report.html")
TABLE_METRICS = ("source_lpips", "source_clip_i", "clip_score", "clip_score_cosine")
# Methods whose rows have no published numbers to compare with (the paper predates them).
NOT_IN_PAPER = PEER_METHODS


@dataclass
class MethodRun:
    """One method's edit in a comparison: the image, its record (with "metrics"), where it lies."""

    method: str
    image: Image.Image
    record: dict[str, Any]
    folder: Path
    reused: bool = False

    @property
    def metrics(self) -> dict[str, float]:
        return self.record.get("metrics", {})

    @property
    def prompt(self) -> str:
        """The text that drove the edit: the instruction, the temporal caption, or the target caption."""
        prompts = self.record.get("prompts") or {}
        caption = self.record.get("caption") or {}
        return str(prompts.get("instruction") or caption.get("text") or prompts.get("target")
                   or (self.record.get("inputs") or {}).get("target", ""))

    @property
    def prompt_kind(self) -> str:
        prompts = self.record.get("prompts") or {}
        if prompts.get("instruction"):
            return f"instruction ({prompts.get('instruction_method')})"
        if self.record.get("caption"):
            return f"temporal caption ({self.record['caption'].get('captioner')})"
        return "target caption"


@dataclass
class CompareResult:
    """A comparison: the source, each method's run, the grid, and the files written."""

    out: Path
    source: Image.Image
    caption: str
    seed: int
    preset: str
    tiny: bool
    runs: dict[str, MethodRun] = field(default_factory=dict)
    grid: Image.Image | None = None
    scorer: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The metrics table: one row per method, in the order compared."""
        rows = []
        for method, run in self.runs.items():
            rows.append({"method": method, "name": METHOD_NAMES.get(method, method),
                         **{key: run.metrics.get(key) for key in TABLE_METRICS},
                         "prompt_kind": run.prompt_kind, "prompt": run.prompt,
                         "seconds": _seconds(run.record), "reused": run.reused,
                         "in_paper": method not in NOT_IN_PAPER})
        return rows

    @property
    def paths(self) -> dict[str, Path]:
        return {name: self.out / name for name in COMPARE_FILES}

    def to_markdown(self) -> str:
        header = ["Method", "Source LPIPS ↓", "Source CLIP-I ↑", clip_score_header(self.scorer or None), "Driven by"]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for row in self.rows:
            values = [row["name"], *(_fmt(row[k]) for k in ("source_lpips", "source_clip_i", "clip_score")),
                      f"{row['prompt_kind']}: {row['prompt']}"]
            lines.append("| " + " | ".join(v.replace("|", "/") for v in values) + " |")
        return "\n".join(lines) + "\n"

    def _repr_html_(self) -> str:
        """In a notebook: the tiny notice, the grid and the table."""
        return compare_html(self)


def compare(
    image: ImageInput,
    caption: str,
    methods: Sequence[str] = DEFAULT_COMPARE_METHODS,
    *,
    preset="paper",
    seed: int = 0,
    out: str | Path = "runs/compare",
    instruction: str = "template",
    method_options: dict[str, dict] | None = None,
    vlm=None,
    vlm_options: dict | None = None,
    scorer=None,
    device: str | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> CompareResult:
    """Edit `image` toward `caption` with each method, one at a time; write the grid, the table and the page.

    Args:
        methods: names from `editors.METHODS`, in the order shown (default: Frame2Frame, the
            three peer instruction editors and LEDITS++).
        preset: a preset name, spec or `Preset` ("tiny": every method's tiny stand-in, offline).
        seed: every method gets this seed.
        instruction: how the instruction editors get their instruction from the caption,
            "template" (default) or "vlm" (`f2f_lab.instructions`); recorded per method.
        method_options: keyword options per method for `make_editor`, e.g.
            {"chronoedit": {"temporal_reasoning": True}, "f2f": {"selector": "clip"}}.
        vlm, vlm_options: one VLM client shared by Frame2Frame's VLM stages and the "vlm"
            instructions (None builds the preset's when one is needed, with `vlm_options`).
        scorer: a `metrics.Scorer` (default: the preset's, as the benchmarks use).
        overwrite: recompute everything in `out`, even complete method folders.
    """
    from tqdm.auto import tqdm

    # Everything a user can get wrong is checked before any model loads.
    preset = get_preset(preset)
    source = load_image(image)
    caption = check_caption(caption)
    methods = list(dict.fromkeys(methods))
    unknown = [m for m in methods if m not in METHODS]
    if not methods or unknown:
        raise F2FError(f"Unknown method {', '.join(unknown) or '(none given)'}. Choose from: {', '.join(METHODS)}.")
    if instruction not in INSTRUCTION_MODES:
        raise F2FError(f"Unknown instruction mode '{instruction}'. Choose one of: {', '.join(INSTRUCTION_MODES)}.")
    if not 0 <= int(seed) < 2**63:
        raise F2FError(f"The seed must be an integer from 0 to 2**63 - 1; got {seed}.")
    method_options = dict(method_options or {})
    stray = sorted(set(method_options) - set(methods))
    if stray:
        raise F2FError(f"method_options names {', '.join(stray)}, which is not among the methods compared.")
    out = check_writable_dir(out)
    scorer = scorer or Scorer.from_preset(preset, device=device)
    config = {"image_sha256": image_hash(source), "image_size": list(source.size), "caption": caption, "seed": int(seed),
              "preset": preset.name, "scorer": scorer.config(), "instruction": instruction}
    _check_folder(out, config, overwrite)
    if vlm is None and _needs_vlm(methods, preset, instruction, method_options):
        vlm = make_vlm_client(**{"backend": preset.vlm_backend, "model": preset.vlm_model, "tiny": preset.is_tiny,
                                 "device": device, **(vlm_options or {})})
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / "compare.json", {**config, "methods": methods, "method_options": method_options})

    result = CompareResult(out=out, source=source, caption=caption, seed=int(seed), preset=preset.name,
                           tiny=preset.is_tiny, scorer=scorer.config())
    bar = tqdm(methods, desc="compare", unit="method", disable=not progress)
    for method in bar:
        bar.set_postfix_str(method)
        folder = out / method
        recover_folder(folder)  # a killed run's temporaries removed, a lone earlier folder put back
        finished = None if overwrite else _finished(folder, config)
        if finished is not None:
            try:
                result.runs[method] = MethodRun(method, load_image(folder / "edited.png"), finished, folder, reused=True)
                continue
            except (F2FError, OSError, ValueError):  # a damaged finished folder is recomputed, never a dead end
                tqdm.write(f"{method}: {folder / 'edited.png'} is unreadable; computing {method} again", file=sys.stderr)
        options = _editor_options(method, instruction, vlm, device, progress, method_options.get(method, {}))
        edited = _edit_with_fresh_editor(method, preset, options, source, caption, int(seed))
        edited.metrics = scorer.score(source, edited.image, caption)
        save_or_recover(edited, folder, overwrite=True)
        result.runs[method] = MethodRun(method, edited.image, json.loads((folder / "record.json").read_text("utf-8")), folder)
    bar.close()
    _write_outputs(result)
    return result


@dataclass
class CompareSummary:
    """Mean metrics per method over several comparisons (e.g. a few benchmark tasks); a notebook shows the table."""

    rows: list[dict[str, Any]]
    clip_header: str

    def to_markdown(self) -> str:
        header = ["Method", "Tasks", "Source LPIPS ↓", "Source CLIP-I ↑", self.clip_header]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += [f"| {r['name']}{'' if r['in_paper'] else ' *'} | {r['tasks']} | {_fmt(r['source_lpips'])} | "
                  f"{_fmt(r['source_clip_i'])} | {_fmt(r['clip_score'])} |" for r in self.rows]
        if any(not r["in_paper"] for r in self.rows):
            lines.append("\n\\* not in the paper: no published numbers to compare with.")
        return "\n".join(lines) + "\n"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def summarize(results: Sequence[CompareResult]) -> CompareSummary:
    """The mean of each method's metrics over `results`, methods in the order first compared.

    Means over a few tasks, one seed each: a look, not a benchmark (`f2f bench` runs every task
    with every seed and picks the best seed per task, as the paper does).
    """
    if not results:
        raise F2FError("Nothing to summarize: no comparisons.")
    if len({json.dumps(r.scorer, sort_keys=True) for r in results}) > 1:
        raise F2FError("These comparisons were scored differently; their means cannot be combined.")
    by_method: dict[str, list[dict]] = {}
    for result in results:
        for row in result.rows:
            by_method.setdefault(row["method"], []).append(row)
    rows = []
    for method, method_rows in by_method.items():
        means = {key: sum(r[key] for r in method_rows) / len(method_rows) for key in ("source_lpips", "source_clip_i", "clip_score")}
        rows.append({"method": method, "name": method_rows[0]["name"], "tasks": len(method_rows),
                     "in_paper": method_rows[0]["in_paper"], **means})
    return CompareSummary(rows=rows, clip_header=clip_score_header(results[0].scorer or None))


def _edit_with_fresh_editor(method: str, preset, options: dict, source: Image.Image, caption: str, seed: int):
    """Load `method`, edit once, and release the editor before returning, so the next method has the memory."""
    editor = make_editor(method, preset, **options)
    try:
        return editor.edit(source, caption, seed=seed)
    finally:
        del editor
        release_memory()


def _needs_vlm(methods, preset, instruction: str, method_options: dict) -> bool:
    peers_ask = any(m in PEER_METHODS and method_options.get(m, {}).get("instruction", instruction) == "vlm" for m in methods)
    f2f = method_options.get("f2f", {})
    f2f_asks = "f2f" in methods and "vlm" in (f2f.get("captioner") or preset.captioner, f2f.get("selector") or preset.selector)
    return peers_ask or f2f_asks


def _editor_options(method: str, instruction: str, vlm, device, progress: bool, given: dict) -> dict:
    """`make_editor` options of one method: the shared VLM and instruction mode where they apply, then `given`."""
    options: dict[str, Any] = {"progress": progress, "device": device}
    if method in PEER_METHODS:
        options.update(instruction=instruction, vlm=vlm)
    elif method == "f2f":
        options["vlm"] = vlm
    return {**{k: v for k, v in options.items() if v is not None}, **given}


def _finished(folder: Path, config: dict) -> dict | None:
    """The record of a complete method folder made from this image, caption and seed, else None (recompute)."""
    record = read_finished(folder)  # the benchmarks' test: record.json with metrics, and edited.png
    if record is None:
        return None
    inputs = record.get("inputs") or {}
    seed = (record.get("parameters") or {}).get("seed", (record.get("video") or {}).get("seed"))
    same = inputs.get("image_sha256") == config["image_sha256"] and inputs.get("target") == config["caption"]
    return record if same and seed == config["seed"] else None


def _check_folder(out: Path, config: dict, overwrite: bool) -> None:
    """Refuse a folder that holds another comparison (other image, caption, seed, preset or scorer)."""
    if out.exists() and not out.is_dir():
        raise F2FError(f"'{out}' exists and is not a folder; choose another --out.")
    path = out / "compare.json"
    if overwrite or not path.is_file():
        return
    try:
        earlier = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return  # unreadable: rewritten; the method folders carry their own records
    different = [k for k in config if k in earlier and earlier[k] != config[k]]
    if different:
        raise F2FError(f"'{out}' holds a comparison with a different {', '.join(different)}. "
                       "Choose another --out, or pass --overwrite to recompute everything there.")


def _write_outputs(result: CompareResult) -> None:
    shown = result.source.resize(output_size(result.source.size, 512), Image.Resampling.LANCZOS)
    result.grid = grid({result.caption: [shown, *(run.image for run in result.runs.values())]},
                       ["source", *(METHOD_NAMES.get(m, m) for m in result.runs)], height=256)
    save_image(result.grid, result.out / "grid.png")
    rows = result.rows
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(result.out / "metrics.csv", buffer.getvalue())
    _write_json(result.out / "metrics.json", {"caption": result.caption, "seed": result.seed, "preset": result.preset,
                                              "scorer": result.scorer, "rows": rows})
    write_text_atomic(result.out / "report.html", render_compare_page(result))


def _seconds(record: dict) -> float | None:
    timings = record.get("timings") or {}
    values = [v for v in timings.values() if isinstance(v, (int, float))]
    return round(sum(values), 3) if values else None


def _fmt(value, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _write_json(path: Path, data: dict) -> None:
    write_json_atomic(path, data)

