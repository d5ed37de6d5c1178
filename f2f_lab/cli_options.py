"""The command-line options every `f2f` command shares, declared once.

`f2f edit`, `f2f demo`, `f2f bench tedbench|posedit|speed` and `f2f manifold` take the same
`--preset` (a name or a spec, "paper:num_inference_steps=30"), and the editing commands the
same editor options; `editor_options(args)` turns them into the keyword arguments of
`editors.make_editor`, refusing Frame2Frame-only options for a single-step method.
This module imports argparse and data only, so `f2f --help` stays fast.
"""

from __future__ import annotations

import argparse

from .captions import CAPTIONERS
from .editors import METHODS
from .errors import F2FError
from .presets import PRESETS, VLM_BACKENDS, Preset, get_preset
from .refine import REFINE_MODES
from .selection import SELECTORS
from .video.backends import BACKENDS, GEOMETRIES

PRESET_METAVAR = "NAME[:FIELD=VALUE,...]"
# Options that only mean something to Frame2Frame (flag, attribute of the parsed args).
F2F_ONLY = (("--video-model", "video_backend"), ("--geometry", "geometry"), ("--captioner", "captioner"),
            ("--selector", "selector"), ("--frames", "num_frames"),
            ("--vlm", "vlm_backend"), ("--vlm-model", "vlm_model"), ("--vlm-base-url", "vlm_base_url"),
            ("--refine", "refine"), ("--latent-dropout", "latent_dropout"), ("--latent-dropout-at", "latent_dropout_at"))


def add_preset_option(parser: argparse.ArgumentParser, default: str, help: str | None = None) -> None:
    """`--preset NAME[:FIELD=VALUE,...]`: a preset, optionally with fields or levers changed."""
    parser.add_argument(
        "--preset", default=default, metavar=PRESET_METAVAR,
        help=help or f"{', '.join(PRESETS)}, or one with changed fields, e.g. paper:num_inference_steps=30 (default: %(default)s)",
    )


def add_editor_options(parser: argparse.ArgumentParser, *, device_help: str = "torch device (default: cuda when available, else cpu)") -> None:
    """The method, where it runs, and the Frame2Frame stages and numbers."""
    parser.add_argument("--method", default="f2f", choices=METHODS, help="Frame2Frame or a single-step baseline editor (default: %(default)s)")
    parser.add_argument("--device", help=device_help)
    parser.add_argument("--offload", action="store_true", default=None, help="model CPU offload and VAE tiling (less GPU memory)")
    parser.add_argument("--video-model", choices=BACKENDS, dest="video_backend", metavar="KEY",
                        help=f"the image-to-video model, at its card's defaults: {', '.join(BACKENDS)} "
                             "(default: the preset's; paper: cogvideox; `f2f models` lists them)")
    parser.add_argument("--geometry", choices=GEOMETRIES,
                        help="letterbox: fit on black and crop back (the paper's); aspect: generate at the source's "
                             "aspect ratio within the model's pixel budget (default: the video model's)")
    parser.add_argument("--captioner", choices=CAPTIONERS, help="temporal caption source (default: the preset's)")
    parser.add_argument("--selector", choices=SELECTORS, help="frame selector (default: the preset's)")
    parser.add_argument("--frames", type=int, dest="num_frames", help="frames to generate (CogVideoX 8k+1, paper: 49; "
                                                                       "each model's rule in `f2f models`)")
    parser.add_argument("--steps", type=int, dest="num_inference_steps", help="denoising steps (paper: 50)")
    parser.add_argument("--refine", choices=REFINE_MODES,
                        help="IF-Edit's post-refinement, beyond the paper: re-run the video model as a short still video "
                             "from the selector's frame (selected) or the sharpest late frame (sharpest), and keep its "
                             "sharpest frame (default: off)")
    parser.add_argument("--latent-dropout", type=int, metavar="K",
                        help="IF-Edit's temporal latent dropout, beyond the paper: keep every K-th latent frame (and the "
                             "first and last) once the timestep falls below --latent-dropout-at (IF-Edit: K=3; default: off)")
    parser.add_argument("--latent-dropout-at", type=float, metavar="FRACTION",
                        help="the timestep fraction where latent dropout starts (IF-Edit: 0.9, Wan 2.2 A14B's expert switch)")
    parser.add_argument("--vlm", choices=VLM_BACKENDS, dest="vlm_backend",
                        help="VLM backend for captions and selection, and use it for both unless --captioner/--selector "
                             "say otherwise: openai (GPT-4o or any OpenAI-compatible server) or local (a transformers "
                             "model in this process, no key; Qwen2.5-VL-7B, or the tiny one with --preset tiny) "
                             "(default: the preset's; paper: openai, open: local)")
    parser.add_argument("--vlm-model", help="VLM for captions and selection: a model the server serves, or with --vlm local "
                                            "a hub id or folder (default: the preset's: gpt-4o; open: Qwen/Qwen2.5-VL-7B-Instruct)")
    parser.add_argument("--vlm-base-url", help="OpenAI-compatible server URL (default: $OPENAI_BASE_URL, else OpenAI)")


def resolve_preset(args: argparse.Namespace) -> Preset:
    """Read `--preset` once, where the user gave it; everything below gets the `Preset` object."""
    args.preset = get_preset(args.preset)
    return args.preset


def check_steps(args: argparse.Namespace) -> None:
    if getattr(args, "num_inference_steps", None) is not None and args.num_inference_steps < 1:
        raise F2FError(f"--steps {args.num_inference_steps}: use at least 1 denoising step (paper: 50).")


def editor_options(args: argparse.Namespace) -> dict:
    """Keyword arguments of `make_editor(args.method, args.preset, ...)` from the parsed editor options."""
    check_steps(args)
    if args.method != "f2f":
        given = [flag for flag, name in F2F_ONLY if getattr(args, name, None) is not None]
        if getattr(args, "caption", None) is not None:
            given.insert(1, "--caption")
        if given:
            raise F2FError(f"{', '.join(given)} only apply to --method f2f; {args.method} edits from the target caption alone.")
        return {"device": args.device, "offload": args.offload, "num_inference_steps": args.num_inference_steps}
    backend = getattr(args, "vlm_backend", None)
    if args.vlm_base_url and (backend or getattr(args.preset, "vlm_backend", "openai")) == "local":
        raise F2FError("--vlm-base-url names an OpenAI-compatible server; the local VLM runs in this process. "
                       "Drop one of them (or add --vlm openai).")
    # Asking for a VLM backend means using it: both stages ask the VLM unless told otherwise.
    stage = "vlm" if backend else None
    return {
        "video_backend": getattr(args, "video_backend", None), "geometry": getattr(args, "geometry", None),
        "device": args.device, "offload": args.offload, "captioner": args.captioner or stage,
        "selector": args.selector or stage, "num_frames": args.num_frames, "num_inference_steps": args.num_inference_steps,
        "vlm_model": args.vlm_model, "vlm_backend": backend, "refine": getattr(args, "refine", None),
        "latent_dropout": getattr(args, "latent_dropout", None), "latent_dropout_at": getattr(args, "latent_dropout_at", None),
        "vlm_options": {"base_url": args.vlm_base_url} if args.vlm_base_url else None,
    }
