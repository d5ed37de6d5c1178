"""The `f2f` command: edit an image, run the demo, compare methods, the benchmarks, the studies.

    f2f edit IMAGE "TARGET"     f2f demo     f2f models     f2f compare IMAGE "TARGET"
    f2f bench tedbench|posedit|table|speed     f2f manifold sets|features|plot
    f2f toy source|train|evaluate      f2f gpu-check

One module per command group, each registering its subcommands the same way: a function
`add_parser(subparsers)` adds its parsers and sets the function that runs each with
`set_defaults(run=function)`, `function(args) -> int | None`. `main` parses, reads
`--preset` once where a command has it, and calls `args.run(args)`. Adding a command group:
a module here with `add_parser`, listed in `COMMANDS`. The library below never imports
this package: it keeps plain functions, which these modules call.

User errors (F2FError) print one line and exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import F2FError
from . import bench, compare, edit, gpu_check, manifold, toy
from .options import resolve_preset

COMMANDS = (edit, compare, bench, manifold, gpu_check, toy)  # in help order


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="f2f", description="Frame2Frame: image editing through video generation.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # the command as typed, for "resume with: ..."
    try:
        if hasattr(args, "preset"):
            resolve_preset(args)
        return args.run(args) or 0
    except F2FError as exc:
        print(f"f2f: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("f2f: interrupted; finished run folders are complete, the current one was not written.", file=sys.stderr)
        return 130
