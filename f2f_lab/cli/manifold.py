"""`f2f manifold sets | features | plot`: the study from the command line.

    accelerate launch -m f2f_lab.cli manifold sets --out runs/manifold/sets     # FLUX sets, all GPUs
    f2f manifold features --sets runs/manifold/sets                             # CLIP features, cached
    f2f manifold plot --sets runs/manifold/sets --out runs/manifold             # F2F path, figure, measures
    f2f manifold plot --toy --out runs/manifold-toy                             # the toy world, on a CPU in seconds

This module only imports argparse and data at load time, so `f2f --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..manifold.sets import generate_sets, load_sets, noise_images
from ..manifold.study import reference_features, run_study
from ..presets import TINY_NOTICE
from ..records import atomic_path
from ..results import check_writable
from ..toy import TOY_NOTICE, off_manifold_markdown, off_manifold_summary, run_toy_study
from .options import OPTION, add_options, add_preset_option, preset_overrides


def add_parser(subparsers) -> None:
    """Register `manifold` with its `sets`, `features` and `plot` subcommands on the `f2f` subcommands."""
    manifold = subparsers.add_parser("manifold", help="the manifold-pathway study of the paper's Figure 2")
    commands = manifold.add_subparsers(dest="manifold_command", required=True)

    sets = commands.add_parser("sets", help="make the three FLUX image sets (resumes; splits across GPUs under accelerate launch)")
    sets.add_argument("--out", default="runs/manifold/sets", help="sets folder (default: %(default)s)")
    sets.add_argument("--per-set", type=int, default=200, dest="n", help="images per set (paper: 200; default: %(default)s)")
    sets.add_argument("--model", default="black-forest-labs/FLUX.1-dev",
                      help="FLUX.1-dev (paper), FLUX.1-schnell (4 steps, minutes), tiny (offline), or a hub id")
    add_options(sets, ("num_inference_steps", "guidance_scale"), num_inference_steps="denoising steps (default: the model's)",
                guidance_scale="guidance scale (default: the model's)")
    sets.add_argument("--size", type=int, help="image side in px, a multiple of 16 (default: the model's, 1024)")
    sets.add_argument("--seed", type=int, default=0, help="first seed; image i of set k uses seed + 10000 k + i")
    OPTION["offload"].add_to(sets, flag="--cpu-offload", help="model CPU offload (GPUs with under ~40 GB)", default=False)
    sets.set_defaults(run=run_manifold)

    features = commands.add_parser("features", help="CLIP features of the kept set images and the noise images (cached)")
    _add_study_options(features)
    features.set_defaults(run=run_manifold)

    plot = commands.add_parser("plot", help="the F2F edit's path, the single-step point, the figure and the measures")
    _add_study_options(plot)
    plot.add_argument("--out", default="runs/manifold", help="figure and measures folder (default: %(default)s)")
    plot.add_argument("--source-index", type=int, default=0, help="which kept image of the AI set to edit (default: 0)")
    plot.add_argument("--seed", type=int, default=0, help="video seed (default: 0)")
    OPTION["video_backend"].add_to(plot, choices=None,
                                   help="the image-to-video model whose path is drawn, at its card's defaults (`f2f models`; "
                                        "default: the preset's, paper: cogvideox); run once per model with its own --out to compare")
    plot.add_argument("--single-step", default="ledits", help="single-step editor for the comparison point, or 'none'")
    plot.add_argument("--overwrite", action="store_true", help="replace the figure and measures of an earlier plot in --out")
    plot.add_argument("--toy", action="store_true",
                      help="the toy world (f2f_lab.toy): rendered sets, path and single step, exact off-manifold distances; "
                           "seconds on a CPU, no weights (--sets, --preset and --noise-size do not apply)")
    plot.set_defaults(run=run_manifold)


def _add_study_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sets", default="runs/manifold/sets", help="sets folder (default: %(default)s)")
    add_preset_option(parser, "paper", help="paper: CLIP ViT-B/32 and CogVideoX-5B; tiny: random stand-ins; "
                                            "or a spec such as paper:num_inference_steps=30 (default: %(default)s)")
    parser.add_argument("--noise", type=int, default=25, help="random-noise images (paper: 25)")
    parser.add_argument("--noise-size", type=int, default=512, help="noise image side in px (default: %(default)s)")


def run_manifold(args) -> None:
    """Run a parsed `f2f manifold ...` command (F2FError propagates to the CLI's handler)."""
    if args.manifold_command == "sets":
        if args.model == "tiny":
            print(TINY_NOTICE, file=sys.stderr)
        sets = generate_sets(args.out, n=args.n, model=args.model, num_inference_steps=args.num_inference_steps,
                             guidance_scale=args.guidance_scale, size=args.size, seed=args.seed, offload=args.offload)
        from accelerate import PartialState

        if PartialState().is_main_process:
            print(sets.summary())
        return

    preset = args.preset  # resolved by the CLI
    changes = preset_overrides(args, ("video_backend",))
    if changes:
        preset = preset.with_options(**changes)
    if args.manifold_command == "plot":  # never lose an earlier figure
        check_writable(args.out, args.overwrite, files=("manifold.png", "manifold.svg", "measures.json", "measures.md"))
        if args.toy:
            return _run_toy_plot(args)
    if preset.is_tiny:
        print(TINY_NOTICE, file=sys.stderr)
    sets = load_sets(args.sets)
    if args.manifold_command == "features":
        import numpy as np

        groups = reference_features(sets, noise_images(args.noise, args.noise_size), preset.clip_model,
                                    pretrained=preset.clip_pretrained)
        target = Path(args.sets) / "features.npz"
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, labels=np.array(list(groups)), **{f"group_{k}": v for k, v in enumerate(groups.values())})
        for label, features in groups.items():
            print(f"{label:<18} {features.shape[0]:4d} x {features.shape[1]}")
        print(f"features: {target}")
    elif args.manifold_command == "plot":
        single_step = None if args.single_step.lower() == "none" else args.single_step
        result = run_study(sets, preset, out=args.out, source_index=args.source_index, seed=args.seed,
                           noise=args.noise, noise_size=args.noise_size, single_step=single_step)
        if single_step and result.edit is None:
            print(f"'{single_step}' is not an available editor; the figure shows the path only.", file=sys.stderr)
        print(result.measures.summary_text())
        for path in result.files:
            print(f"wrote {path}")


def _run_toy_plot(args) -> None:
    """`f2f manifold plot --toy`: Figure 2 and its measures in the toy world, with the exact distances."""
    print(TOY_NOTICE, file=sys.stderr)
    choice = args.single_step.lower()
    single_step = None if choice == "none" else ("crossfade" if choice == "crossfade" else "resample")
    result = run_toy_study(args.out, noise=args.noise, source_index=args.source_index, seed=args.seed,
                           single_step=single_step)
    print(result.measures.summary_text())
    print(off_manifold_markdown(off_manifold_summary(result.off_manifold)))
    for path in result.files:
        print(f"wrote {path}")
