"""Frame2Frame-toy against SDEdit-toy, measured by the exact factor fit over many seeds.

For each seed s, a source is drawn from the "AI" set (pose 0..0.1, "AI" on the shirt,
sampled colours and position; its own random stream, `EVAL_STREAM`) and rendered at 32 px;
the edit's target is the paper's ("A happy person making a heart shape with their hands").

- Frame2Frame-toy: `Frame2Frame(ToyVideoGenerator, TemplateCaptioner, ToyFactorSelector,
  TOY_PRESET).edit(source, target, seed=s)`: the project's own pipeline, learned video model.
- SDEdit-toy at each strength: `ToySDEdit(source, target, strength, seed=s)`.
- The exact video path (the renderer's, `toy.video_path`), with the same selector: the ceiling.

Each edit is fitted (`ExactManifold`, 32 px) and scored:
    pose      the fitted pose is in the heart's range (>= 0.9): the edit was made
    AI kept   the fit says the shirt still has the letters
    colours   the four nuisance colours within `COLOUR_TOLERANCE` (max abs, 0..1) of the
              source's, and the position unchanged
    success   all three
    path distance   mean distance to the manifold (RMS, 0..1) over the made frames 1..8 of the
                    video (for SDEdit: of its one output; it has no path)
    edit distance   the chosen frame's (the output's) distance

Fractions come with their binomial standard error. `evaluate_edits` returns the table as data;
`write_table` writes table.json and table.md; the shipped one is `data/toy/table.json`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterable

import numpy as np
from PIL import Image

from ..captions import TemplateCaptioner
from ..paper import PAPER_TARGET
from ..pipeline import Frame2Frame
from ..errors import F2FError
from ..records import write_json_atomic
from ..resources import data_path
from .fit import FactorFit
from .paths import video_path
from .registration import TOY_PRESET  # noqa: F401  (the preset `f2f edit --preset toy` runs)
from .sdedit import STRENGTHS, ToySDEdit
from .selection import ToyFactorSelector
from .sets import SET_FACTORS, sample_set
from .video_model import SIZE as VIDEO_SIZE, ToyVideoGenerator
from .world import QUANTISATION_RMS, ToyFactors, render

EVAL_STREAM = 18_2  # issue 18, step 2: the sources' random stream, apart from the sets' and the training's
COLOUR_TOLERANCE = 0.1
SIZE = VIDEO_SIZE  # the learned models' image side
TABLE = data_path("toy", "table.json")



def eval_source(seed: int, key: str = "ai") -> ToyFactors:
    """The factors of toy source `seed`: an image of set `key` drawn from the evaluation's stream.

    The table's sources are `eval_source(0..49)` (set "ai"); another set at the same seed is the
    same person (colours, position) in that set's pose and shirt.
    """
    return sample_set(key, np.random.default_rng((EVAL_STREAM, seed)))


def source_image(seed: int = 0, key: str = "ai") -> Image.Image:
    """Toy source `seed` of set `key` rendered at the learned models' 32 px (`f2f toy source` writes it)."""
    return render(eval_source(seed, key), SIZE)


def score(fit: FactorFit, source: ToyFactors) -> dict:
    """The criteria of one edit (see the module docstring)."""
    f = fit.factors
    colours = max(float(np.max(np.abs(np.subtract(getattr(f, k), getattr(source, k)))))
                  for k in ("background", "skin", "hair", "shirt"))
    pose = bool(f.arms >= SET_FACTORS["heart"]["arms"][0])
    kept = colours <= COLOUR_TOLERANCE and f.dx == source.dx
    return {"pose": pose, "ai": bool(f.ai == source.ai), "colours": bool(kept), "success": bool(pose and f.ai == source.ai and kept),
            "arms": round(f.arms, 4), "colour_error": round(colours, 4), "edit_distance": fit.distance}


def load_models(models: str = "toy"):
    """(Frame2Frame editor, ToySDEdit) from "toy" (shipped weights) or a `f2f toy train --out` folder."""
    video = ToyVideoGenerator.from_pretrained("toy" if models == "toy" else Path(models) / "video")
    image = ToySDEdit.from_pretrained("toy" if models == "toy" else Path(models) / "image")
    return Frame2Frame(video, TemplateCaptioner(), ToyFactorSelector(), TOY_PRESET), image


def evaluate_edits(models="toy", seeds: Iterable[int] = range(50), strengths=None, *, exact: bool = True) -> dict:
    """The table: one row per method, each criterion's fraction over `seeds` (see the module docstring)."""
    seeds = list(seeds)
    if not seeds:  # an empty table is no result
        raise F2FError("No seeds to evaluate: give at least one (f2f toy evaluate --seeds 1 or more; the table uses 50).")
    strengths = STRENGTHS if strengths is None else tuple(strengths)
    editor, sdedit = load_models(models) if isinstance(models, (str, Path)) else models
    manifold = editor.selector.manifold(SIZE)
    seeds = list(seeds)
    per_seed: dict[str, list[dict]] = {}
    start = time.perf_counter()
    for seed in seeds:
        factors = eval_source(seed)
        source = render(factors, SIZE)
        result = editor.edit(source, PAPER_TARGET, seed=seed)
        row = score(manifold.project([result.frames[result.index]])[0], factors) if result.index else {
            **score(manifold.project([source])[0], factors), "pose": False, "success": False}
        row["path_distance"] = float(np.mean(result.record["selection"]["distance"]))
        row["index"] = result.index
        per_seed.setdefault("Frame2Frame-toy", []).append(row)
        if exact:
            path = video_path(factors, num_frames=9, size=SIZE)
            fits = manifold.project(path.frames[1:])
            chosen = editor.selector(source, path.frames, PAPER_TARGET).index
            row = score(fits[chosen - 1], factors) if chosen else {**score(fits[0], factors), "pose": False, "success": False}
            row["path_distance"] = float(np.mean([f.distance for f in fits]))
            per_seed.setdefault("exact video path (renderer)", []).append(row)
        for strength in strengths:
            out = sdedit(source, PAPER_TARGET, strength=strength, seed=seed)
            row = score(manifold.project([out])[0], factors)
            row["path_distance"] = row["edit_distance"]
            per_seed.setdefault(f"SDEdit-toy, strength {strength}", []).append(row)
    rows = [summarise(name, values) for name, values in per_seed.items()]
    return {"seeds": seeds, "target": PAPER_TARGET, "size": SIZE, "colour_tolerance": COLOUR_TOLERANCE,
            "rounding_floor": QUANTISATION_RMS, "seconds": round(time.perf_counter() - start, 1), "rows": rows,
            "per_seed": per_seed}


def summarise(name: str, values: list[dict]) -> dict:
    n = len(values)
    row = {"method": name, "n": n}
    for key in ("pose", "ai", "colours", "success"):
        p = float(np.mean([v[key] for v in values]))
        row[key] = p
        row[key + "_se"] = float(np.sqrt(p * (1 - p) / n))
    row["path_distance"] = float(np.mean([v["path_distance"] for v in values]))
    row["edit_distance"] = float(np.mean([v["edit_distance"] for v in values]))
    return row


def table_markdown(table: dict) -> str:
    """The table as markdown (fractions as percentages, distances in 0..1 RMS)."""
    lines = [
        f"Edits of {len(table['seeds'])} toy sources (AI shirt, arms down) toward \"{table['target']}\", "
        f"{table['size']} px, scored by the exact factor fit. Distances: RMS to the nearest rendering, 0..1 "
        f"(8-bit rounding alone: {table['rounding_floor']:.4f}).",
        "",
        "| method | pose reached | AI kept | colours kept | success (all three) | mean distance along the path | distance of the edit |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in table["rows"]:
        pct = lambda k: f"{100 * r[k]:.0f}% ± {100 * r[k + '_se']:.0f}"  # noqa: E731
        lines.append(f"| {r['method']} | {pct('pose')} | {pct('ai')} | {pct('colours')} | **{pct('success')}** | "
                     f"{r['path_distance']:.4f} | {r['edit_distance']:.4f} |")
    return "\n".join(lines)


def write_table(table: dict, out: str | Path) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "table.json", table)
    (out / "table.md").write_text(table_markdown(table) + "\n")
    return out / "table.json"


def load_table(path: str | Path = TABLE) -> dict:
    """The committed table (`data/toy/table.json`)."""
    return json.loads(Path(path).read_text())
