"""FLOPs of the CogVideoX denoiser, and how close a measured denoising time gets to the floor.

One forward of the transformer is counted from its configuration (linear layers plus
attention), twice per step with classifier-free guidance. At 720x480x49 the real 5B model
(`stand_ins.configs.COGVIDEOX_5B_I2V_TRANSFORMER`) does about 3.3e14 per forward; 50 steps with
guidance are 3.3e16, about 41 s at the ~800 TFLOP/s of bf16 matrix work measured on the
task's H100, the floor we compare with (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# bf16 dense matrix rate measured on the H100 of this project's device tool (issue 8): the
# rate of the FLOP floor that denoising times are compared with.
FLOOR_TFLOPS = 800.0


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


def denoising_flops(pipe, preset, denoising_seconds: float | None, *, on_floor_device: bool,
                    latent_dropout: dict | None = None) -> dict[str, Any]:
    """The FLOPs of a whole denoising loop of `pipe` with `preset`'s numbers, and the rate achieved.

    `on_floor_device`: the run was on the kind of GPU the floor was measured on (an H100);
    elsewhere the fraction of the floor is left out, as it would compare unlike things.
    `latent_dropout`: a video record's `latent_dropout` (its latent frames per transformer
    call); the total then counts each call at the frames it ran, and `dropout_saved` is what
    the dropped latents did not cost against the same run without dropout.
    """
    width, height = preset.canvas
    temporal = pipe.vae_scale_factor_temporal

    def count(num_frames: int) -> DenoiserFlops:
        return denoiser_flops(dict(pipe.transformer.config), num_frames=num_frames, height=height, width=width,
                              vae_scale_spatial=pipe.vae_scale_factor_spatial, vae_scale_temporal=temporal)

    counted = count(preset.num_frames)
    forwards_per_step = 2 if preset.guidance_scale > 1.0 else 1  # guidance batches the unconditional video
    total = counted.per_forward * forwards_per_step * preset.num_inference_steps
    saved = None
    if latent_dropout:  # one call per step (CogVideoX batches guidance): each at the latent frames it ran
        without = total
        total = sum(count(temporal * (latents - 1) + 1).per_forward * forwards_per_step
                    for latents in latent_dropout["frames_per_call"])
        saved = {"total_without_dropout": without, "saved": without - total, "saved_fraction": 1 - total / without,
                 "kept_latents": latent_dropout["kept_latents"], "dropped_at_call": latent_dropout["dropped_at_call"]}
    achieved = total / denoising_seconds / 1e12 if denoising_seconds else None
    return {
        "dropout_saved": saved,
        "tokens": counted.tokens, "video_tokens": counted.video_tokens, "text_tokens": counted.text_tokens,
        "linear_per_forward": counted.linear, "attention_per_forward": counted.attention,
        "embedding_per_forward": counted.embedding, "per_forward": counted.per_forward,
        "forwards_per_step": forwards_per_step, "steps": preset.num_inference_steps, "total": total,
        "achieved_tflops": achieved, "floor_tflops": FLOOR_TFLOPS,
        "floor_seconds": total / (FLOOR_TFLOPS * 1e12),
        "fraction_of_floor": achieved / FLOOR_TFLOPS if achieved is not None and on_floor_device else None,
        "cache": preset.levers.cache,
    }


def format_tflops(flops: dict) -> str:
    value = flops.get("achieved_tflops")
    return "-" if value is None else (f"{value:.1f}" if value >= 1 else f"{value:.4f}")


def describe_flops(flops: dict) -> str:
    """One line for a report: the count behind `denoising_flops(...)` and the rate achieved."""
    line = (f"denoiser: {flops['tokens']} tokens, {flops['per_forward']:.3g} FLOP/forward x {flops['forwards_per_step']} "
            f"x {flops['steps']} steps = {flops['total']:.3g} FLOP; {format_tflops(flops)} TFLOP/s")
    if flops.get("fraction_of_floor") is not None:
        line += f" = {100 * flops['fraction_of_floor']:.0f}% of the {FLOOR_TFLOPS:.0f} TFLOP/s floor"
    if flops.get("cache"):
        line += " (paper-equivalent FLOPs: the cache skips some of them)"
    saved = flops.get("dropout_saved")
    if saved:
        line += (f"; latent dropout (kept latents {saved['kept_latents']}) removed {saved['saved']:.3g} FLOP, "
                 f"{100 * saved['saved_fraction']:.0f}% of {saved['total_without_dropout']:.3g}")
    return line
