"""`f2f bench ...`: run TEdBench or PosEdit over seeds, print Tables 1 and 2, time an edit.

    f2f bench tedbench --data tedbench/ --out runs/bench/tedbench/f2f-paper [--seeds 15] [--limit N]
    f2f bench posedit  --data posedit/ [--utd-mhad UTD-MHAD/] --out ... [--seeds 9]
    f2f bench table    runs/bench/tedbench/f2f-paper [more run folders] [--rule ...] [--choices picks.json]
    f2f bench speed    --preset fast --compare paper --repeat 3 --json speed.json

Each subcommand sets the function that runs it with `set_defaults(run=...)`, as every `f2f`
command does (`f2f_lab.cli`); the work is done by `f2f_lab.bench`'s plain functions.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from pathlib import Path

from ..bench import posedit, tedbench
from ..bench.runner import DEFAULT_LPIPS_BOUND, PICK_RULES, SEED_COUNTS, collect_records, run_benchmark
from ..bench.speed import compare, measure_speed
from ..bench.tables import build_table, write_table
from ..errors import F2FError
from ..presets import PRESETS, TINY_NOTICE
from ..records import check_writable_dir, check_writable_file, write_json_atomic
from .options import add_editor_options, add_options, add_preset_option, editor_options


def add_parser(subparsers) -> None:
    """Register `f2f bench` and its subcommands on the `f2f` subcommands."""
    bench = subparsers.add_parser("bench", help="benchmarks: TEdBench, PosEdit, and the paper's tables")
    commands = bench.add_subparsers(dest="bench_command", required=True)
    for add in (_add_tedbench, _add_posedit, _add_table, _add_speed):
        add(commands)


# -- tedbench / posedit ---------------------------------------------------------------------


def _add_run_options(parser: argparse.ArgumentParser, benchmark: str) -> None:
    parser.add_argument("--out", help=f"run folder (default: runs/bench/{benchmark}/<method>-<preset>); a rerun resumes it")
    add_preset_option(parser, "paper")
    parser.add_argument("--seeds", type=int, default=SEED_COUNTS[benchmark],
                        help="seeds 0..N-1 per task (default: %(default)s, the paper's)")
    parser.add_argument("--limit", type=int, help="only the first N tasks (a quick look)")
    add_editor_options(parser, device_help="torch device (default: cuda, or cuda:LOCAL_RANK under accelerate launch)")
    parser.add_argument("--clip-model", help="open_clip model for the metrics (default: the preset's, ViT-B-32)")
    parser.add_argument("--clip-pretrained", help="open_clip weights tag for the metrics (default: the preset's, openai)")
    parser.add_argument("--clip-score", choices=("clipscore", "cosine"), default="clipscore",
                        help="CLIP score convention: clipscore = w x max(cos, 0) (default; fits the paper's ~0.63), "
                             "cosine = the raw image-text cosine")
    parser.add_argument("--clip-score-scale", type=float, default=None, metavar="W",
                        help="CLIPScore's w (default: 2.5, Hessel et al. 2021); not with --clip-score cosine")
    parser.add_argument("--light", action="store_true", help="keep only edited.png and record.json per item (no video or strip)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")


def _add_tedbench(commands) -> None:
    parser = commands.add_parser("tedbench", help="TEdBench (Table 1): every task x seed, resumable")
    parser.add_argument("--data", required=True, help="the TEdBench folder (input_list.json + originals/)")
    _add_run_options(parser, "tedbench")
    parser.set_defaults(run=_run_tedbench)


def _add_posedit(commands) -> None:
    parser = commands.add_parser("posedit", help="PosEdit rebuild (Table 2): every task x seed, resumable")
    parser.add_argument("--data", required=True, help="the rebuilt PosEdit folder (tasks.json + images/)")
    parser.add_argument("--utd-mhad", help="UTD-MHAD RGB videos: rebuild PosEdit into --data first when it has no tasks.json")
    parser.add_argument("--trial", type=int, help="UTD-MHAD trial for the rebuild (default: the lowest on disk)")
    parser.add_argument("--vlm-captions", action="store_true",
                        help="ask the captioner for temporal captions instead of using each category's")
    _add_run_options(parser, "posedit")
    parser.set_defaults(run=_run_posedit)


def _run_tedbench(args) -> int:
    return _run(args, "tedbench", tedbench.load(args.data), task_captions=True)


def _run_posedit(args) -> int:
    _check_counts(args)  # before a rebuild that takes minutes
    data = Path(args.data)
    if not (data / "tasks.json").is_file():
        if not args.utd_mhad:
            raise F2FError(f"No PosEdit rebuild at '{data}' (tasks.json). Pass --utd-mhad DIR to build it there from UTD-MHAD.")
        posedit.build(args.utd_mhad, data, trial=args.trial, progress=args.progress)
    return _run(args, "posedit", posedit.load(data), task_captions=not args.vlm_captions)


def _say_where_it_stopped(out: Path, total: int, argv: list[str] | None) -> None:
    """After Ctrl-C: that the sweep stopped, how much of it is done, and the command that resumes it."""
    done = sum(len(seeds) for seeds in collect_records(out).values()) if out.is_dir() else 0
    command = shlex.join(["f2f", *argv]) if argv else f"the same f2f bench command with --out {out}"
    print(f"\nstopped: {done} of {total} items are done in {out} (finished items are complete; the current one was "
          f"not written). Resume with: {command}", file=sys.stderr)


def _check_counts(args) -> None:
    if args.seeds < 1 or (args.limit is not None and args.limit < 1):
        raise F2FError("--seeds and --limit must be at least 1.")


def _run(args, benchmark: str, tasks, task_captions: bool) -> int:
    _check_counts(args)
    options = editor_options(args)
    device = options.pop("device")
    tasks = tasks[: args.limit] if args.limit else tasks
    preset = args.preset
    out = Path(args.out) if args.out else Path("runs") / "bench" / benchmark / re.sub(r"[^\w.=+-]", "_", f"{args.method}-{preset.name}")
    check_writable_dir(out, "--out", beside=False)  # items are written inside it: before any model loads
    if preset.is_tiny:
        print(TINY_NOTICE, file=sys.stderr)
    try:
        summary = run_benchmark(
            tasks, out, benchmark=benchmark, method=args.method, preset=preset, seeds=range(args.seeds),
            device=device, task_captions=task_captions, light=args.light, progress=args.progress,
            scorer_options={"clip_model": args.clip_model, "clip_pretrained": args.clip_pretrained,
                            "clip_score": args.clip_score, "clip_score_scale": args.clip_score_scale},
            editor_options=options,
        )
    except KeyboardInterrupt:
        _say_where_it_stopped(out, len(tasks) * args.seeds, getattr(args, "argv", None))
        return 130

    where = f" (process {summary.slot.index + 1} of {summary.slot.count})" if summary.slot.count > 1 else ""
    print(f"{benchmark}{where}: {summary.computed} items computed, {summary.skipped} already done, "
          f"{summary.seconds:.1f} s; results in {out}")
    if summary.all_done:
        print(f"all {summary.total_items} items are done; next: f2f bench table {out}")
    else:
        print(f"items of other processes are still missing; rerun or wait, then: f2f bench table {out}")
    return 0


# -- table ----------------------------------------------------------------------------------


def _add_table(commands) -> None:
    parser = commands.add_parser("table", help="Table 1 or 2: our runs beside the paper's numbers (CSV + Markdown)")
    parser.add_argument("runs", nargs="+", metavar="DIR", help="run folders of one benchmark (one per method)")
    parser.add_argument("--out", help="where table.csv and table.md go (default: the first DIR)")
    parser.add_argument("--rule", default="clip_under_lpips", choices=PICK_RULES,
                        help="best-of-seeds rule (default: %(default)s; see f2f_lab.bench.runner)")
    parser.add_argument("--lpips-bound", type=float, default=DEFAULT_LPIPS_BOUND,
                        help="source LPIPS bound of clip_under_lpips (default: %(default)s)")
    parser.add_argument("--choices", help="manual picks, a JSON {task_id: seed or null} (one run folder only)")
    parser.set_defaults(run=_run_table)


def _run_table(args) -> int:
    table = build_table(args.runs, rule=args.rule, lpips_bound=args.lpips_bound, choices=args.choices)
    csv_path, md_path = write_table(table, args.out or args.runs[0])
    print(table.to_markdown())
    print(f"written: {csv_path}, {md_path}")
    return 0


# -- speed ----------------------------------------------------------------------------------


def _add_speed(commands) -> None:
    parser = commands.add_parser(
        "speed", help="time each stage of an edit, peak memory and FLOP rate; compare two presets",
        description="Time each stage of an edit (after warm-up), peak memory and the denoiser's FLOP rate.",
    )
    add_preset_option(parser, "tiny", help=f"configuration to time: {', '.join(PRESETS)}, optionally with fields changed, "
                                           "e.g. paper:attention_backend=cudnn (default: %(default)s)")
    parser.add_argument("--compare", metavar="PRESET2", help="also time this configuration (same syntax) and print the ratios")
    add_options(parser, ("num_frames", "num_inference_steps"), num_frames="frames to generate (8k+1; default: the preset's)",
                num_inference_steps="denoising steps (default: the preset's)")
    parser.add_argument("--repeat", type=int, default=3, help="measured edits; stages report medians (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured edits first: loading, compilation (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="video seed of every edit (default: %(default)s)")
    parser.add_argument("--tiny-models", action="store_true", help="the preset's levers and numbers on the tiny random-weight models")
    parser.add_argument("--random-weights", choices=["full"], help="full: the full-size 5B architecture with random bf16 weights (GPU)")
    parser.add_argument("--no-metrics", action="store_true", help="do not time the metrics stage")
    add_options(parser, ("device",))
    parser.add_argument("--json", metavar="OUT", help="also write the report as JSON here")
    parser.set_defaults(run=run_speed_command)


def run_speed_command(args) -> int:
    """Run `f2f bench speed` from parsed arguments (`args.preset` a Preset or a spec): print the table, write JSON if asked."""
    options = dict(
        num_frames=args.num_frames, num_inference_steps=args.num_inference_steps, repeat=args.repeat,
        warmup=args.warmup, seed=args.seed, device=args.device, tiny_models=args.tiny_models,
        random_weights=args.random_weights, metrics=not args.no_metrics,
    )
    if args.json:
        check_writable_file(args.json, "--json")  # before minutes of measuring
    if args.compare:
        outcome = compare(args.preset, args.compare, **options)
    else:
        outcome = measure_speed(args.preset, **options)
    print(outcome.table())
    if args.json:
        write_json_atomic(args.json, outcome.to_dict())
        print(f"wrote {args.json}")
    return 0
