"""`f2f gpu-check --out DIR [--size full|tiny] [--budget-s 480] [--items ...]`: every heavy path proven (`f2f_lab.gpu_check`).

Exit status: 0 when some run finished and no item recorded an error; 1 when an item erred or nothing
ran, or when the results file could not be written (the results are then printed on stdout, so a tee'd log
keeps them); 2 for a refused argument (nothing run or written); 130 on Ctrl-C, after writing the results file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .. import gpu_check
from ..gpu_check import DEFAULT_BUDGET_S, ITEMS, run_gpu_check
from ..gpu_check.core import MAX_BUDGET_S, RESULTS_FILE, SIZES, Interrupted
from ..records import scrub
from .options import OPTION


def add_parser(subparsers) -> None:
    """Register `f2f gpu-check` on the `f2f` subcommands."""
    parser = subparsers.add_parser(
        "gpu-check", help="prove every heavy path at full size (random weights on a GPU) within a time budget",
        description=gpu_check.__doc__.split("\n\n")[0],
    )
    parser.add_argument("--out", required=True, help=f"folder for {RESULTS_FILE} (every item's record and the summary)")
    parser.add_argument("--size", choices=SIZES, help="full: published configurations on a CUDA GPU; tiny: the tiny "
                                                       "models on the CPU (default: full when CUDA is there, else tiny)")
    parser.add_argument("--budget-s", type=float, default=DEFAULT_BUDGET_S,
                        help="seconds for the whole check, above 0 and at most %d; it stops cleanly before "
                             "(default: %%(default)s)" % MAX_BUDGET_S)
    parser.add_argument("--items", help="which items, run in the order given: numbers, names or ranges, comma-separated "
                                        "(e.g. 1,3,7,10 or video,edit or 4-6; default: all, in priority order). Items: "
                                        + ", ".join(f"{spec.number} {spec.name}" for spec in ITEMS))
    OPTION["device"].add_to(parser, help="torch device (default: cuda for full size, cpu for tiny)")
    parser.set_defaults(run=run_gpu_check_command)


def run_gpu_check_command(args) -> int:
    command = (f"f2f gpu-check --out {args.out}" + (f" --size {args.size}" if args.size else "")
               + f" --budget-s {args.budget_s:g}" + (f" --items {args.items}" if args.items else ""))
    results = Path(args.out) / RESULTS_FILE
    try:
        summary = run_gpu_check(args.out, size=args.size, budget_s=args.budget_s, device=args.device, items=args.items,
                                command=command + (f" --device {args.device}" if args.device else ""))
    except Interrupted as stop:
        print_summary(stop.summary)
        if unsaved(stop.summary):
            return 130
        print(f"f2f: interrupted during {stop.summary['interrupted']}; wrote what had finished to {results}.",
              file=sys.stderr)
        return 130
    print_summary(summary)
    if unsaved(summary):
        return 1
    print(f"{summary['size']} size, {summary['seconds']:.0f} s of {summary['budget_s']:g} s; wrote {results}")
    for note in summary["notes"]:
        print(f"note: {note}.")
    if summary["outcome"] == "errors":
        erred = [entry["item"] for entry in summary["items"] if entry["errors"]]
        print(f"f2f: gpu-check: {len(erred)} of {len(summary['items'])} items recorded errors ({', '.join(erred)}); "
              f"their tracebacks are in {results}.", file=sys.stderr)
        return 1
    if summary["outcome"] == "nothing ran":
        reasons = [entry["skipped"][0]["reason"] for entry in summary["items"] if entry["skipped"]]
        print("f2f: gpu-check: nothing ran" + (f" ({reasons[0]})" if reasons else "")
              + "; raise --budget-s or choose fewer --items.", file=sys.stderr)
        return 1
    return 0


def unsaved(summary: dict) -> bool:
    """When the results file could not be written: its contents on stdout, one line on stderr; True."""
    if not summary["unsaved"]:
        return False
    print(json.dumps(scrub(summary.get("results") or {"summary": summary}), default=str))
    print(f"f2f: error: could not write {summary['unsaved']}; the results are printed above (stdout), "
          "free space or fix the permissions of --out and copy them from there.", file=sys.stderr)
    return True


def print_summary(summary: dict) -> None:
    for entry in summary["items"]:
        reason = f" ({entry['skipped'][0]['reason']})" if entry["status"] == "skipped" and entry["skipped"] else ""
        seconds = entry["seconds"] if entry["seconds"] is not None else 0.0
        print(f"{entry['item']:<18} {entry['status']:<11} {seconds:7.1f} s{reason}")
