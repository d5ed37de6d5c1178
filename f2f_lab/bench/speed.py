"""How long each stage of an edit takes, how much memory it needs, and how close the video
model gets to the hardware's rate (issue 8; the figures are in docs/PERFORMANCE.md).

    f2f bench speed --preset fast --compare paper --repeat 3 --json speed.json

An edit is timed as users run it (`Frame2Frame.edit`, the preset's levers applied), after
warm-up edits that pay for lazy loading and compilation. The video stage is split further by
wrapping the pipeline's own pieces for the duration of the run: `encode_prompt` (text
encoding), `vae.encode` (the conditioning image), the scheduler's `scale_model_input` and
`step` (the start and end of each denoising step), `vae.decode` and the video processor's
`postprocess_video`. On a GPU every time stamp synchronises first, so a stage's time is the
GPU work it queued, and peak memory is `torch.cuda.max_memory_allocated` per stage; on a CPU
it is the process's peak resident set size (Linux's VmHWM, reset at each stage).

FLOPs: one forward of the CogVideoX denoiser is counted from its configuration (linear
layers plus attention), twice per step with classifier-free guidance. At 720x480x49 the real
5B model does about 3.3e14 per forward; 50 steps with guidance are 3.3e16, about 41 s at the
~800 TFLOP/s of bf16 matrix work measured on the task's H100, the floor we compare with.

`--random-weights full` builds the full-size CogVideoX-5B I2V architecture (and a T5 v1.1
XXL encoder) with random bf16 weights on the GPU, so timings need no download: time does not
depend on weight values, except for caches that decide from the data (First Block Cache).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable

from ..errors import F2FError
from ..presets import PRESETS, TINY_NOTICE, Preset, get_preset
from ..records import library_versions, write_json_atomic

SAMPLE_IMAGE = Path(__file__).resolve().parents[2] / "data" / "samples" / "cat.jpg"
SAMPLE_TARGET = "A photo of a cat yawning."

# bf16 dense matrix rate measured on the H100 of this project's device tool (issue 8): the
# rate of the FLOP floor that denoising times are compared with.
FLOOR_TFLOPS = 800.0

# The stages of one edit, in the order they run. `video_other` is the video stage's time
# outside the named pieces (latent preparation, rotary embeddings, offload moves, Python).
STAGES = (
    "caption", "text_encoding", "image_encoding", "denoising", "vae_decode", "postprocess",
    "video_other", "selection", "metrics",
)
TOTALS = ("video", "edit", "edit_with_metrics")

# -- The published CogVideoX-5B I2V configuration ---------------------------------------------
# Checked against the hub's THUDM/CogVideoX-5b-I2V model card (720x480 only, 49 frames at 8 fps,
# 226 text tokens, "3d_rope_pos_embed + learnable_pos_embed"), the diffusers conversion script
# (scripts/convert_cogvideox_to_diffusers.py: 42 layers, 48 heads, sample 60x90x49, patch 2, VAE
# scaling factor 0.7 for 5B, text encoder google/t5-v1_1-xxl) and diffusers' class defaults
# (time embedding 512, text embedding 4096, gelu-approximate, VAE blocks 128/256/256/512).

COGVIDEOX_5B_I2V_TRANSFORMER = dict(
    num_attention_heads=48, attention_head_dim=64, in_channels=32, out_channels=16,
    flip_sin_to_cos=True, freq_shift=0, time_embed_dim=512, text_embed_dim=4096, num_layers=42,
    dropout=0.0, attention_bias=True, sample_width=90, sample_height=60, sample_frames=49,
    patch_size=2, temporal_compression_ratio=4, max_text_seq_length=226,
    activation_fn="gelu-approximate", timestep_activation_fn="silu", norm_elementwise_affine=True,
    norm_eps=1e-5, spatial_interpolation_scale=1.875, temporal_interpolation_scale=1.0,
    use_rotary_positional_embeddings=True, use_learned_positional_embeddings=True,
)
COGVIDEOX_5B_I2V_VAE = dict(
    in_channels=3, out_channels=3,
    down_block_types=("CogVideoXDownBlock3D",) * 4, up_block_types=("CogVideoXUpBlock3D",) * 4,
    block_out_channels=(128, 256, 256, 512), latent_channels=16, layers_per_block=3, act_fn="silu",
    norm_eps=1e-6, norm_num_groups=32, temporal_compression_ratio=4, sample_height=480, sample_width=720,
    scaling_factor=0.7, force_upcast=True, use_quant_conv=False, use_post_quant_conv=False,
)
T5_V1_1_XXL_ENCODER = dict(  # google/t5-v1_1-xxl's config.json, encoder only
    vocab_size=32128, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
    relative_attention_num_buckets=32, relative_attention_max_distance=128, dropout_rate=0.1,
    layer_norm_epsilon=1e-6, feed_forward_proj="gated-gelu", is_encoder_decoder=False,
)
COGVIDEOX_SCHEDULER = dict(  # DDIM with v-prediction, zero terminal SNR, trailing spacing
    beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, num_train_timesteps=1000,
    prediction_type="v_prediction", rescale_betas_zero_snr=True, snr_shift_scale=1.0,
    timestep_spacing="trailing", set_alpha_to_one=True, clip_sample=False,
)


# -- FLOPs of the denoiser --------------------------------------------------------------------

@dataclass(frozen=True)
class DenoiserFlops:
    """Multiply-adds x 2 of one CogVideoX transformer forward for one video (batch 1)."""

    video_tokens: int
    text_tokens: int
    linear: float  # QKV, attention output and feed-forward projections of every block
    attention: float  # Q K^T and (softmax) V of every block
    embedding: float  # patch and text embeddings, output projection (small)

    @property
    def tokens(self) -> int:
        return self.video_tokens + self.text_tokens

    @property
    def per_forward(self) -> float:
        return self.linear + self.attention + self.embedding


def denoiser_flops(
    config: dict, *, num_frames: int = 49, height: int = 480, width: int = 720,
    vae_scale_spatial: int = 8, vae_scale_temporal: int = 4,
) -> DenoiserFlops:
    """FLOPs of one forward of a `CogVideoXTransformer3DModel` with this `config`.

    Tokens: latent frames x (H/8/p) x (W/8/p) video tokens plus the text tokens, all in one
    joint attention. Per block, with model width D and N tokens: QKV 3 x 2ND^2, output 2ND^2,
    feed-forward (4D inner, GELU) 2 x 2N(4D)D, i.e. 24ND^2; attention 2 x 2N^2D. Elementwise
    work (norms, rotary, modulation) is left out: it is memory traffic, not matrix math.
    """
    config = dict(config)
    width_d = config["num_attention_heads"] * config["attention_head_dim"]
    patch = config["patch_size"]
    patch_t = config.get("patch_size_t") or 1
    latent_frames = (num_frames - 1) // vae_scale_temporal + 1
    video_tokens = math.ceil(latent_frames / patch_t) * (height // vae_scale_spatial // patch) * (width // vae_scale_spatial // patch)
    text_tokens = config["max_text_seq_length"]
    tokens = video_tokens + text_tokens
    layers = config["num_layers"]
    ff_inner = 4 * width_d  # CogVideoXBlock's feed-forward (ff_inner_dim=None -> 4 x dim)
    linear = layers * (2 * tokens * width_d * 3 * width_d + 2 * tokens * width_d * width_d + 2 * 2 * tokens * width_d * ff_inner)
    attention = layers * 2 * 2 * tokens * tokens * width_d
    patch_in = config["in_channels"] * patch * patch * patch_t
    patch_out = (config["out_channels"] or config["in_channels"]) * patch * patch * patch_t
    embedding = 2 * video_tokens * patch_in * width_d + 2 * text_tokens * config["text_embed_dim"] * width_d
    embedding += 2 * video_tokens * width_d * patch_out
    return DenoiserFlops(video_tokens=video_tokens, text_tokens=text_tokens, linear=float(linear),
                         attention=float(attention), embedding=float(embedding))


# -- Full-size random-weight models -----------------------------------------------------------

def cogvideox_i2v_modules(
    dtype=None,
    *,
    transformer_config: dict = COGVIDEOX_5B_I2V_TRANSFORMER,
    vae_config: dict = COGVIDEOX_5B_I2V_VAE,
    text_encoder_config: dict = T5_V1_1_XXL_ENCODER,
) -> dict[str, Any]:
    """The transformer, VAE and T5 encoder of a CogVideoX I2V pipeline on the `meta` device.

    The configurations default to the published CogVideoX-5B I2V ones. No memory is
    allocated: parameters have shapes and no storage; `random_cogvideox_i2v` materialises them.
    """
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKLCogVideoX, CogVideoXTransformer3DModel
    from transformers import T5Config, T5EncoderModel

    with init_empty_weights(include_buffers=True):
        modules = {
            "transformer": CogVideoXTransformer3DModel(**transformer_config),
            "vae": AutoencoderKLCogVideoX(**vae_config),
            "text_encoder": T5EncoderModel(T5Config(**text_encoder_config)),
        }
    modules["text_encoder"].tie_weights()  # the encoder's embedding is `shared`, as when loaded
    if dtype is not None:
        for module in modules.values():
            module.to(dtype)
    return modules


def random_cogvideox_i2v(device: str = "cuda", dtype=None, seed: int = 0, **configs):
    """A `CogVideoXImageToVideoPipeline` with random weights, by default the full-size 5B one.

    Weights are N(0, 0.02) in `dtype` (bf16 by default), drawn on the device; the tokenizer is
    the tiny offline one (any ids it makes are valid T5 ids). The 5B pipeline takes about
    21 GB. `configs`: `transformer_config`, `vae_config`, `text_encoder_config` to change.
    """
    import torch
    from diffusers import CogVideoXDDIMScheduler, CogVideoXImageToVideoPipeline

    from ..tiny import tiny_t5

    dtype = dtype or torch.bfloat16
    modules = cogvideox_i2v_modules(dtype, **configs)
    generator = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        for module in modules.values():
            module.to_empty(device=device)
            for tensor in list(module.parameters()) + list(module.buffers()):
                if tensor.is_floating_point():
                    tensor.normal_(0.0, 0.02, generator=generator)
            module.eval()
    modules["text_encoder"].tie_weights()  # to_empty gives tied parameters separate storage
    tokenizer, _ = tiny_t5()
    return CogVideoXImageToVideoPipeline(
        tokenizer=tokenizer, scheduler=CogVideoXDDIMScheduler(**COGVIDEOX_SCHEDULER), **modules
    )


# -- Clocks and memory meters -----------------------------------------------------------------

class PeakMemory:
    """Peak memory per stage: CUDA tensor memory, or the process's resident set on a CPU.

    `switch(stage)` closes the current stage (its peak since it began) and opens the next.
    """

    def __init__(self, device: str):
        import torch

        self.cuda = device.startswith("cuda") and torch.cuda.is_available()
        self.kind = "cuda_max_memory_allocated" if self.cuda else ("rss_vmhwm" if _can_reset_rss() else "rss_ru_maxrss")
        self.peaks: dict[str, int] = defaultdict(int)
        self.stage = "other"
        self.reserved = 0

    def start(self, stage: str = "other") -> None:
        self._read_and_reset()
        self.stage = stage

    def clear(self) -> None:
        """Forget every peak so far (the warm-up's, with compilation and lazy loading)."""
        self.start()
        self.peaks.clear()
        self.reserved = 0

    def switch(self, stage: str) -> None:
        peak = self._read_and_reset()
        self.peaks[self.stage] = max(self.peaks[self.stage], peak)
        self.stage = stage

    @property
    def overall(self) -> int:
        return max(self.peaks.values(), default=0)

    def _read_and_reset(self) -> int:
        if self.cuda:
            import torch

            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated()
            self.reserved = max(self.reserved, torch.cuda.max_memory_reserved())
            torch.cuda.reset_peak_memory_stats()
            return peak
        if self.kind == "rss_vmhwm":
            peak = _vmhwm_bytes()
            _reset_rss_peak()
            return peak
        import resource  # not resettable: the process's peak since it started

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _vmhwm_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_rss_peak() -> None:
    # Linux: writing 5 to clear_refs resets VmHWM to the current resident set size.
    Path("/proc/self/clear_refs").write_text("5")


def _can_reset_rss() -> bool:
    try:
        _reset_rss_peak()
        return _vmhwm_bytes() > 0
    except OSError:
        return False


class StageClock:
    """Times the pieces of a CogVideoX pipeline call, by wrapping them for a `with` block.

    The wrappers are instance attributes over the pipeline's own methods and are removed on
    exit; nothing inside the transformer is touched, so compiled blocks stay whole.
    """

    PIECES = (
        ("text_encoding", "pipe", "encode_prompt"),
        ("image_encoding", "vae", "encode"),
        ("vae_decode", "vae", "decode"),
        ("postprocess", "video_processor", "postprocess_video"),
    )

    def __init__(self, pipe, device: str, memory: PeakMemory | None = None):
        import torch

        self.pipe = pipe
        self.memory = memory
        self.sync: Callable[[], None] = torch.cuda.synchronize if device.startswith("cuda") and torch.cuda.is_available() else (lambda: None)
        self._installed: list[tuple[Any, str]] = []
        self.reset()

    def reset(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.step_starts: list[float] = []
        self.step_ends: list[float] = []

    def now(self) -> float:
        self.sync()
        return time.perf_counter()

    def __enter__(self) -> "StageClock":
        owners = {"pipe": self.pipe, "vae": self.pipe.vae, "video_processor": self.pipe.video_processor}
        for stage, owner_name, method in self.PIECES:
            self._wrap(owners[owner_name], method, self._timed(stage))
        scheduler = self.pipe.scheduler
        self._wrap(scheduler, "scale_model_input", self._step_start)
        self._wrap(scheduler, "step", self._step_end)
        return self

    def __exit__(self, *exc) -> None:
        for owner, method in reversed(self._installed):
            delattr(owner, method)  # the class's method shows through again
        self._installed.clear()

    def _wrap(self, owner, method: str, make: Callable) -> None:
        if method in vars(owner):
            raise RuntimeError(f"{type(owner).__name__}.{method} is already wrapped")
        setattr(owner, method, make(getattr(owner, method)))
        self._installed.append((owner, method))

    def _timed(self, stage: str):
        def make(original):
            def timed(*args, **kwargs):
                start = self.now()
                if self.memory is not None:
                    self.memory.switch(stage)
                try:
                    return original(*args, **kwargs)
                finally:
                    self.seconds[stage] += self.now() - start
                    if self.memory is not None:
                        self.memory.switch("other")

            return timed

        return make

    def _step_start(self, original):
        def scale_model_input(*args, **kwargs):
            self.step_starts.append(self.now())
            if self.memory is not None and len(self.step_starts) == 1:
                self.memory.switch("denoising")
            return original(*args, **kwargs)

        return scale_model_input

    def _step_end(self, original):
        def step(*args, **kwargs):
            result = original(*args, **kwargs)
            self.step_ends.append(self.now())
            return result

        return step

    def step_seconds(self) -> list[float]:
        """Each step from its start to the next one's (the last to its own end)."""
        starts, ends = self.step_starts, self.step_ends
        if not starts or not ends:
            return []
        bounds = starts[1:] + [ends[-1]]
        return [b - a for a, b in zip(starts, bounds)]

    def close_denoising(self) -> None:
        """Attribute the memory of the steps to denoising (called once the loop is over)."""
        if self.memory is not None and self.memory.stage == "denoising":
            self.memory.switch("other")


# -- Reports ----------------------------------------------------------------------------------

@dataclass
class SpeedReport:
    """What `measure_speed` found for one configuration. Seconds are medians over repeats."""

    preset: str
    settings: dict[str, Any]
    device: dict[str, Any]
    versions: dict[str, str]
    load_seconds: float
    warmup_seconds: list[float]
    stages: dict[str, float | None]
    totals: dict[str, float | None]
    step_seconds: list[float]
    repeats: list[dict[str, Any]]
    flops: dict[str, Any]
    memory: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    result: Any = field(default=None, repr=False)  # the last measured EditResult (not in JSON)

    @property
    def edit_seconds(self) -> float:
        return self.totals["edit"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "f2f_speed", "preset": self.preset, "settings": self.settings, "device": self.device,
            "versions": self.versions, "load_seconds": self.load_seconds, "warmup_seconds": self.warmup_seconds,
            "stages": self.stages, "totals": self.totals, "step_seconds": self.step_seconds,
            "repeats": self.repeats, "flops": self.flops, "memory": self.memory, "notes": self.notes,
        }

    def table(self) -> str:
        """A plain-text table of the stages, FLOP rate and memory."""
        lines = [_title(self), f"{'stage':<16}{'seconds':>10}{'share':>8}{'peak memory':>14}"]
        edit = self.totals["edit"] or 0.0
        for stage in STAGES:
            seconds = self.stages.get(stage)
            share = f"{100 * seconds / edit:.1f}%" if seconds is not None and edit and stage != "metrics" else ""
            lines.append(f"{stage:<16}{_fmt_seconds(seconds):>10}{share:>8}{_fmt_bytes(self.memory['per_stage'].get(stage)):>14}")
        for total in TOTALS:
            lines.append(f"{total:<16}{_fmt_seconds(self.totals.get(total)):>10}")
        steps = self.step_seconds
        if steps:
            lines.append(f"denoising steps: {len(steps)}, median {_fmt_seconds(statistics.median(steps))} s, "
                         f"first {_fmt_seconds(steps[0])} s")
        lines += [_flops_line(self.flops), _memory_line(self.memory),
                  f"load {self.load_seconds:.2f} s, warm-up edits "
                  + (", ".join(f"{s:.2f}" for s in self.warmup_seconds) + " s" if self.warmup_seconds else "none")]
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


@dataclass
class SpeedComparison:
    """Two configurations measured in one run; ratios are a / b (above 1: b is faster)."""

    a: SpeedReport
    b: SpeedReport
    ratios: dict[str, float | None]
    memory_ratio: float | None
    output_difference: dict[str, Any] | None

    @property
    def speedup(self) -> float | None:
        return self.ratios.get("edit")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "f2f_speed_compare", "a": self.a.to_dict(), "b": self.b.to_dict(), "ratios": self.ratios,
            "speedup": self.speedup, "memory_ratio": self.memory_ratio, "output_difference": self.output_difference,
        }

    def table(self) -> str:
        a, b = self.a, self.b
        heads = [f"{a.preset} (s)", f"{b.preset} (s)", f"{a.preset}/{b.preset}"]
        w = [max(len(h), 10) + 2 for h in heads]
        lines = [f"a: {_title(a)}", f"b: {_title(b)}", f"{'stage':<18}{heads[0]:>{w[0]}}{heads[1]:>{w[1]}}{heads[2]:>{w[2]}}"]
        for name in STAGES + TOTALS:
            sa = a.stages.get(name, a.totals.get(name))
            sb = b.stages.get(name, b.totals.get(name))
            ratio = self.ratios.get(name)
            lines.append(f"{name:<18}{_fmt_seconds(sa):>{w[0]}}{_fmt_seconds(sb):>{w[1]}}{_fmt_ratio(ratio):>{w[2]}}")
        lines.append(f"{'peak memory':<18}{_fmt_bytes(a.memory['peak_bytes']):>{w[0]}}{_fmt_bytes(b.memory['peak_bytes']):>{w[1]}}"
                     f"{_fmt_ratio(self.memory_ratio):>{w[2]}}")
        lines.append(f"{'denoiser TFLOP/s':<18}{_fmt_tflops(a.flops):>{w[0]}}{_fmt_tflops(b.flops):>{w[1]}}")
        if self.speedup:
            lines.append(f"end to end per edit: {b.preset} is {self.speedup:.2f}x as fast as {a.preset}")
        if self.output_difference:
            d = self.output_difference
            lines.append(f"outputs (seed {a.settings['seed']}, {d['frames']} frames): max |diff| {d['max_abs']} of 255, "
                         f"mean {d['mean_abs']:.3f}, PSNR {d['psnr_db']:.1f} dB" + ("" if d["comparable"] else " (different settings)"))
        lines += [f"note ({r.preset}): {note}" for r in (a, b) for note in r.notes]
        return "\n".join(lines)


def _title(report: SpeedReport) -> str:
    s = report.settings
    models = "tiny models" if s["tiny_models"] else ("random-weight 5B" if s["random_weights"] else s["video_model"])
    return (f"{report.preset}: {models}, {s['canvas'][0]}x{s['canvas'][1]}x{s['num_frames']}, {s['num_inference_steps']} steps, "
            f"{report.device['name']} ({report.device['device']}), median of {s['repeat']} after {s['warmup']} warm-up")


def _fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.3f}" if seconds < 100 else f"{seconds:.1f}"


def _fmt_ratio(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


def _fmt_bytes(count: int | None) -> str:
    return "-" if not count else f"{count / 2**30:.2f} GiB"


def _fmt_tflops(flops: dict) -> str:
    value = flops.get("achieved_tflops")
    return "-" if value is None else (f"{value:.1f}" if value >= 1 else f"{value:.4f}")


def _flops_line(flops: dict) -> str:
    line = (f"denoiser: {flops['tokens']} tokens, {flops['per_forward']:.3g} FLOP/forward x {flops['forwards_per_step']} "
            f"x {flops['steps']} steps = {flops['total']:.3g} FLOP; {_fmt_tflops(flops)} TFLOP/s")
    if flops.get("fraction_of_floor") is not None:
        line += f" = {100 * flops['fraction_of_floor']:.0f}% of the {FLOOR_TFLOPS:.0f} TFLOP/s floor"
    if flops.get("cache"):
        line += " (paper-equivalent FLOPs: the cache skips some of them)"
    return line


def _memory_line(memory: dict) -> str:
    line = f"peak memory: {_fmt_bytes(memory['peak_bytes'])} ({memory['kind']})"
    if memory.get("reserved_bytes"):
        line += f", {_fmt_bytes(memory['reserved_bytes'])} reserved by the CUDA allocator"
    if memory.get("resident_bytes"):
        line += f"; {_fmt_bytes(memory['resident_bytes'])} before the edit"
    return line


# -- Measuring --------------------------------------------------------------------------------

def preset_from_spec(spec: str | Preset) -> Preset:
    """A preset, optionally with fields changed: "paper", "paper:attention_backend=cudnn,fuse_qkv=true".

    Values are read as true/false, none, integers, decimals, or else text; the changed preset
    is named by the whole spec, so tables say what ran.
    """
    if isinstance(spec, Preset):
        return spec
    name, _, changes = spec.partition(":")
    preset = get_preset(name)
    if not changes:
        return preset
    known = {f.name for f in fields(Preset)} - {"name"}
    values = {}
    for item in changes.split(","):
        key, sep, raw = (part.strip() for part in item.partition("="))
        if not sep or key not in known:
            raise F2FError(f"Cannot read '{item}' in '{spec}': write FIELD=VALUE with a Preset field ({', '.join(sorted(known))}).")
        values[key] = _parse_value(raw)
    return replace(preset, name=spec, **values)


def _parse_value(raw: str):
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


def on_tiny_models(preset: Preset) -> Preset:
    """`preset` with its levers and numbers, on the tiny random-weight models and stages."""
    tiny = PRESETS["tiny"]
    return replace(
        preset, name=f"{preset.name}@tiny", video_model=tiny.video_model, canvas=tiny.canvas, captioner=tiny.captioner,
        selector=tiny.selector, clip_model=tiny.clip_model, clip_pretrained=tiny.clip_pretrained,
    )


def measure_speed(
    preset: str | Preset = "tiny",
    *,
    num_frames: int | None = None,
    num_inference_steps: int | None = None,
    repeat: int = 3,
    warmup: int = 1,
    seed: int = 0,
    device: str | None = None,
    tiny_models: bool = False,
    random_weights: str | None = None,
    image=None,
    target: str = SAMPLE_TARGET,
    metrics: bool = True,
    progress: bool = True,
    **overrides,
) -> SpeedReport:
    """Time every stage of an edit with a preset, after `warmup` edits; medians of `repeat`.

    Args:
        preset: a preset name or `Preset` ("paper", "fast", "turbo", "lowvram", "tiny", ...),
            or a spec with changed fields, "paper:attention_backend=cudnn" (`preset_from_spec`).
        num_frames, num_inference_steps: override the preset's (8k+1 frames).
        repeat: measured edits; every stage reports its median.
        warmup: edits run first and not measured (lazy loading, torch.compile, cuDNN tuning).
        seed: the video seed of every edit (the same video each time).
        tiny_models: run the preset's levers and numbers on the tiny random-weight models.
        random_weights: "full" builds the full-size 5B architecture with random bf16 weights
            on the GPU instead of loading the hub's weights.
        image, target: what to edit (default: the bundled cat photo, "A photo of a cat yawning.").
        metrics: also time the metrics stage (`f2f_lab.metrics.Scorer`).
        overrides: other preset fields, e.g. `cache="pab"` or `captioner="template"`.
    """
    import torch

    from ..captions import make_captioner
    from ..imaging import load_image
    from ..pipeline import Frame2Frame
    from ..selection import make_selector
    from ..video import CogVideoXGenerator, Levers, apply_levers, check_num_frames, default_device

    if repeat < 1 or warmup < 0:
        raise F2FError("--repeat must be at least 1 and --warmup at least 0.")
    if random_weights not in (None, "full"):
        raise F2FError(f"Unknown --random-weights '{random_weights}'; the one choice is 'full'.")
    spec = preset_from_spec(preset)
    if tiny_models:
        spec = on_tiny_models(spec)
    spec = spec.with_options(num_frames=num_frames, num_inference_steps=num_inference_steps, **overrides)
    for name in ("num_frames", "num_inference_steps"):
        value = getattr(spec, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise F2FError(f"{name} must be a whole number of at least 1; got {value!r}.")
    check_num_frames(spec.num_frames)
    device = device or default_device()
    notes: list[str] = []
    if random_weights and spec.is_tiny:
        raise F2FError("--random-weights full builds the full-size model; it does not combine with tiny models.")
    if random_weights and not device.startswith("cuda"):
        raise F2FError("--random-weights full builds the 10-billion-parameter models (about 21 GB in bf16) on a GPU; "
                       "this machine has none. Use --preset tiny or --tiny-models on a CPU.")
    if spec.is_tiny:
        notes.append(TINY_NOTICE + " Timings are those of the tiny models on this device, not of CogVideoX-5B.")
    spec, substituted = _without_missing_vlm(spec)
    notes += substituted
    if random_weights:
        notes.append("Random bf16 weights of the real architecture: times and memory are the real model's; the video is noise.")
    if not device.startswith("cuda"):
        notes.append("CPU run: FLOP rates are not comparable with the GPU floor; memory is the process's peak RSS.")
    source = load_image(image if image is not None else SAMPLE_IMAGE)
    levers = Levers.from_preset(spec)
    cudnn_benchmark = torch.backends.cudnn.benchmark  # a lever sets it process-wide; put it back after

    memory = PeakMemory(device)
    try:
        start = time.perf_counter()
        captioner = make_captioner(spec.captioner, model=spec.vlm_model)
        selector = make_selector(
            spec.selector, vlm={"model": spec.vlm_model},
            clip={"model_name": spec.clip_model, "pretrained": spec.clip_pretrained, "device": device},
        )
        if random_weights:
            pipe = random_cogvideox_i2v(device=device, seed=seed)
            apply_levers(pipe, levers, device=device)
            pipe.set_progress_bar_config(disable=True)
            generator = CogVideoXGenerator(pipe, model_id="random-weights:CogVideoX-5b-I2V", device=device, levers=levers)
        else:
            generator = CogVideoXGenerator.from_pretrained(spec.video_model, canvas=spec.canvas, device=device, progress=False, levers=levers)
        # The caption and selection stages run inside `Frame2Frame.edit`; the proxies give
        # them their own memory buckets (their times come from the edit's own timings).
        editor = Frame2Frame(generator, _InStage(captioner, "caption", memory), _InStage(selector, "selection", memory), spec)
        scorer = _make_scorer(spec, device, random_weights, notes) if metrics else None
        _sync(device)
        load_seconds = time.perf_counter() - start

        def one_edit() -> tuple[Any, float, float | None]:
            _sync(device)
            t0 = time.perf_counter()
            result = editor.edit(source, target, seed=seed)
            _sync(device)
            t1 = time.perf_counter()
            metric_seconds = None
            if scorer is not None:
                memory.switch("metrics")
                scorer.score(result.source_output, result.image, target)
                memory.switch("other")
                _sync(device)
                metric_seconds = time.perf_counter() - t1
            return result, t1 - t0, metric_seconds

        warmup_seconds = []
        for _ in _progress(range(warmup), progress, "speed warm-up"):
            start = time.perf_counter()
            one_edit()
            warmup_seconds.append(time.perf_counter() - start)

        repeats, step_runs = [], []
        clock = StageClock(generator.pipe, device, memory)
        resident = _resident_bytes(device)
        memory.clear()
        with clock:
            for _ in _progress(range(repeat), progress, f"speed {spec.name}"):
                clock.reset()
                memory.start("other")
                result, edit_seconds, metric_seconds = one_edit()
                clock.close_denoising()
                memory.switch("other")
                repeats.append(_stages_of(result, clock, edit_seconds, metric_seconds))
                step_runs.append(clock.step_seconds())
    finally:
        torch.backends.cudnn.benchmark = cudnn_benchmark

    stages = {name: _median([r[name] for r in repeats]) for name in STAGES}
    totals = {name: _median([r[name] for r in repeats]) for name in TOTALS}
    step_seconds = [statistics.median(column) for column in zip(*step_runs)] if step_runs and step_runs[0] else []
    flops = _flops_of(generator.pipe, spec, stages["denoising"], device)
    report = SpeedReport(
        preset=spec.name,
        settings={
            **spec.to_dict(), "repeat": repeat, "warmup": warmup, "seed": seed, "tiny_models": spec.is_tiny,
            "random_weights": random_weights, "levers": levers.active(), "target": target,
            "dtype": str(generator.pipe.transformer.dtype).replace("torch.", ""),
        },
        device=_device_info(device),
        versions=_versions(),
        load_seconds=load_seconds,
        warmup_seconds=warmup_seconds,
        stages=stages,
        totals=totals,
        step_seconds=step_seconds,
        repeats=repeats,
        flops=flops,
        memory={"kind": memory.kind, "peak_bytes": memory.overall, "reserved_bytes": memory.reserved or None,
                "resident_bytes": resident, "per_stage": _memory_per_stage(memory)},
        notes=notes,
        result=result,
    )
    del editor, generator, scorer, clock
    _release(device)
    return report


def compare(a: str | Preset, b: str | Preset, **options) -> SpeedComparison:
    """Measure two configurations one after the other in this process and set them side by side.

    `options` go to both `measure_speed` calls. The two edits use the same seed, so their
    frames are compared too: for exact levers (`fast` against `paper`) the difference is the
    rounding of bf16 kernels; for approximate ones it is the change the levers made.
    """
    first = measure_speed(a, **options)
    second = measure_speed(b, **options)
    ratios = {}
    for name in STAGES + TOTALS:
        sa = first.stages.get(name, first.totals.get(name))
        sb = second.stages.get(name, second.totals.get(name))
        ratios[name] = sa / sb if sa is not None and sb else None
    peak_a, peak_b = first.memory["peak_bytes"], second.memory["peak_bytes"]
    return SpeedComparison(
        a=first, b=second, ratios=ratios,
        memory_ratio=peak_a / peak_b if peak_a and peak_b else None,
        output_difference=frames_difference(first, second),
    )


def frames_difference(a: SpeedReport, b: SpeedReport) -> dict[str, Any] | None:
    """Pixel difference between the two reports' last videos (None when their shapes differ)."""
    import numpy as np

    if a.result is None or b.result is None:
        return None
    frames_a = np.stack([np.asarray(f, dtype=np.int16) for f in a.result.frames])
    frames_b = np.stack([np.asarray(f, dtype=np.int16) for f in b.result.frames])
    if frames_a.shape != frames_b.shape:
        return None
    diff = np.abs(frames_a - frames_b)
    mse = float((diff.astype(np.float64) ** 2).mean())
    same = ("num_frames", "num_inference_steps", "guidance_scale", "canvas", "seed", "cache")
    return {
        "frames": int(frames_a.shape[0]),
        "max_abs": int(diff.max()),
        "mean_abs": float(diff.mean()),
        "psnr_db": float("inf") if mse == 0 else 10 * math.log10(255**2 / mse),
        "comparable": all(a.settings.get(k) == b.settings.get(k) for k in same),
    }


# -- Helpers ----------------------------------------------------------------------------------

def _without_missing_vlm(spec: Preset) -> tuple[Preset, list[str]]:
    """Swap the VLM stages for offline ones when no VLM is configured, and say so."""
    if os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"):
        return spec, []
    notes, changes = [], {}
    if spec.captioner == "vlm":
        changes["captioner"] = "template"
        notes.append("No VLM configured (OPENAI_API_KEY / OPENAI_BASE_URL): the caption stage ran the template captioner.")
    if spec.selector == "vlm":
        changes["selector"] = "last"
        notes.append("No VLM configured: the selection stage ran the last-frame selector (a VLM call adds its network time).")
    return replace(spec, **changes), notes


class _InStage:
    """A stage object (captioner, selector) whose calls count as `stage` for peak memory."""

    def __init__(self, stage_object, stage: str, memory: PeakMemory):
        self.stage_object = stage_object
        self.stage = stage
        self.memory = memory

    def __getattr__(self, name):
        return getattr(self.stage_object, name)

    def __call__(self, *args, **kwargs):
        self.memory.switch(self.stage)
        try:
            return self.stage_object(*args, **kwargs)
        finally:
            self.memory.switch("other")


def _make_scorer(spec: Preset, device: str, random_weights: str | None, notes: list[str]):
    try:
        from ..metrics import Scorer
    except ImportError:
        notes.append("f2f_lab.metrics is not available: the metrics stage was not timed.")
        return None
    if random_weights:  # the paper's architectures, random weights: no download
        notes.append("Metrics ran ViT-B-32 and AlexNet LPIPS with random weights (same architectures, no download).")
        return Scorer(clip_model="ViT-B-32", clip_pretrained=None, lpips_backbone="random", device=device)
    return Scorer.from_preset(spec, device=device)


def _stages_of(result, clock: StageClock, edit_seconds: float, metric_seconds: float | None) -> dict[str, Any]:
    inner = {name: clock.seconds.get(name, 0.0) for name in ("text_encoding", "image_encoding", "vae_decode", "postprocess")}
    steps = clock.step_seconds()
    denoising = sum(steps)
    video = result.timings["video"]
    return {
        "caption": result.timings.get("caption"),
        **inner,
        "denoising": denoising,
        "video_other": max(video - denoising - sum(inner.values()), 0.0),
        "selection": result.timings.get("selection"),
        "metrics": metric_seconds,
        "video": video,
        "edit": edit_seconds,
        "edit_with_metrics": edit_seconds + (metric_seconds or 0.0),
        "steps": len(steps),
    }


def _flops_of(pipe, spec: Preset, denoising_seconds: float | None, device: str) -> dict[str, Any]:
    width, height = spec.canvas
    counted = denoiser_flops(
        dict(pipe.transformer.config), num_frames=spec.num_frames, height=height, width=width,
        vae_scale_spatial=pipe.vae_scale_factor_spatial, vae_scale_temporal=pipe.vae_scale_factor_temporal,
    )
    forwards_per_step = 2 if spec.guidance_scale > 1.0 else 1  # guidance batches the unconditional video
    total = counted.per_forward * forwards_per_step * spec.num_inference_steps
    achieved = total / denoising_seconds / 1e12 if denoising_seconds else None
    on_h100 = device.startswith("cuda") and "H100" in _device_info(device)["name"]
    return {
        "tokens": counted.tokens, "video_tokens": counted.video_tokens, "text_tokens": counted.text_tokens,
        "linear_per_forward": counted.linear, "attention_per_forward": counted.attention,
        "embedding_per_forward": counted.embedding, "per_forward": counted.per_forward,
        "forwards_per_step": forwards_per_step, "steps": spec.num_inference_steps, "total": total,
        "achieved_tflops": achieved, "floor_tflops": FLOOR_TFLOPS,
        "floor_seconds": total / (FLOOR_TFLOPS * 1e12),
        "fraction_of_floor": achieved / FLOOR_TFLOPS if achieved is not None and on_h100 else None,
        "cache": spec.cache,
    }


def _memory_per_stage(memory: PeakMemory) -> dict[str, int]:
    return {stage: peak for stage, peak in memory.peaks.items() if peak}


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        torch.cuda.synchronize()


def _resident_bytes(device: str) -> int | None:
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.memory_allocated()
    try:
        import psutil

        return psutil.Process().memory_info().rss
    except ImportError:
        return None


def _release(device: str) -> None:
    gc.collect()
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        torch.cuda.empty_cache()


def _device_info(device: str) -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {"device": device, "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()}
    if hasattr(os, "getloadavg"):  # other work on the machine slows a run down; say how much there was
        info["load_average_1min"] = round(os.getloadavg()[0], 2)
    if device.startswith("cuda") and torch.cuda.is_available():
        index = torch.device(device).index or 0
        props = torch.cuda.get_device_properties(index)
        info.update(name=torch.cuda.get_device_name(index), memory_bytes=props.total_memory,
                    capability=f"{props.major}.{props.minor}")
    else:
        info["name"] = _cpu_name()
    return info


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


def _versions() -> dict[str, str]:
    import torch

    versions = library_versions()
    versions["cuda"] = torch.version.cuda or "none"
    if torch.backends.cudnn.is_available():
        versions["cudnn"] = str(torch.backends.cudnn.version())
    return versions


def _progress(items, enabled: bool, desc: str):
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, leave=False)


# -- Command line -----------------------------------------------------------------------------

def _add_speed_arguments(parser: argparse.ArgumentParser) -> None:
    names = ", ".join(sorted(PRESETS))
    parser.add_argument("--preset", default="tiny", metavar="NAME[:FIELD=VALUE,...]",
                        help=f"configuration to time: {names}, optionally with fields changed, e.g. "
                             "paper:attention_backend=cudnn (default: %(default)s)")
    parser.add_argument("--compare", metavar="PRESET2", help="also time this configuration (same syntax) and print the ratios")
    parser.add_argument("--frames", type=int, dest="num_frames", help="frames to generate (8k+1; default: the preset's)")
    parser.add_argument("--steps", type=int, dest="num_inference_steps", help="denoising steps (default: the preset's)")
    parser.add_argument("--repeat", type=int, default=3, help="measured edits; stages report medians (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured edits first: loading, compilation (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="video seed of every edit (default: %(default)s)")
    parser.add_argument("--tiny-models", action="store_true", help="the preset's levers and numbers on the tiny random-weight models")
    parser.add_argument("--random-weights", choices=["full"], help="full: the full-size 5B architecture with random bf16 weights (GPU)")
    parser.add_argument("--no-metrics", action="store_true", help="do not time the metrics stage")
    parser.add_argument("--device", help="torch device (default: cuda when available, else cpu)")
    parser.add_argument("--json", metavar="OUT", help="also write the report as JSON here")


def add_speed_command(bench_subparsers) -> argparse.ArgumentParser:
    """Register `speed` on the `f2f bench` subcommands; its handler is `args.handler(args)`."""
    parser = bench_subparsers.add_parser(
        "speed", help="time each stage of an edit, peak memory and FLOP rate; compare two presets",
        description="Time each stage of an edit (after warm-up), peak memory and the denoiser's FLOP rate.",
    )
    _add_speed_arguments(parser)
    parser.set_defaults(handler=run_speed_command)
    return parser


def run_speed_command(args) -> int:
    """Run `f2f bench speed` from parsed arguments: print the table, write JSON if asked."""
    options = dict(
        num_frames=args.num_frames, num_inference_steps=args.num_inference_steps, repeat=args.repeat,
        warmup=args.warmup, seed=args.seed, device=args.device, tiny_models=args.tiny_models,
        random_weights=args.random_weights, metrics=not args.no_metrics,
    )
    if args.compare:
        outcome: SpeedReport | SpeedComparison = compare(args.preset, args.compare, **options)
    else:
        outcome = measure_speed(args.preset, **options)
    print(outcome.table())
    if args.json:
        write_json_atomic(args.json, outcome.to_dict())
        print(f"wrote {args.json}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m f2f_lab.bench.speed ...`: the same as `f2f bench speed ...`."""
    parser = argparse.ArgumentParser(prog="python -m f2f_lab.bench.speed", description=add_speed_command.__doc__)
    _add_speed_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_speed_command(args)
    except F2FError as exc:
        print(f"f2f: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
