"""The command-line options every `f2f` command shares, declared once, in one table.

Each row of `OPTIONS` is one flag: the preset field (or editor keyword) it sets, its type
and its help. The parsers' options are made from the rows (`add_options`), and so are the
changes a parsed command makes to a preset (`preset_overrides`) and the keyword arguments
of `editors.make_editor` (`editor_options`), which refuses Frame2Frame-only options for a
single-step method.

`--preset` (a name or a spec, "paper:num_inference_steps=30") is read once, by `resolve_preset`.
This module imports argparse and data only, so `f2f --help` stays fast.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from ..captions import CAPTIONERS
from ..editors import METHODS
from ..errors import F2FError
from ..presets import PRESETS, VLM_BACKENDS, Preset, get_preset
from ..refine import REFINE_MODES
from ..selection import SELECTORS
from ..video.backends import BACKENDS, GEOMETRIES

PRESET_METAVAR = "NAME[:FIELD=VALUE,...]"


@dataclass(frozen=True)
class Option:
    """One flag: the preset field (or editor keyword) it sets, and how argparse reads it.

    `preset_field`: it changes the preset's field of that name (else it is an editor keyword
    such as `device`). `f2f_only`: it only means something to Frame2Frame.
    """

    flag: str
    field: str
    help: str
    type: Any = None
    choices: Any = None
    metavar: str | None = None
    store_true: bool = False
    preset_field: bool = True
    f2f_only: bool = True
    argparse: dict = field(default_factory=dict)

    def add_to(self, parser: argparse.ArgumentParser, *, flag: str | None = None, help: str | None = None, **overrides) -> None:
        """Add this option to `parser` (its dest is `field`); `flag`, `help` and argparse keywords may be changed."""
        if self.store_true:
            kwargs: dict[str, Any] = {"action": "store_true", "default": None}
        else:
            kwargs = {"type": self.type, "choices": self.choices, "metavar": self.metavar}
        kwargs = {**{k: v for k, v in kwargs.items() if v is not None or k == "default"}, **self.argparse, **overrides}
        parser.add_argument(flag or self.flag, dest=self.field, help=help or self.help, **kwargs)


# The table, in help order.
OPTIONS = (
    Option("--device", "device", "torch device (default: cuda when available, else cpu)", preset_field=False, f2f_only=False),
    Option("--offload", "offload", "model CPU offload and VAE tiling (less GPU memory)", store_true=True, f2f_only=False),
    Option("--video-model", "video_backend",
           f"the image-to-video model, at its card's defaults: {', '.join(BACKENDS)} "
           "(default: the preset's; paper: cogvideox; `f2f models` lists them)", choices=BACKENDS, metavar="KEY"),
    Option("--geometry", "geometry",
           "letterbox: fit on black and crop back (the paper's); aspect: generate at the source's "
           "aspect ratio within the model's pixel budget (default: the video model's)", choices=GEOMETRIES),
    Option("--captioner", "captioner", "temporal caption source (default: the preset's)", choices=CAPTIONERS),
    Option("--selector", "selector", "frame selector (default: the preset's)", choices=SELECTORS),
    Option("--frames", "num_frames", "frames to generate (CogVideoX 8k+1, paper: 49; each model's rule in `f2f models`)",
           type=int),
    Option("--steps", "num_inference_steps", "denoising steps (paper: 50)", type=int, f2f_only=False),
    Option("--guidance", "guidance_scale", "guidance scale (default: the preset's; paper: 6)", type=float),
    Option("--refine", "refine",
           "IF-Edit's post-refinement, beyond the paper: re-run the video model as a short still video "
           "from the selector's frame (selected) or the sharpest late frame (sharpest), and keep its "
           "sharpest frame (default: off)", choices=REFINE_MODES),
    Option("--latent-dropout", "latent_dropout",
           "IF-Edit's temporal latent dropout, beyond the paper: keep every K-th latent frame (and the "
           "first and last) once the timestep falls below --latent-dropout-at (IF-Edit: K=3; default: off)",
           type=int, metavar="K"),
    Option("--latent-dropout-at", "latent_dropout_at",
           "the timestep fraction where latent dropout starts (IF-Edit: 0.9, Wan 2.2 A14B's expert switch)",
           type=float, metavar="FRACTION"),
    Option("--vlm", "vlm_backend",
           "VLM backend for captions and selection, and use it for both unless --captioner/--selector "
           "say otherwise: openai (GPT-4o or any OpenAI-compatible server) or local (a transformers "
           "model in this process, no key; Qwen2.5-VL-7B, or the tiny one with --preset tiny) "
           "(default: the preset's; paper: openai, open: local)", choices=VLM_BACKENDS),
    Option("--vlm-model", "vlm_model",
           "VLM for captions and selection: a model the server serves, or with --vlm local "
           "a hub id or folder (default: the preset's: gpt-4o; open: Qwen/Qwen2.5-VL-7B-Instruct)"),
    Option("--vlm-base-url", "vlm_base_url", "OpenAI-compatible server URL (default: $OPENAI_BASE_URL, else OpenAI)",
           preset_field=False),
    Option("--vlm-timeout", "vlm_timeout", "seconds to wait for one answer of an OpenAI-compatible VLM (default: 120)",
           type=float, metavar="SECONDS", preset_field=False),
    Option("--vlm-retries", "vlm_retries", "further attempts after a VLM timeout, connection error or HTTP 429/5xx "
           "(default: 3)", type=int, metavar="N", preset_field=False),
)
# The options that go to the OpenAI-compatible client (`vlm_options`), by its keyword names.
VLM_CLIENT_OPTIONS = {"vlm_base_url": "base_url", "vlm_timeout": "timeout", "vlm_retries": "max_retries"}
OPTION = {option.field: option for option in OPTIONS}
# The editing commands' options (edit, demo, bench tedbench|posedit): every row but guidance,
# which only the manifold study's FLUX sets take.
EDITOR_FIELDS = tuple(option.field for option in OPTIONS if option.field != "guidance_scale")
# Options that only mean something to Frame2Frame (flag, attribute of the parsed args).
F2F_ONLY = tuple((OPTION[name].flag, name) for name in EDITOR_FIELDS if OPTION[name].f2f_only)


def add_options(parser: argparse.ArgumentParser, fields=EDITOR_FIELDS, **helps: str) -> None:
    """Add the table's options for `fields` to `parser`, in table order; `helps` changes a field's help text."""
    for name in fields:
        OPTION[name].add_to(parser, help=helps.get(name))


def preset_overrides(args: argparse.Namespace, fields=EDITOR_FIELDS) -> dict[str, Any]:
    """The preset fields the parsed options change: {field: value} for each preset-field option given."""
    return {name: getattr(args, name) for name in fields
            if OPTION[name].preset_field and getattr(args, name, None) is not None}


def add_preset_option(parser: argparse.ArgumentParser, default: str, help: str | None = None) -> None:
    """`--preset NAME[:FIELD=VALUE,...]`: a preset, optionally with fields or levers changed."""
    parser.add_argument(
        "--preset", default=default, metavar=PRESET_METAVAR,
        help=help or f"{', '.join(PRESETS)}, or one with changed fields, e.g. paper:num_inference_steps=30 (default: %(default)s)",
    )


def add_editor_options(parser: argparse.ArgumentParser, *, device_help: str | None = None) -> None:
    """The method, where it runs, and the Frame2Frame stages and numbers."""
    parser.add_argument("--method", default="f2f", choices=METHODS, help="Frame2Frame or a single-step baseline editor (default: %(default)s)")
    add_options(parser, EDITOR_FIELDS, **({"device": device_help} if device_help else {}))


def resolve_preset(args: argparse.Namespace) -> Preset:
    """Read `--preset` once, where the user gave it; everything below gets the `Preset` object."""
    args.preset = get_preset(args.preset)
    return args.preset


def check_steps(args: argparse.Namespace) -> None:
    if getattr(args, "num_inference_steps", None) is not None and args.num_inference_steps < 1:
        raise F2FError(f"--steps {args.num_inference_steps}: use at least 1 denoising step (paper: 50).")


def vlm_client_options(args: argparse.Namespace, backend: str = "openai") -> dict:
    """The OpenAI-protocol client's options the parsed flags give (base_url, timeout, max_retries), checked."""
    client = {key: getattr(args, name, None) for name, key in VLM_CLIENT_OPTIONS.items() if getattr(args, name, None) is not None}
    if client and backend == "local":
        given = ", ".join(OPTION[name].flag for name in VLM_CLIENT_OPTIONS if getattr(args, name, None) is not None)
        raise F2FError(f"{given} set an OpenAI-compatible server's client; the local VLM runs in this process. "
                       "Drop one of them (or add --vlm openai).")
    if client.get("timeout") is not None and not 0 < client["timeout"] < float("inf"):
        raise F2FError(f"--vlm-timeout {client['timeout']:g}: give a positive number of seconds (default: 120).")
    if client.get("max_retries") is not None and client["max_retries"] < 0:
        raise F2FError(f"--vlm-retries {client['max_retries']}: give 0 or more further attempts (default: 3).")
    return client


def editor_options(args: argparse.Namespace) -> dict:
    """Keyword arguments of `make_editor(args.method, args.preset, ...)` from the parsed editor options."""
    check_steps(args)
    if args.method != "f2f":
        given = [flag for flag, name in F2F_ONLY if getattr(args, name, None) is not None]
        if getattr(args, "caption", None) is not None:
            given.insert(1, "--caption")
        if given:
            raise F2FError(f"{', '.join(given)} only apply to --method f2f; {args.method} edits from the target caption alone.")
        return {name: getattr(args, name, None) for name in EDITOR_FIELDS if not OPTION[name].f2f_only}
    backend = getattr(args, "vlm_backend", None)
    client = vlm_client_options(args, backend or getattr(args.preset, "vlm_backend", "openai"))
    options = {name: getattr(args, name, None) for name in EDITOR_FIELDS if name not in VLM_CLIENT_OPTIONS}
    # Asking for a VLM backend means using it: both stages ask the VLM unless told otherwise; a preset's
    # captioner that already asks the VLM (tiny-ifedit's "cot") stays.
    stage = "vlm" if backend else None
    preset_captioner = getattr(args.preset, "captioner", None)
    options["captioner"] = options["captioner"] or (preset_captioner if stage and preset_captioner in ("vlm", "cot") else stage)
    options["selector"] = options["selector"] or stage
    options["vlm_options"] = client or None
    return options
