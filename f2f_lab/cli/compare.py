"""`f2f compare IMAGE CAPTION --methods ...`: every method on one photo (`f2f_lab.compare.compare`)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..compare import DEFAULT_COMPARE_METHODS, compare
from ..instructions import INSTRUCTION_MODES
from ..presets import TINY_NOTICE
from .options import OPTION, add_preset_option, vlm_client_options


def add_parser(subparsers) -> None:
    """Register `f2f compare` on the `f2f` subcommands."""
    parser = subparsers.add_parser("compare", help="every method on one photo: a labelled grid, a metrics table, a page")
    parser.add_argument("image", help="the source image file")
    parser.add_argument("target", help='what the edit shows, e.g. "A photo of a cat yawning."')
    parser.add_argument("--methods", default=",".join(DEFAULT_COMPARE_METHODS),
                        help="comma-separated methods, in the order shown (default: %(default)s)")
    parser.add_argument("--out", help="folder (default: runs/compare/<image name>); a rerun reuses finished methods")
    add_preset_option(parser, "paper")
    parser.add_argument("--seed", type=int, default=0, help="the seed of every method (default: 0)")
    parser.add_argument("--instruction", choices=INSTRUCTION_MODES, default="template",
                        help="how the instruction editors get their instruction from the caption (default: %(default)s)")
    OPTION["device"].add_to(parser)
    OPTION["vlm_base_url"].add_to(parser, help="OpenAI-compatible server for the VLM steps (default: $OPENAI_BASE_URL, else OpenAI)")
    OPTION["vlm_timeout"].add_to(parser)
    OPTION["vlm_retries"].add_to(parser)
    parser.add_argument("--overwrite", action="store_true", help="recompute every method, even finished ones")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    parser.set_defaults(run=run_compare_command)


def run_compare_command(args) -> None:
    """Run the parsed `f2f compare`; F2FError is left to `main`, which prints it."""
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    out = Path(args.out) if args.out else Path("runs") / "compare" / Path(args.image).stem
    if args.preset.is_tiny:
        print(TINY_NOTICE, file=sys.stderr)
    result = compare(args.image, args.target, methods, preset=args.preset, seed=args.seed, out=out,
                     instruction=args.instruction, device=args.device, overwrite=args.overwrite, progress=args.progress,
                     vlm_options=vlm_client_options(args, args.preset.vlm_backend) or None)
    print(result.to_markdown())
    reused = [m for m, run in result.runs.items() if run.reused]
    if reused:
        print(f"read back from the earlier run, not recomputed: {', '.join(reused)}")
    print(f"page: {result.out / 'report.html'}")
