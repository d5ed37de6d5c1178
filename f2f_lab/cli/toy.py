"""`f2f toy source|train|evaluate`: the toy world's learned models (`f2f_lab.toy.train`, `f2f_lab.toy.evaluate`),
and the toy edit that `f2f demo` runs beside its tiny one (`run_toy_demo`)."""

from __future__ import annotations

from pathlib import Path

from ..errors import F2FError
from ..imaging import save_image
from ..paper import PAPER_TARGET
from ..records import check_writable_dir
from ..results import check_writable, save_or_recover
from ..toy.demo import EXACT_FILE, ToyDemoResult, toy_demo
from ..toy.evaluate import eval_source, evaluate_edits, source_image, table_markdown, write_table
from ..toy.sets import SET_FACTORS
from ..toy.train import BATCH, DEFAULT_STEPS, train
from ..toy.video_model import SIZE


def add_parser(subparsers) -> None:
    """Register `f2f toy source ...`, `f2f toy train ...` and `f2f toy evaluate ...` on the `f2f` subcommands."""
    toy = subparsers.add_parser("toy", help="the toy world's learned models: a source image, train them, evaluate them")
    commands = toy.add_subparsers(dest="toy_command", required=True)
    source = commands.add_parser("source", help=f"write a toy source image at the learned models' {SIZE} px")
    source.add_argument("--out", required=True, help="the image file to write (PNG), e.g. runs/person.png")
    source.add_argument("--seed", type=int, default=0, help="which person: seed N is the evaluation's source N (default 0)")
    source.add_argument("--set", choices=tuple(SET_FACTORS), default="ai",
                        help="ai: arms down, 'AI' shirt (the paper's source; default); ai_heart, heart: the other two sets")
    source.add_argument("--overwrite", action="store_true", help="replace an existing file at --out")
    source.set_defaults(run=run_source_command)
    train_parser = commands.add_parser("train", help="train the toy video model and the toy SDEdit image model (2-core CPU: about 11 min when idle)")
    train_parser.add_argument("--out", required=True, help="folder for video/ and image/ (weights, toy.json, train_log.jsonl)")
    train_parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, help=f"optimiser steps per model (default {DEFAULT_STEPS})")
    train_parser.add_argument("--seed", type=int, default=0, help="seeds initialisation, data and noise (default 0)")
    train_parser.add_argument("--which", choices=("both", "video", "image"), default="both", help="which model to train")
    train_parser.add_argument("--batch", type=int, default=BATCH, help=f"training examples per step (default {BATCH})")
    evaluate = commands.add_parser("evaluate", help="the Frame2Frame-toy vs SDEdit-toy table over seeds")
    evaluate.add_argument("--models", default="toy", help="'toy' (shipped) or the --out folder of f2f toy train")
    evaluate.add_argument("--seeds", type=int, default=50)
    evaluate.add_argument("--out", default=None, help="write table.json and table.md here")
    train_parser.set_defaults(run=run_train_command)
    evaluate.set_defaults(run=run_evaluate_command)


def run_source_command(args) -> int:
    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise F2FError(f"'{out}' exists; choose another --out, or pass --overwrite to replace it.")
    if not 0 <= args.seed < 2**63:
        raise F2FError(f"--seed {args.seed}: seeds are integers from 0 to 2**63 - 1.")
    check_writable_dir(out.parent, beside=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_image(source_image(args.seed, args.set), out)
    factors = eval_source(args.seed, args.set)
    print(f"{out}: toy source {args.seed} of set '{args.set}', {SIZE}x{SIZE} px (pose {factors.arms:.3f}, "
          f"'AI' {'on' if factors.ai else 'not on'} the shirt)")
    print(f'edit it: f2f edit {out} "{PAPER_TARGET}" --preset toy')
    return 0


def run_toy_demo(out: str | Path, *, seed: int = 0, overwrite: bool = False) -> Path:
    """One toy edit end to end into `out` (`toy.demo.toy_demo`); seconds on a CPU. Prints what it kept."""
    out = check_writable(out, overwrite, files=ToyDemoResult.files)
    result = toy_demo(seed)
    save_or_recover(result, out, overwrite=overwrite)
    print(f"toy edit (learned toy models, real): {out}")
    print(f"  temporal caption: {result.caption}")
    print(f"  learned video: frame {result.index} of {len(result.frames)} kept (strip.png); the renderer's exact "
          f"path keeps frame {result.exact_index} ({EXACT_FILE}); record.json, report.html")
    return out


def run_train_command(args) -> int:
    check_writable_dir(args.out)  # before minutes of training
    records = train(args.out, steps=args.steps, seed=args.seed, which=args.which, batch=args.batch)
    for kind, record in records.items():
        print(f"{kind}: {record['parameters']} parameters, {record['steps']} steps in {record['seconds']:.0f} s, "
              f"loss {record['first_loss']:.4f} -> {record['last_loss']:.4f}; in {Path(args.out) / kind}")
    return 0


def run_evaluate_command(args) -> int:
    table = evaluate_edits(args.models, seeds=range(args.seeds))
    if args.out:
        write_table(table, args.out)
    print(table_markdown(table))
    return 0
