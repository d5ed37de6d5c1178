"""`f2f edit`, `f2f demo` and `f2f models`: one edit from the command line, the bundled demo, the video models."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ..captions import check_caption
from ..editors import PEER_METHODS, make_editor
from ..errors import F2FError
from ..imaging import load_image, to_canvas
from ..presets import TINY_NOTICE
from ..results import check_writable
from ..samples import SAMPLES_DIR
from ..video.backends import backends_table
from .options import add_editor_options, add_preset_option, editor_options, preset_overrides

DEMO_IMAGE = SAMPLES_DIR / "cat.jpg"
DEMO_TARGET = "A photo of a cat yawning."


def add_parser(subparsers) -> None:
    """Register `edit`, `demo` and `models` on the `f2f` subcommands."""
    edit = subparsers.add_parser("edit", help="edit an image toward a target caption")
    edit.add_argument("image", help="the source image file")
    edit.add_argument("target", help='what the edit shows, e.g. "A photo of a cat yawning."')
    edit.add_argument("--out", help="run folder (default: runs/<image name>)")
    _add_edit_options(edit, "paper")
    edit.set_defaults(run=run_edit_command)

    demo = subparsers.add_parser("demo", help="edit a bundled sample image and write a report")
    demo.add_argument("--out", default="runs/demo", help="run folder (default: %(default)s)")
    _add_edit_options(demo, "tiny")
    demo.set_defaults(run=run_demo_command)

    models = subparsers.add_parser("models", help="the image-to-video models (--video-model) and what their cards publish")
    models.add_argument("--markdown", action="store_true", help="print a Markdown table")
    models.set_defaults(run=run_models_command)


def _add_edit_options(parser: argparse.ArgumentParser, preset_default: str) -> None:
    add_preset_option(parser, preset_default)
    add_editor_options(parser)
    parser.add_argument("--seed", type=int, default=0, help="seed of the video's noise (default: 0)")
    parser.add_argument("--seeds", type=int, nargs="+", help="several seeds, one run folder each (seed-N)")
    parser.add_argument("--caption", help="use this temporal caption instead of asking the captioner")
    parser.add_argument("--instruction", choices=("template", "vlm"),
                        help="how chronoedit, kontext and qwen-edit get their instruction from the target caption: a "
                             "fixed template (their default) or a VLM rewrite (f2f_lab.instructions)")
    parser.add_argument("--overwrite", action="store_true", help="replace the files of an earlier run in --out")


def run_edit_command(args) -> None:
    out = Path(args.out) if args.out else Path("runs") / Path(args.image).stem
    run_edit(args, args.image, args.target, out)


def run_demo_command(args) -> None:
    outs = run_edit(args, DEMO_IMAGE, DEMO_TARGET, Path(args.out))
    for folder in outs if args.method == "f2f" else []:  # baselines write no report
        print(f"report: {folder / 'report.html'}")
    if args.preset.is_tiny:
        print(TINY_NOTICE)


def run_models_command(args) -> None:
    print(backends_table(markdown=args.markdown))


def run_edit(args, image, target: str, out: Path) -> list[Path]:
    """Edit `image` toward `target` as the parsed options say; one run folder per seed."""
    # Everything a user can get wrong is checked before minutes of model loading.
    options = editor_options(args)
    if args.instruction is not None:
        if args.method not in PEER_METHODS:
            raise F2FError(f"--instruction applies to the instruction editors ({', '.join(PEER_METHODS)}), not {args.method}.")
        options["instruction"] = args.instruction
    # The video model and geometry change the preset's numbers: apply them before any check.
    preset = args.preset.with_options(**preset_overrides(args, ("video_backend", "geometry")))
    options.pop("video_backend", None), options.pop("geometry", None)
    image = load_image(image)
    if preset.geometry == "letterbox":
        to_canvas(image, preset.canvas)  # an aspect ratio too extreme for the canvas fails here
    target = check_caption(target)
    seeds = args.seeds or [args.seed]
    if len(set(seeds)) != len(seeds):
        raise F2FError(f"--seeds repeats a seed ({' '.join(map(str, seeds))}); give each seed once.")
    if any(not 0 <= seed < 2**63 for seed in seeds):
        raise F2FError(f"Seeds must be integers from 0 to 2**63 - 1; got {' '.join(map(str, seeds))}.")
    if args.caption is not None:
        check_caption(args.caption, "temporal caption (--caption)")
    outs = [out] if len(seeds) == 1 else [out / f"seed-{seed}" for seed in seeds]
    for folder in outs:  # never lose an earlier run
        check_writable(folder, args.overwrite)
    if preset.is_tiny:
        print(TINY_NOTICE, file=sys.stderr)
    start = time.perf_counter()
    editor = make_editor(args.method, preset, **options)
    print(f"models ready in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    if args.method != "f2f":
        for folder, seed in zip(outs, seeds):
            editor.edit(image, target, seed=seed).save(folder, overwrite=args.overwrite)
            print(f"seed {seed}: {args.method} -> {folder}")
        return outs
    results = editor.edit_seeds(image, target, seeds, caption=args.caption, **_test_hold_at_step())
    for folder, result in zip(outs, results):
        result.save(folder, overwrite=args.overwrite)
        chosen = "kept the source (no frame completes the edit)" if result.index == 0 else f"frame {result.index} of {len(result.frames)}"
        print(f"seed {result.seed}: {chosen} -> {folder}")
        print(f"  temporal caption: {result.caption}")
    return outs


def _test_hold_at_step() -> dict:
    """A test hook, off unless F2F_TEST_HOLD_AT_STEP names a file: at the first denoising step the
    edit creates that file and waits (at most 60 s) until the test deletes it, so that a test can
    signal the process at a known point whatever the machine's speed (tests/test_cli.py)."""
    flag = os.environ.get("F2F_TEST_HOLD_AT_STEP")
    if not flag:
        return {}

    def hold(pipe, step, timestep, callback_kwargs):
        if step == 0:
            Path(flag).touch()
            deadline = time.monotonic() + 60
            while Path(flag).exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        return callback_kwargs

    return {"callback_on_step_end": hold}
