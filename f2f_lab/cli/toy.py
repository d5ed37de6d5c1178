"""`f2f toy train` and `f2f toy evaluate`: the toy world's learned models (`f2f_lab.toy.train`, `f2f_lab.toy.evaluate`)."""

from __future__ import annotations

from pathlib import Path

from ..records import check_writable_dir
from ..toy.evaluate import evaluate_edits, table_markdown, write_table
from ..toy.train import BATCH, DEFAULT_STEPS, train


def add_parser(subparsers) -> None:
    """Register `f2f toy train ...` and `f2f toy evaluate ...` on the `f2f` subcommands."""
    toy = subparsers.add_parser("toy", help="the toy world's learned models: train them, evaluate them")
    commands = toy.add_subparsers(dest="toy_command", required=True)
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
