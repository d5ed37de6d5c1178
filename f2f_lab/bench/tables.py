"""Tables 1 and 2: our measured rows beside the paper's published ones.

The paper's rows are quoted from the paper (arXiv 2411.16819, Table 1: TEdBench, Table 2:
PosEdit) and marked so in the "Origin" column; ours are the means over tasks of the picked
result per task (`runner.pick_best`), a kept source counting with the source's own metrics as
the paper counts it; the "Kept source" column says on how many tasks. The CLIP-score column
is labelled with its formula, "Target CLIP (2.5·max(cos,0)) ↑" by default (the CLIPScore
convention, which fits the paper's range; a raw-cosine run reads "Target CLIP (cos) ↑"), and
one table refuses runs scored under different conventions. Our PosEdit is a rebuild (see
`posedit.py`) and the paper does not say which CLIP or scaling it used (see
`f2f_lab.metrics`), so compare with care.

ChronoEdit, FLUX.1 Kontext [dev] and Qwen-Image-Edit-2509 (`--method chronoedit|kontext|qwen-edit`)
are newer than the paper: their measured rows come after the paper's rows, marked "not in the
paper", and a note says that they have no published numbers to compare with.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..editors import PEER_METHODS, TABLE_NAMES
from ..errors import F2FError
from ..metrics import clip_score_formula, clip_score_header
from ..records import write_text_atomic
from .runner import DEFAULT_LPIPS_BOUND, KEEP_SOURCE, collect_records, pick_best

# Quoted from the paper (Table 1, TEdBench; 100 tasks, best of 15 seeds, picked by hand).
PAPER_TABLE_1 = [
    {"Model": "SDEdit", "source_lpips": 0.30, "source_clip_i": 0.85, "clip_score": 0.60},
    {"Model": "Pix2Pix-ZERO", "source_lpips": 0.29, "source_clip_i": 0.84, "clip_score": 0.62},
    {"Model": "Imagic", "source_lpips": 0.52, "source_clip_i": 0.86, "clip_score": 0.63},
    {"Model": "LEDITS++", "source_lpips": 0.23, "source_clip_i": 0.87, "clip_score": 0.63},
    {"Model": "FlowEdit", "source_lpips": 0.22, "source_clip_i": 0.89, "clip_score": 0.61},
    {"Model": "F2F", "source_lpips": 0.22, "source_clip_i": 0.89, "clip_score": 0.63},
]
# Quoted from the paper (Table 2, PosEdit; 58 tasks, best of 9 seeds, picked by hand).
PAPER_TABLE_2 = [
    {"Model": "GT (Reference)", "source_lpips": 0.08, "source_clip_i": 0.91, "target_lpips": 0, "target_clip_i": 1, "clip_score": 0.61},
    {"Model": "SDEdit", "source_lpips": 0.39, "source_clip_i": 0.61, "target_lpips": 0.39, "target_clip_i": 0.64, "clip_score": 0.57},
    {"Model": "Pix2Pix-ZERO", "source_lpips": 0.39, "source_clip_i": 0.57, "target_lpips": 0.40, "target_clip_i": 0.60, "clip_score": 0.56},
    {"Model": "LEDITS++", "source_lpips": 0.26, "source_clip_i": 0.65, "target_lpips": 0.28, "target_clip_i": 0.69, "clip_score": 0.64},
    {"Model": "F2F", "source_lpips": 0.14, "source_clip_i": 0.82, "target_lpips": 0.15, "target_clip_i": 0.84, "clip_score": 0.64},
]
PAPER = {
    "tedbench": {"rows": PAPER_TABLE_1, "table": "Table 1", "tasks": 100, "seeds": 15},
    "posedit": {"rows": PAPER_TABLE_2, "table": "Table 2", "tasks": 58, "seeds": 9},
}
CLIP_SCORE_HEADER = clip_score_header()  # "Target CLIP (2.5·max(cos,0)) ↑", the default scorer's
METRIC_COLUMNS = {
    "tedbench": [("source_lpips", "Source LPIPS ↓"), ("source_clip_i", "Source CLIP-I ↑"), ("clip_score", CLIP_SCORE_HEADER)],
    "posedit": [("source_lpips", "Source LPIPS ↓"), ("source_clip_i", "Source CLIP-I ↑"), ("target_lpips", "Target LPIPS ↓"),
                ("target_clip_i", "Target CLIP-I ↑"), ("clip_score", CLIP_SCORE_HEADER)],
}
INFO_COLUMNS = ["Tasks", "Seeds", "Kept source", "Pick rule", "Origin"]
# editors.make_editor method names -> the paper's row names
METHOD_NAMES = {**TABLE_NAMES, "pix2pix_zero": "Pix2Pix-ZERO", "ledits_pp": "LEDITS++", "ledits++": "LEDITS++",
                "imagic": "Imagic"}
# Methods newer than the paper: no quoted row exists for them (`editors.PEER_METHODS`).
PEER_MODELS = {TABLE_NAMES[method] for method in PEER_METHODS}
GT_ROW = "GT (Reference)"
QUOTED_DIGITS = "_digits"  # a row key outside the columns: quoted rows print with the paper's 2 decimals


@dataclass
class BenchTable:
    """A table with the paper's columns; `rows` map column headers to values (floats or text)."""

    benchmark: str
    columns: list[str]
    rows: list[dict]
    notes: list[str] = field(default_factory=list)

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({c: _format(row.get(c), row.get(QUOTED_DIGITS, 4)) for c in self.columns})
        return buffer.getvalue()

    def to_markdown(self) -> str:
        lines = ["| " + " | ".join(self.columns) + " |", "|" + "|".join("---" for _ in self.columns) + "|"]
        lines += ["| " + " | ".join(_format(row.get(c), row.get(QUOTED_DIGITS, 3)) for c in self.columns) + " |" for row in self.rows]
        return "\n".join(lines) + "\n" + "".join(f"\n- {note}" for note in self.notes) + ("\n" if self.notes else "")

    def _repr_markdown_(self) -> str:
        """A notebook shows the table itself when it is a cell's last expression."""
        return self.to_markdown()


def _format(value, digits: int) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _mean(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r and r.get(key) is not None]
    return sum(values) / len(values) if values else None


def measured_rows(run_dir: str | Path, *, rule: str = "clip_under_lpips", lpips_bound: float = DEFAULT_LPIPS_BOUND,
                  choices=None) -> tuple[str, list[dict], dict]:
    """(benchmark, rows, run config) for one run folder: the method's row and, for PosEdit, our GT row."""
    run_dir = Path(run_dir)
    try:
        run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise F2FError(f"'{run_dir}' is not a benchmark run folder (no readable run.json). Pass the --out of `f2f bench`.") from None
    benchmark = run.get("benchmark")
    if benchmark not in METRIC_COLUMNS:
        raise F2FError(f"'{run_dir / 'run.json'}' names an unknown benchmark {benchmark!r}.")
    picks = pick_best(run_dir, rule, lpips_bound=lpips_bound, choices=choices)
    metrics = [p["metrics"] for p in picks["picks"].values()]
    seeds = sorted({s for per_task in picks["seeds_per_task"].values() for s in per_task})
    tiny = run.get("preset_fields", {}).get("video_model", run.get("preset")) == "tiny"  # also "tiny:video_backend=ltx"
    origin = "measured here, TINY preset: noise, not a result" if tiny else f"measured here (preset {run.get('preset')})"
    model = METHOD_NAMES.get(run.get("method"), run.get("method"))
    if model in PEER_MODELS:
        origin += "; not in the paper: no published numbers to compare with"
        # How each item's instruction was made, as its record says ("template", "vlm", "given").
        run["_instructions"] = sorted({str((r.get("prompts") or {}).get("instruction_method")) for by_seed in
                                       collect_records(run_dir).values() for r in by_seed.values()})
    rule_text = rule if not picks["manual_choices"] else f"manual + {rule}"
    kept = [picks["picks"][t]["rule"] for t in picks["kept_source"]]
    base = {"Tasks": len(metrics), "Seeds": len(seeds), "Kept source": len(kept), "Pick rule": rule_text, "Origin": origin}
    row = {"Model": model,
           **{key: _mean(metrics, key) for key, _ in METRIC_COLUMNS[benchmark]}, **base}
    rows = [row]
    by_rule = sum(1 for how in kept if how == KEEP_SOURCE)
    run["_kept_source"] = (f"{row['Model']} ({run_dir}): kept the source on {len(kept)} of {len(metrics)} tasks "
                           f"({len(kept) - by_rule} by hand, {by_rule} by rule: no seed beat the source's CLIP score).")
    if benchmark == "posedit":
        references = []
        for task_id in picks["picks"]:
            try:
                references.append(json.loads((run_dir / task_id / "reference.json").read_text(encoding="utf-8"))["ground_truth"])
            except (OSError, json.JSONDecodeError, KeyError):
                continue
        if references:
            rows.insert(0, {"Model": GT_ROW, **{key: _mean(references, key) for key, _ in METRIC_COLUMNS[benchmark]},
                            **base, "Tasks": len(references), "Seeds": None, "Kept source": None, "Pick rule": "-"})
    missing = len(set(run.get("tasks", [])) - set(picks["picks"]))
    short = sum(1 for per_task in picks["seeds_per_task"].values() if len(per_task) < len(run.get("seeds", [])))
    run["_unfinished"] = (f"{row['Model']} ({run_dir}): {missing} task(s) without results and {short} with fewer than "
                          f"{len(run.get('seeds', []))} seeds; the run is not finished.") if missing or short else None
    return benchmark, rows, run


def build_table(run_dirs: Sequence[str | Path], *, rule: str = "clip_under_lpips",
                lpips_bound: float = DEFAULT_LPIPS_BOUND, choices=None) -> BenchTable:
    """One table for one benchmark: the paper's rows, each followed by our rows for the same model."""
    if not run_dirs:
        raise F2FError("Give at least one run folder (the --out of `f2f bench tedbench|posedit`).")
    if choices is not None and len(run_dirs) > 1:
        raise F2FError("Manual choices belong to one method's run; give --choices with a single run folder.")
    benchmark, measured, configs = None, [], []
    for run_dir in run_dirs:
        found, rows, run = measured_rows(run_dir, rule=rule, lpips_bound=lpips_bound, choices=choices)
        if benchmark not in (None, found):
            raise F2FError(f"'{run_dir}' is a {found} run but an earlier folder is {benchmark}; make one table per benchmark.")
        benchmark = found
        measured += [r for r in rows if r["Model"] != GT_ROW or not any(m["Model"] == GT_ROW for m in measured)]
        configs.append(run)
    paper = PAPER[benchmark]
    formulas = {clip_score_formula(c.get("scorer")) for c in configs}
    if len(formulas) > 1:
        raise F2FError(f"These runs score CLIP differently ({', '.join(sorted(formulas))}); one column cannot mix them. "
                       "Make one table per convention.")
    clip_header = clip_score_header(configs[0].get("scorer"))
    metric_columns = [(key, clip_header if key == "clip_score" else header) for key, header in METRIC_COLUMNS[benchmark]]
    columns = ["Model"] + [header for _, header in metric_columns] + INFO_COLUMNS

    def as_row(row: dict) -> dict:
        return {"Model": row["Model"], **{header: row.get(key) for key, header in metric_columns},
                **{c: row.get(c) for c in INFO_COLUMNS}}

    rows = []
    for quoted in paper["rows"]:
        rows.append(as_row({**quoted, "Tasks": paper["tasks"], "Seeds": paper["seeds"] if quoted["Model"] != GT_ROW else None,
                            "Pick rule": "manual (paper)" if quoted["Model"] != GT_ROW else "-",
                            "Origin": f"quoted from the paper ({paper['table']})"}) | {QUOTED_DIGITS: 2})
        rows += [as_row(m) for m in measured if m["Model"] == quoted["Model"]]
    rows += [as_row(m) for m in measured if m["Model"] not in {q["Model"] for q in paper["rows"]}]

    scorers = {json.dumps(c.get("scorer"), sort_keys=True) for c in configs}
    notes = [f"Rows marked 'quoted from the paper' are the published numbers of {paper['table']} (arXiv 2411.16819)."]
    for scorer in map(json.loads, sorted(scorers)):
        if scorer:
            notes.append(f"Measured CLIP score = {clip_score_formula(scorer)}, cos being the image-text cosine of CLIP "
                         f"{scorer.get('clip_model')} ({scorer.get('clip_pretrained')}); records keep cos itself "
                         "(clip_score_cosine). The paper does not say which CLIP or scaling gave its numbers; "
                         "2.5·max(cos,0) (CLIPScore, Hessel et al. 2021) fits their range.")
    notes.append(f"Measured rows pick one seed per task by rule '{rule}' (see f2f_lab.bench.runner); the paper picked by hand. "
                 "A task whose source is kept counts with the unedited source's metrics, as the paper counts it.")
    peers = [c for c in configs if METHOD_NAMES.get(c.get("method")) in PEER_MODELS]
    if peers:
        how = sorted({way for c in peers for way in c.get("_instructions", [])})
        notes.append(f"{', '.join(METHOD_NAMES[c['method']] for c in peers)}: not in the paper (newer than it), so these rows "
                     f"have no paper numbers to compare with; compare them with the measured F2F row. They edit from an "
                     f"instruction derived from each target caption ({' and '.join(how)}; see f2f_lab.instructions).")
    notes += [c["_kept_source"] for c in configs if c.get("_kept_source")]
    notes += [c["_unfinished"] for c in configs if c.get("_unfinished")]
    if benchmark == "posedit":
        notes.append("Measured PosEdit rows use our rebuild from UTD-MHAD (f2f_lab.bench.posedit), not the paper's 58 tasks.")
    return BenchTable(benchmark=benchmark, columns=columns, rows=rows, notes=notes)


def write_table(table: BenchTable, out: str | Path) -> tuple[Path, Path]:
    """Write table.csv and table.md into the folder `out`."""
    out = Path(out)
    title = {"tedbench": "Table 1: TEdBench", "posedit": "Table 2: PosEdit"}[table.benchmark]
    csv_path = write_text_atomic(out / "table.csv", table.to_csv())
    md_path = write_text_atomic(out / "table.md", f"# {title}\n\n" + table.to_markdown())
    return csv_path, md_path
