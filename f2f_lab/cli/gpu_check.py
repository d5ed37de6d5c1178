"""`f2f gpu-check --out DIR [--size full|tiny] [--budget-s 480] [--items ...]`: every heavy path proven (`f2f_lab.gpu_check`)."""

from __future__ import annotations

from pathlib import Path

from .. import gpu_check
from ..gpu_check import DEFAULT_BUDGET_S, ITEMS, run_gpu_check
from ..gpu_check.core import RESULTS_FILE, SIZES
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
                        help="seconds for the whole check; it stops cleanly before (default: %(default)s)")
    parser.add_argument("--items", help="which items, run in the order given: numbers, names or ranges, comma-separated "
                                        "(e.g. 1,3,7,10 or video,edit or 4-6; default: all, in priority order). Items: "
                                        + ", ".join(f"{spec.number} {spec.name}" for spec in ITEMS))
    OPTION["device"].add_to(parser, help="torch device (default: cuda for full size, cpu for tiny)")
    parser.set_defaults(run=run_gpu_check_command)


def run_gpu_check_command(args) -> int:
    command = (f"f2f gpu-check --out {args.out}" + (f" --size {args.size}" if args.size else "")
               + f" --budget-s {args.budget_s:g}" + (f" --items {args.items}" if args.items else ""))
    summary = run_gpu_check(args.out, size=args.size, budget_s=args.budget_s, device=args.device, items=args.items,
                            command=command + (f" --device {args.device}" if args.device else ""))
    for entry in summary["items"]:
        reason = f" ({entry['skipped'][0]['reason']})" if entry["status"] == "skipped" and entry["skipped"] else ""
        print(f"{entry['item']:<18} {entry['status']:<8} {entry['seconds']:7.1f} s{reason}")
    print(f"{summary['size']} size, {summary['seconds']:.0f} s of {summary['budget_s']:g} s; wrote {Path(args.out) / RESULTS_FILE}")
    return 0
