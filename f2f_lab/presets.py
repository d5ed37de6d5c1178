"""Presets are data: model ids and numbers, nothing else.

`paper` is the paper's configuration exactly (Sec. 5.2 and appendix E): CogVideoX-5B I2V,
720x480, 49 frames, 50 steps, guidance 6, 8 fps, every 4th frame shown to the VLM (12
tiles), 512x512 output, VLM captions (B.1) and VLM frame selection (C.1). The sampler is
the model's own scheduler as diffusers loads it (CogVideoXDDIMScheduler, v-prediction) with
`use_dynamic_cfg` left at diffusers' default (off), as on the model card.

`open` is `paper` with an open-weights VLM running in this process for both VLM steps
(Qwen/Qwen2.5-VL-7B-Instruct through transformers, `vlm.local`): real edits on a GPU with no
API key and no server; one 80 GB GPU, or a 24 GB one with offload ("open:offload=true").

`tiny` runs the same classes with small random weights on a CPU in seconds. Its outputs
are noise: it proves the plumbing, never the quality.

Add-ons register presets of their own (`register_preset`): the toy world's `toy` edits its
images with its learned toy video model and a selector that fits the renderer's factors.

Speed and memory presets (docs/PERFORMANCE.md); their settings are `Preset.levers`:
- `fast`: the paper's outputs (same frames, steps, guidance) with exact levers only: fused
  QKV, cuDNN attention first, the transformer blocks compiled, cuDNN-tuned VAE convolutions.
- `turbo`: approximate: `fast`'s kernels plus FasterCache and 30 steps instead of 50. The
  video differs from the paper's; whether the edits are as good needs real weights (the
  ablation notebook compares it with `paper` on the same seeds).
- `lowvram`: the paper's outputs on a 24 GB GPU: model CPU offload, VAE tiling and slicing.

Every command that takes `--preset` also takes a spec with changed fields,
"paper:num_inference_steps=30,fuse_qkv=true" (`get_preset`); the changed preset is named
by the whole spec, so records and tables say what ran.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .constraints import Choice, Optional, Real, Size, Text, Whole, check_fields, check_value
from .errors import F2FError
from .refine import check_refine
from .video import has_own_frames
from .video.backends import BACKENDS, get_backend
from .video.latent_dropout import check_latent_dropout
from .video.levers import ATTENTION_BACKENDS, CACHES, LEVER_CONSTRAINTS, LEVER_FIELDS, OFFLOAD_MODES, Levers, check_cache  # noqa: F401  (re-exported)
from .vlm import BACKENDS as VLM_BACKENDS  # noqa: F401  (re-exported)

TINY_NOTICE = (
    "TINY PRESET: the models have small random weights, so the video and the edit are noise. "
    "This run proves the plumbing only; use --preset paper on a GPU for real edits."
)



@dataclass(frozen=True)
class Preset:
    """What a run uses: model ids, the paper's numbers, the VLM and CLIP, and the levers.

    Fields of `levers` can be given to `with_options` and in specs by their own names
    ("paper:offload=true") or with the prefix ("paper:levers.offload=true").
    """

    name: str
    video_backend: str = "cogvideox"  # a key of `video.BACKENDS`: which image-to-video model walks the path
    video_model: str = "THUDM/CogVideoX-5b-I2V"  # its hub id, a local folder, or a registered id ("tiny", "toy")
    canvas: tuple[int, int] = (720, 480)  # (width, height) generated; for geometry "aspect" its area is the budget
    geometry: str = "letterbox"  # "letterbox": fit on black, crop back (the paper); "aspect": the source's shape
    num_frames: int = 49
    num_inference_steps: int = 50
    guidance_scale: float = 6.0
    guidance_scale_2: float | None = None  # the low-noise expert's guidance (two-expert Wan 2.2)
    fps: int = 8
    output_size: int = 512  # longer side of the cropped-back edit
    num_tiles: int = 12  # frame selection sees this many evenly spaced frames ending at the last (every 4th of 49)
    # Beyond the paper (IF-Edit, arXiv 2511.19435), all off by default:
    latent_dropout: int | None = None  # keep every K-th latent frame (and the first and last) once t < latent_dropout_at * 1000
    latent_dropout_at: float = 0.9  # IF-Edit's threshold: Wan 2.2 A14B's expert switch; a timestep fraction elsewhere
    refine: str | None = None  # post-refinement of the chosen frame: "selected" (the selector's) or "sharpest" (IF-Edit)
    captioner: str = "vlm"
    selector: str = "vlm"
    vlm_model: str = "gpt-4o"
    vlm_backend: str = "openai"  # "openai": `vlm.VLMClient` (GPT-4o, any compatible server); "local": `vlm.LocalVLM`
    clip_model: str = "ViT-B-32"
    clip_pretrained: str | None = "openai"
    levers: Levers = field(default_factory=Levers)

    @property
    def is_tiny(self) -> bool:
        return self.video_model == "tiny"

    def to_dict(self) -> dict:
        return asdict(self)

    def check(self) -> "Preset":
        """F2FError for any setting that cannot run; the one check of a run's settings, before anything loads.

        `Frame2Frame.from_preset`, the CLI (through it) and the speed harness call it: frame
        and step counts, the video model's frame rule, the levers, refinement, latent dropout,
        the cache on this video model (and with latent dropout).
        """
        check_fields(self, PRESET_CONSTRAINTS)  # each field's type and range
        if not isinstance(self.levers, Levers):
            raise F2FError(f"levers must be a Levers; got {self.levers!r}.")
        if not has_own_frames(self.video_model):
            backend = get_backend(self.video_backend)
            backend.check_num_frames(self.num_frames)
            backend.check_steps(self.num_inference_steps)
            multiple = max(backend.size_multiple, 16 if self.is_tiny else 1)  # the tiny stand-ins are built on 16 px
            if self.canvas[0] % multiple or self.canvas[1] % multiple:
                raise F2FError(f"canvas={self.canvas[0]}x{self.canvas[1]}: {backend.key}{' (tiny)' if self.is_tiny else ''} "
                               f"needs sides that are multiples of {multiple} (its default: "
                               f"{'x'.join(map(str, backend.tiny_canvas if self.is_tiny else backend.canvas))}).")
        self.levers.check()
        check_refine(self.refine)
        if self.latent_dropout is not None:  # a backend without a plain frame axis is refused here
            check_latent_dropout(self.video_backend, self.latent_dropout, self.latent_dropout_at, self.num_frames)
        if not has_own_frames(self.video_model):  # the cache on this video model, and with latent dropout
            check_cache(self.levers.cache, get_backend(self.video_backend), tiny=self.is_tiny,
                        latent_dropout=self.latent_dropout, latent_dropout_at=self.latent_dropout_at)
        return self

    def with_options(self, **changes) -> "Preset":
        """This preset with some fields (or levers) changed; None values are ignored.

        A changed `video_backend` applies that model's defaults first (`with_video_backend`).
        """
        return self.changed({k: v for k, v in changes.items() if v is not None})

    def changed(self, changes: dict[str, Any]) -> "Preset":
        """This preset with `changes` applied, None included (a spec's "cache=none" turns a lever off).

        The one way changes are applied, for options (`with_options`) and specs (`get_preset`):
        a new video backend brings its own defaults first, then the other fields change those.
        """
        changes = dict(changes)
        backend = changes.pop("video_backend", self.video_backend)
        preset = with_video_backend(self, backend) if backend != self.video_backend else self
        known = {f.name for f in fields(Preset)} - {"levers"}
        lever_changes = {_lever_name(k): changes.pop(k) for k in list(changes) if _lever_name(k) is not None}
        unknown = [k for k in changes if k not in known]
        if unknown:
            raise F2FError(f"Unknown preset field {', '.join(unknown)}. Fields: {', '.join(sorted(known | set(LEVER_FIELDS)))}.")
        if isinstance(changes.get("canvas"), list):
            changes["canvas"] = tuple(changes["canvas"])
        for key, value in changes.items():  # a wrong value fails here, naming its field, not deep in a run
            if key in PRESET_CONSTRAINTS:
                check_value(key, value, PRESET_CONSTRAINTS[key])
        for key, value in lever_changes.items():
            check_value(key, value, LEVER_CONSTRAINTS[key])
        levers = replace(preset.levers, **lever_changes) if lever_changes else preset.levers
        return replace(preset, levers=levers, **changes)

# What each field may hold (scikit-learn's `_parameter_constraints`, `constraints`): `Preset.check` and every
# change (`Preset.changed`, so specs and options too) refuse anything else in one line naming the field. The
# rules between fields (a backend's frames, steps and canvas multiple; latent dropout; caches) stay in `check`.
PRESET_CONSTRAINTS = {
    "video_backend": Choice(tuple(BACKENDS)),
    "video_model": Text(),
    "canvas": Size(16),  # the smallest side any backend's VAE and patching take
    "geometry": Choice(("letterbox", "aspect")),
    "num_frames": Whole(1, hint="the paper: 49"),
    "num_inference_steps": Whole(1, hint="the paper: 50"),
    "guidance_scale": Real(0, hint="the paper: 6"),
    "guidance_scale_2": Optional(Real(0)),
    "fps": Whole(1, 240, hint="the paper: 8"),
    "output_size": Whole(16, hint="pixels, the longer side; the paper: 512"),  # the video writer needs even sides of 2 px or more; 16 keeps any accepted shape there
    "num_tiles": Whole(1, hint="the paper: 12"),
    "latent_dropout": Optional(Whole(1, hint="keep every K-th latent frame, K >= 1; IF-Edit: 3")),  # none turns it off; 0 is refused, not read as off
    "latent_dropout_at": Real(0, 1, low_open=True, hint="a fraction of the timesteps; IF-Edit: 0.9"),
    "refine": Optional(Text()),  # its choices: `refine.check_refine`
    "captioner": Text(),  # its choices: `captions.CAPTIONERS`, checked where the stage is made, before the video model
    "selector": Text(),  # its choices: `selection.SELECTORS` (add-ons register more), checked likewise
    "vlm_model": Text(),
    "vlm_backend": Choice(VLM_BACKENDS),
    "clip_model": Text(),
    "clip_pretrained": Optional(Text()),
}

PRESETS: dict[str, Preset] = {
    "paper": Preset(name="paper"),
    "tiny": Preset(
        name="tiny",
        video_model="tiny",
        canvas=(96, 64),  # same 3:2 shape as 720x480; the tiny transformer is built for it
        num_frames=17,  # CogVideoX's VAE needs 8k+1 frames
        num_tiles=4,  # frames 4, 8, 12, 16: the paper's spacing of every 4th frame
        num_inference_steps=4,
        captioner="template",
        selector="clip",
        clip_model="tiny",
        clip_pretrained=None,
    ),
    # The paper's video settings and instructions, with an open VLM in this process for both
    # steps (no key, no server): Qwen2.5-VL-7B-Instruct, moved to the GPU only while it answers.
    "open": Preset(name="open", vlm_backend="local", vlm_model="Qwen/Qwen2.5-VL-7B-Instruct"),
    "fast": Preset(
        name="fast",
        levers=Levers(fuse_qkv=True, attention_backend="cudnn", compile_transformer=True, cudnn_benchmark=True),
    ),
    "turbo": Preset(
        name="turbo",
        num_inference_steps=30,  # approximate: fewer steps than the paper's 50
        # approximate: FasterCache, diffusers' documented CogVideoX-5b settings
        levers=Levers(cache="faster", fuse_qkv=True, attention_backend="cudnn", cudnn_benchmark=True),
    ),
    "lowvram": Preset(
        name="lowvram",
        levers=Levers(offload=True, offload_mode="model", vae_tiling=True, vae_slicing=True, fuse_qkv=True,
                      attention_backend="cudnn"),
    ),
}


def with_video_backend(preset: Preset, key: str, *, name: str | None = None) -> Preset:
    """`preset` with another image-to-video model, at that model's card defaults.

    The backend's hub id, size, geometry, frames, steps, guidance and fps replace the
    preset's (the paper's 49 frames and guidance 6 are CogVideoX's numbers, not another
    model's); the VLM, selection, output size and levers stay. A tiny preset gets the
    backend's tiny stand-in at its tiny size and frame count, keeping its few steps.
    """
    backend = get_backend(key)
    if has_own_frames(preset.video_model):
        raise F2FError(f"The {preset.name} preset has its own video model ('{preset.video_model}'); "
                       "choose --video-model with another preset.")
    name = name or _spec_with(preset.name, "video_backend", key)
    common = dict(name=name, video_backend=key, geometry=backend.geometry, guidance_scale_2=backend.guidance_scale_2)
    if preset.is_tiny:
        return replace(preset, canvas=backend.tiny_canvas, num_frames=backend.tiny_frames, **common)
    return replace(
        preset, video_model=backend.hub_id, canvas=backend.canvas, num_frames=backend.num_frames,
        num_inference_steps=backend.num_inference_steps, guidance_scale=backend.guidance_scale, fps=backend.fps, **common,
    )


def _spec_with(name: str, key: str, value: Any) -> str:
    return f"{name}{',' if ':' in name else ':'}{key}={value}"


# One preset per backend: the paper's pipeline (VLM captions, VLM selection, 12 tiles, 512 px)
# with that model at its card's defaults.
PRESETS.update({key: with_video_backend(PRESETS["paper"], key, name=key) for key in BACKENDS if key != "cogvideox"})

# IF-Edit's recipe (arXiv 2511.19435) on its model, every choice sourced in the README ("IF-Edit's
# recipe"): Wan 2.2 I2V A14B, 33 frames (its 32, as 4k+1), chain-of-thought temporal captions,
# temporal latent dropout K=3 from the expert switch (0.9), post-refinement of the sharpest late
# frame instead of VLM selection. Its 8 steps need the Wan 2.2 Lightning LoRA, which it does not
# name; without a LoRA the card's 40 steps stay.
PRESETS["ifedit"] = replace(
    with_video_backend(PRESETS["paper"], "wan2.2-a14b", name="ifedit"), num_frames=33, captioner="cot", selector="last",
    latent_dropout=3, latent_dropout_at=0.9, refine="sharpest",
)
# The same recipe on the tiny stand-ins (Wan 2.2 A14B's two experts included) and the tiny local VLM,
# offline on a CPU: the plumbing of every option at once; the outputs are noise.
PRESETS["tiny-ifedit"] = replace(
    with_video_backend(PRESETS["tiny"], "wan2.2-a14b", name="tiny-ifedit"), num_frames=17, captioner="cot",
    selector="last", vlm_backend="local", vlm_model="tiny", latent_dropout=3, latent_dropout_at=0.9, refine="sharpest",
)


def register_preset(preset: Preset) -> Preset:
    """Add a preset of an add-on to `PRESETS` (its name must be new), so every `--preset` takes it."""
    if preset.name in PRESETS and PRESETS[preset.name] != preset:
        raise F2FError(f"A different preset named '{preset.name}' is already registered.")
    PRESETS[preset.name] = preset
    return preset


def parse_value(raw: str) -> Any:
    """A spec value: true/false, none, an integer, a decimal, or else the text itself."""
    lowered = raw.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw.strip()


def get_preset(spec: str | Preset) -> Preset:
    """A preset by name, or a spec with changed fields: "paper:num_inference_steps=30,fuse_qkv=true".

    A `Preset` is returned as it is, so callers resolve a name once and pass the object down.
    """
    if isinstance(spec, Preset):
        return spec
    name, colon, changes = str(spec).partition(":")
    try:
        preset = PRESETS[name.strip()]
    except KeyError:
        raise F2FError(f"Unknown preset '{name}'. Choose one of: {', '.join(PRESETS)}.") from None
    if not colon:
        return preset
    known = sorted(({f.name for f in fields(Preset)} - {"name", "levers"}) | set(LEVER_FIELDS))
    values: dict[str, Any] = {}
    for item in changes.split(","):
        key, sep, raw = (part.strip() for part in item.partition("="))
        if not sep or key.removeprefix("levers.") not in known:
            raise F2FError(f"Cannot read '{item}' in preset '{spec}': write FIELD=VALUE with a preset field ({', '.join(known)}).")
        value = parse_value(raw)
        if key == "canvas" and isinstance(value, str):  # canvas=720x480
            width, _, height = value.lower().partition("x")
            if not (width.strip().isdigit() and height.strip().isdigit()):
                raise F2FError(f"canvas={raw!r} in preset '{spec}': write canvas=WIDTHxHEIGHT, e.g. canvas=720x480.")
            value = (int(width), int(height))
        values[key] = value
    return replace(preset.changed(values), name=str(spec))


def _lever_name(key: str) -> str | None:
    """The `Levers` field a preset key names ("offload" or "levers.offload"), else None."""
    name = key.removeprefix("levers.")
    return name if name in LEVER_FIELDS else None
