"""How a video model runs: fused projections, SDPA kernels, caches, offload, compilation.

`Levers` (a preset's `levers`) says how a video model runs; `apply_levers` puts a loaded
pipeline on its device with them. Every backend goes through it, so a lever means the same
on CogVideoX, Wan, HunyuanVideo and LTX where the model supports it, and a clear error where
it does not.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import asdict, dataclass, fields
from typing import Any

from ..constraints import Choice, Flag, Optional, check_fields
from ..errors import F2FError
from ..loading import place_pipeline

# PyTorch SDPA kernels in the order they are tried; later ones catch shapes the first refuses.
ATTENTION_BACKENDS = {
    "cudnn": ("CUDNN_ATTENTION", "FLASH_ATTENTION", "EFFICIENT_ATTENTION", "MATH"),
    "flash": ("FLASH_ATTENTION", "EFFICIENT_ATTENTION", "MATH"),
    "efficient": ("EFFICIENT_ATTENTION", "MATH"),
    "math": ("MATH",),
}
CACHES = ("faster", "pab", "first_block")
OFFLOAD_MODES = ("model", "sequential", "group")


@dataclass(frozen=True)
class Levers:
    """How the video model runs, not what it computes (the caches excepted).

    All off is plain diffusers, which is what the paper preset runs. Exact levers change the
    order of floating-point operations at most; approximate ones (caches) change the video.

    Args:
        fuse_qkv: one fused query/key/value matmul per attention (exact).
        attention_backend: SDPA kernel order, a key of `ATTENTION_BACKENDS` (near-exact);
            None leaves the choice to PyTorch.
        compile_transformer: `torch.compile` each transformer block (regional compilation:
            the 42 identical blocks share one compiled graph; near-exact).
        cudnn_benchmark: let cuDNN time its convolution kernels once and keep the fastest
            (the VAE's 3D convolutions; near-exact; sets a process-wide torch flag).
        cache: an approximate diffusers cache hook, one of `CACHES` (see `video.cache_config`).
        offload: keep models on the CPU and move them to the GPU when they run.
        offload_mode: "model" (whole models), "sequential" (layer by layer, least memory,
            slowest) or "group" (leaf modules streamed on a side CUDA stream).
        vae_tiling, vae_slicing: decode in spatial tiles / one video at a time (less memory).
    """

    fuse_qkv: bool = False
    attention_backend: str | None = None
    compile_transformer: bool = False
    cudnn_benchmark: bool = False
    cache: str | None = None
    offload: bool = False
    offload_mode: str = "model"
    vae_tiling: bool = False
    vae_slicing: bool = False

    def active(self) -> dict[str, Any]:
        """The levers that differ from plain diffusers, for run records."""
        plain = Levers()
        return {k: v for k, v in asdict(self).items() if v != getattr(plain, k)}

    def check(self) -> None:
        """F2FError for an unknown choice or a combination that cannot run."""
        check_fields(self, LEVER_CONSTRAINTS)  # each lever's type and choices
        # Sequential and group offload move weights inside every layer's forward, in hooks
        # that torch.compile must not trace (diffusers disables the compiler there), so a
        # fullgraph-compiled block fails on its first call. Model offload moves whole models.
        # The caches decide in Python from tensor values each step (First Block Cache in a
        # compiler-disabled function, PAB and FasterCache by comparing timesteps), which a
        # fullgraph-compiled block cannot trace.
        if self.cache is not None and self.compile_transformer:
            raise F2FError(
                f"The '{self.cache}' cache decides from the data in every step and cannot run inside a compiled "
                "transformer; turn off compile_transformer or the cache."
            )
        if self.offload and self.offload_mode != "model" and self.compile_transformer:
            raise F2FError(
                f"{self.offload_mode.capitalize()} offload moves weights inside each layer and cannot run a compiled "
                "transformer; turn off compile_transformer, or use offload_mode='model' (whole-model offload compiles)."
            )


LEVER_FIELDS = tuple(f.name for f in fields(Levers))
# What each lever may hold (`constraints`); `Levers.check` refuses anything else before a load.
LEVER_CONSTRAINTS = {
    "fuse_qkv": Flag(),
    "attention_backend": Optional(Choice(tuple(ATTENTION_BACKENDS), hint="an attention backend: SDPA kernel order")),
    "compile_transformer": Flag(),
    "cudnn_benchmark": Flag(),
    "cache": Optional(Choice(CACHES)),
    "offload": Flag(),
    "offload_mode": Choice(OFFLOAD_MODES, hint="the offload mode"),
    "vae_tiling": Flag(),
    "vae_slicing": Flag(),
}

# First Block Cache hooks a transformer's blocks through diffusers' `TransformerBlockRegistry`
# (`hooks/_helpers.py`), which has CogVideoXBlock, WanTransformerBlock and
# LTXVideoTransformerBlock but no HunyuanVideo15TransformerBlock (diffusers 0.42.1): the
# families whose blocks it knows (tests/test_invariants.py checks this against the registry).
FIRST_BLOCK_CACHE_FAMILIES = ("cogvideox", "wan", "ltx")
# FasterCache's settings are the ones diffusers documents for CogVideoX-5b (`cache_config`).
FASTER_CACHE_FAMILIES = ("cogvideox",)


def check_cache(cache: str | None, backend, *, tiny: bool, latent_dropout: int | None, latent_dropout_at: float) -> None:
    """F2FError for a cache the video model `backend` (a `VideoBackend`) cannot run, before anything loads.

    Latent dropout shortens the transformer's input at the drop step, while every cache keeps
    tensors of the earlier, longer input (First Block Cache subtracts residuals of both lengths
    and raises; PAB and FasterCache hand back cached full-length attention outputs whenever
    their timestep window has begun by the drop, which depends on the schedule). The one safe
    pairing is a two-expert model dropping exactly at its expert switch: the low-noise expert,
    with its own cache, then only ever sees the shorter input.
    """
    if cache is None:
        return
    if cache == "faster" and backend.family not in FASTER_CACHE_FAMILIES:
        raise F2FError(f"The 'faster' cache uses settings diffusers documents for CogVideoX only; use cache=pab with "
                       f"{backend.key}.")
    if cache == "first_block":
        if backend.family not in FIRST_BLOCK_CACHE_FAMILIES:
            raise F2FError(f"First Block Cache does not know {backend.key}'s transformer blocks (diffusers has no entry "
                           "for them); use cache=pab.")
        if tiny:
            raise F2FError("First Block Cache needs a transformer with 2 or more blocks and the tiny stand-ins have 1; "
                           "use cache=pab on tiny models.")
    if latent_dropout and not (backend.boundary_ratio is not None and latent_dropout_at == backend.boundary_ratio):
        at_switch = (f" or latent_dropout_at={backend.boundary_ratio:g} (the expert switch)"
                     if backend.boundary_ratio is not None else "")
        raise F2FError(f"The '{cache}' cache keeps tensors from before latent dropout shortens the video, so the two "
                       f"cannot run together on {backend.key} at latent_dropout_at={latent_dropout_at:g}; "
                       f"turn off the cache or latent_dropout{at_switch}.")


class SDPAKernelProcessor:
    """An attention processor run under a chosen order of PyTorch SDPA kernels.

    The processors call `F.scaled_dot_product_attention` (CogVideoX's directly, the others
    through diffusers' native backend), so wrapping the call in `sdpa_kernel` picks the
    kernel without touching diffusers' backend registry.

    Build one with `SDPAKernelProcessor.around(processor, backend)`: diffusers' `Attention.forward`
    passes on only the keyword arguments the processor's signature names (the
    `cross_attention_kwargs` filter in `attention_processor.py`), so the wrapper must name what
    the wrapped processor names (HunyuanVideo 1.5's blocks pass `image_rotary_emb=` by keyword;
    behind a `*args, **kwargs` wrapper it would be dropped and the video made without positions).
    `around` gives each processor class its own subclass whose `__call__` has that class's signature.
    """

    def __init__(self, processor, backend: str):
        from torch.nn.attention import SDPBackend

        self.processor = processor
        self.backend = backend
        self.kernels = [getattr(SDPBackend, name) for name in ATTENTION_BACKENDS[backend]]

    @classmethod
    def around(cls, processor, backend: str) -> "SDPAKernelProcessor":
        """`processor` under `backend`'s kernel order, answering to the same keyword arguments."""
        return _kernel_class(type(processor))(processor, backend)

    def __call__(self, attn, *args, **kwargs):
        from torch.nn.attention import sdpa_kernel

        with sdpa_kernel(self.kernels, set_priority=True):
            return self.processor(attn, *args, **kwargs)


@functools.cache
def _kernel_class(processor_class: type) -> type:
    """The `SDPAKernelProcessor` subclass whose `__call__` has `processor_class.__call__`'s signature."""

    def __call__(self, attn, *args, **kwargs):
        return SDPAKernelProcessor.__call__(self, attn, *args, **kwargs)

    __call__.__signature__ = inspect.signature(processor_class.__call__)  # what `Attention.forward` reads
    return type(f"SDPAKernel{processor_class.__name__}", (SDPAKernelProcessor,), {"__call__": __call__})


def transformers_of(pipe) -> list:
    """The pipeline's denoisers: one, or two for a two-expert model (Wan 2.2 A14B)."""
    return [t for t in (getattr(pipe, "transformer", None), getattr(pipe, "transformer_2", None)) if t is not None]


def transformer_blocks(transformer):
    """The repeated blocks of a video transformer (`transformer_blocks` or Wan's `blocks`)."""
    blocks = getattr(transformer, "transformer_blocks", None)
    return blocks if blocks is not None else transformer.blocks


def cache_config(name: str, pipe):
    """The diffusers cache configuration behind a `cache` lever name (approximate levers).

    - "faster": FasterCache with the settings diffusers documents for CogVideoX-5b
      (docs/source/en/api/cache.md): spatial attention reused every other step below
      timestep 681, the unconditional branch recomputed every 5th step below 781.
      CogVideoX only: those settings are documented for it alone.
    - "pab": Pyramid Attention Broadcast as documented for CogVideoX-5b: spatial attention
      reused every other step between timesteps 100 and 800.
    - "first_block": First Block Cache with diffusers' default threshold (0.05): the whole
      step is skipped when the first block's residual barely changes (needs 2+ blocks).
    """
    from diffusers import FasterCacheConfig, FirstBlockCacheConfig, PyramidAttentionBroadcastConfig

    def current_timestep():
        return pipe.current_timestep

    if name == "faster":
        if type(pipe.transformer).__name__ != "CogVideoXTransformer3DModel":
            raise F2FError("The 'faster' cache uses settings diffusers documents for CogVideoX only; use 'pab' or "
                           "'first_block' with this video model.")
        return FasterCacheConfig(
            spatial_attention_block_skip_range=2,
            spatial_attention_timestep_skip_range=(-1, 681),
            current_timestep_callback=current_timestep,
            attention_weight_callback=lambda _: 0.3,
            unconditional_batch_skip_range=5,
            unconditional_batch_timestep_skip_range=(-1, 781),
            tensor_format="BFCHW",
        )
    if name == "pab":
        return PyramidAttentionBroadcastConfig(
            spatial_attention_block_skip_range=2,
            spatial_attention_timestep_skip_range=(100, 800),
            current_timestep_callback=current_timestep,
        )
    if name == "first_block":
        if len(transformer_blocks(pipe.transformer)) < 2:
            raise F2FError("First Block Cache needs a transformer with at least 2 blocks; this one has 1.")
        return FirstBlockCacheConfig(threshold=0.05)
    raise F2FError(f"Unknown cache '{name}'. Choose one of: {', '.join(CACHES)}.")


def apply_levers(pipe, levers: Levers, *, device: str, compile_backend: str = "inductor") -> None:
    """Put `pipe` on `device` with the given levers, in the order they compose.

    Fusion and processors first (they replace modules and processors), then cache hooks,
    then placement (offload hooks wrap what exists by then), then compilation last.
    `compile_backend` is torch.compile's backend ("eager" traces without generating code).
    """
    import torch

    # The levers were checked before the load (`Preset.check`, `VideoGenerator.from_pretrained`).
    if levers.offload and not device.startswith("cuda"):
        raise F2FError("--offload moves models between CPU and GPU; it needs a CUDA GPU.")
    denoisers = transformers_of(pipe)
    if levers.fuse_qkv:
        if hasattr(pipe, "fuse_qkv_projections"):
            pipe.fuse_qkv_projections()
        elif all(hasattr(t, "fuse_qkv_projections") for t in denoisers):
            for transformer in denoisers:
                transformer.fuse_qkv_projections()
        else:
            raise F2FError(f"{type(pipe.transformer).__name__} has no fused QKV projections; turn fuse_qkv off.")
    for transformer in denoisers:
        if levers.attention_backend is not None:
            transformer.set_attn_processor({name: SDPAKernelProcessor.around(processor, levers.attention_backend)
                                            for name, processor in transformer.attn_processors.items()})
        if levers.cache is not None:
            transformer.enable_cache(cache_config(levers.cache, pipe))
    place_pipeline(pipe, device, offload=levers.offload, offload_mode=levers.offload_mode)
    # Offloading runs the VAE on a GPU that holds other models' leftovers: tile and slice it too.
    if levers.vae_tiling or levers.offload:
        pipe.vae.enable_tiling()
    if levers.vae_slicing or levers.offload:
        pipe.vae.enable_slicing()
    if levers.compile_transformer:
        for transformer in denoisers:
            for block in transformer_blocks(transformer):
                block.compile(fullgraph=True, dynamic=False, backend=compile_backend)
    if levers.cudnn_benchmark:
        torch.backends.cudnn.benchmark = True
