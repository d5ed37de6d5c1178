"""Step 2 of Frame2Frame: an image-to-video model generates the pathway (Sec. 3.2).

The paper uses CogVideoX-5B I2V through diffusers with its published defaults: 49 frames,
50 denoising steps, classifier-free guidance 6.0, the model's own DDIM scheduler with
v-prediction, 8 fps (appendix E). `CogVideoXGenerator` wraps that pipeline and nothing
more: the real weights come from the Hugging Face hub cache on first use, exactly as
diffusers loads them; the `tiny` model id loads a small random-weight copy instead.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Callable

from PIL import Image

from .errors import F2FError
from .records import revision_of

PAPER_MODEL = "THUDM/CogVideoX-5b-I2V"


@dataclass
class VideoOutput:
    """Generated frames on the video canvas (PIL, canvas-sized), with what it took."""

    frames: list[Image.Image]
    seconds: float
    record: dict[str, Any] = field(default_factory=dict)


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def check_num_frames(num_frames: int) -> None:
    # CogVideoX's VAE compresses time 4x and decodes latents two at a time after the first,
    # so only 8k+1 frames (9, 17, 25, 33, 41, 49) come back as asked.
    if num_frames < 9 or (num_frames - 1) % 8:
        raise F2FError(f"num_frames={num_frames} is not supported by CogVideoX; use 8k+1 frames (9, 17, 25, 33, 41 or 49).")



# -- Speed and memory levers (docs/PERFORMANCE.md) -------------------------------------------
# All off is plain diffusers, which is what the paper preset runs. Exact levers change the
# order of floating-point operations at most; approximate ones (caches) change the video.

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

    Args:
        fuse_qkv: one fused query/key/value matmul per attention (exact).
        attention_backend: SDPA kernel order, a key of `ATTENTION_BACKENDS` (near-exact);
            None leaves the choice to PyTorch.
        compile_transformer: `torch.compile` each transformer block (regional compilation:
            the 42 identical blocks share one compiled graph; near-exact).
        cudnn_benchmark: let cuDNN time its convolution kernels once and keep the fastest
            (the VAE's 3D convolutions; near-exact; sets a process-wide torch flag).
        cache: an approximate diffusers cache hook, one of `CACHES` (see `cache_config`).
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

    @classmethod
    def from_preset(cls, preset) -> "Levers":
        """The levers named by a preset's fields (fields it lacks stay off)."""
        return cls(**{f.name: getattr(preset, f.name) for f in fields(cls) if hasattr(preset, f.name)})

    def active(self) -> dict[str, Any]:
        """The levers that differ from plain diffusers, for run records."""
        plain = Levers()
        return {k: v for k, v in asdict(self).items() if v != getattr(plain, k)}

    def check(self) -> None:
        if self.attention_backend is not None and self.attention_backend not in ATTENTION_BACKENDS:
            raise F2FError(f"Unknown attention backend '{self.attention_backend}'. Choose one of: {', '.join(ATTENTION_BACKENDS)}.")
        if self.cache is not None and self.cache not in CACHES:
            raise F2FError(f"Unknown cache '{self.cache}'. Choose one of: {', '.join(CACHES)}.")
        if self.offload_mode not in OFFLOAD_MODES:
            raise F2FError(f"Unknown offload mode '{self.offload_mode}'. Choose one of: {', '.join(OFFLOAD_MODES)}.")
        if self.offload and self.offload_mode == "sequential" and self.compile_transformer:
            raise F2FError("Sequential offload moves every layer on its own and cannot run a compiled transformer; "
                           "turn one of them off (offload_mode='group' works with compilation).")


class SDPAKernelProcessor:
    """A CogVideoX attention processor run under a chosen order of PyTorch SDPA kernels.

    CogVideoX's processors call `F.scaled_dot_product_attention` directly, so diffusers'
    `set_attention_backend` does not reach them; this wrapper picks the kernel instead.
    """

    def __init__(self, processor, backend: str):
        from torch.nn.attention import SDPBackend

        self.processor = processor
        self.backend = backend
        self.kernels = [getattr(SDPBackend, name) for name in ATTENTION_BACKENDS[backend]]

    # Same signature as CogVideoXAttnProcessor2_0: `Attention.forward` passes only the
    # keyword arguments the processor's signature names.
    def __call__(self, attn, hidden_states, encoder_hidden_states, attention_mask=None, image_rotary_emb=None):
        from torch.nn.attention import sdpa_kernel

        with sdpa_kernel(self.kernels, set_priority=True):
            return self.processor(
                attn, hidden_states, encoder_hidden_states, attention_mask=attention_mask, image_rotary_emb=image_rotary_emb
            )


def cache_config(name: str, pipe):
    """The diffusers cache configuration behind a `cache` lever name (approximate levers).

    - "faster": FasterCache with the settings diffusers documents for CogVideoX-5b
      (docs/source/en/api/cache.md): spatial attention reused every other step below
      timestep 681, the unconditional branch recomputed every 5th step below 781.
    - "pab": Pyramid Attention Broadcast as documented for CogVideoX-5b: spatial attention
      reused every other step between timesteps 100 and 800.
    - "first_block": First Block Cache with diffusers' default threshold (0.05): the whole
      step is skipped when the first block's residual barely changes (needs 2+ blocks).
    """
    from diffusers import FasterCacheConfig, FirstBlockCacheConfig, PyramidAttentionBroadcastConfig

    def current_timestep():
        return pipe.current_timestep

    if name == "faster":
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
        if len(pipe.transformer.transformer_blocks) < 2:
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

    levers.check()
    if levers.offload and not device.startswith("cuda"):
        raise F2FError("--offload moves models between CPU and GPU; it needs a CUDA GPU.")
    transformer = pipe.transformer
    if levers.fuse_qkv:
        pipe.fuse_qkv_projections()
    if levers.attention_backend is not None:
        transformer.set_attn_processor(
            {name: SDPAKernelProcessor(processor, levers.attention_backend) for name, processor in transformer.attn_processors.items()}
        )
    if levers.cache is not None:
        transformer.enable_cache(cache_config(levers.cache, pipe))
    if not levers.offload:
        pipe.to(device)
    elif levers.offload_mode == "model":
        pipe.enable_model_cpu_offload(device=device)
    elif levers.offload_mode == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)
    else:  # diffusers' documented low-memory recipe: leaf modules streamed ahead of use
        pipe.enable_group_offload(onload_device=torch.device(device), offload_type="leaf_level", use_stream=True)
    # Offloading runs the VAE on a GPU that holds other models' leftovers: tile and slice it too.
    if levers.vae_tiling or levers.offload:
        pipe.vae.enable_tiling()
    if levers.vae_slicing or levers.offload:
        pipe.vae.enable_slicing()
    if levers.compile_transformer:
        for block in transformer.transformer_blocks:
            block.compile(fullgraph=True, dynamic=False, backend=compile_backend)
    if levers.cudnn_benchmark:
        torch.backends.cudnn.benchmark = True


class CogVideoXGenerator:
    """Image-to-video over diffusers' `CogVideoXImageToVideoPipeline`."""

    def __init__(
        self, pipe, model_id: str, device: str, offload: bool = False, revision: str | None = None, levers: Levers | None = None
    ):
        self.pipe = pipe
        self.model_id = model_id
        self.device = device
        self.levers = levers or Levers(offload=offload)
        self.offload = self.levers.offload
        self.revision = revision

    @classmethod
    def from_pretrained(
        cls,
        model_id: str = PAPER_MODEL,
        *,
        canvas: tuple[int, int] = (720, 480),
        device: str | None = None,
        torch_dtype=None,
        offload: bool = False,
        revision: str | None = None,
        progress: bool = True,
        levers: Levers | None = None,
    ) -> "CogVideoXGenerator":
        """Load the pipeline: a hub id (downloaded on first use), a local folder, or "tiny".

        Args:
            canvas: (width, height) the model generates; 720x480 for CogVideoX-5B I2V.
            device: "cuda" when available, else "cpu".
            torch_dtype: bfloat16 on CUDA (the model's training precision), float32 on CPU.
            offload: model CPU offload plus VAE tiling and slicing, for GPUs with less
                memory than the whole model (see the README for the figures).
            levers: speed and memory settings (`Levers.from_preset(preset)`); None is plain
                diffusers, with `offload` as given.
        """
        import torch
        from diffusers import CogVideoXImageToVideoPipeline

        device = device or default_device()
        if torch_dtype is None:
            torch_dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        levers = replace(levers, offload=levers.offload or offload) if levers is not None else Levers(offload=offload)
        levers.check()  # a wrong setting fails before a 22 GB load
        if levers.offload and not device.startswith("cuda"):
            raise F2FError("--offload moves models between CPU and GPU; it needs a CUDA GPU.")
        source = model_id
        if model_id == "tiny":
            from .tiny import tiny_cogvideox_i2v

            source = str(tiny_cogvideox_i2v(canvas))
        try:
            pipe = CogVideoXImageToVideoPipeline.from_pretrained(source, dtype=torch_dtype, revision=revision)
        except (OSError, ValueError) as exc:
            raise F2FError(
                f"Could not load the video model '{model_id}' ({type(exc).__name__}: {str(exc).splitlines()[0]}). "
                "Real weights (about 22 GB) download from the Hugging Face hub on first use: check the network, "
                "HF_HOME and HF_HUB_OFFLINE, or run offline with --preset tiny."
            ) from None
        apply_levers(pipe, levers, device=device)
        pipe.set_progress_bar_config(disable=not progress, desc="video", leave=False)
        # The pipeline keeps the hub id as given; its components keep the snapshot path (with the commit).
        loaded_from = pipe.transformer.config.get("_name_or_path")
        return cls(pipe, model_id=model_id, device=device, revision=revision or revision_of(loaded_from), levers=levers)

    @property
    def canvas(self) -> tuple[int, int]:
        config = self.pipe.transformer.config
        scale = self.pipe.vae_scale_factor_spatial
        return config.sample_width * scale, config.sample_height * scale

    def __call__(
        self,
        image: Image.Image,
        prompt: str,
        *,
        num_frames: int = 49,
        num_inference_steps: int = 50,
        guidance_scale: float = 6.0,
        seed: int = 0,
        callback_on_step_end: Callable | None = None,
    ) -> VideoOutput:
        """Generate `num_frames` frames that start at `image` (already on the canvas).

        Args:
            image: a canvas-sized RGB image (see `imaging.to_canvas`).
            prompt: the temporal editing caption.
            num_frames: 49 in the paper (about 6 s at 8 fps); 8k+1 frames are supported.
            num_inference_steps: 50 in the paper.
            guidance_scale: classifier-free guidance, 6.0 in the paper.
            seed: seeds a CPU `torch.Generator`, so a seed means the same noise on any device.
            callback_on_step_end: passed to the diffusers pipeline (progress, inspection).
        """
        import torch

        check_num_frames(num_frames)
        if image.size != self.canvas:
            raise ValueError(f"image is {image.size}; this model generates on a {self.canvas} canvas")
        width, height = self.canvas
        max_length = self.pipe.transformer.config.max_text_seq_length
        start = time.perf_counter()
        try:
            output = self.pipe(
                image=image,
                prompt=prompt,
                height=height,
                width=width,
                num_frames=num_frames,
                num_inference_steps=num_inference_steps,
                guidance_scale=guidance_scale,
                generator=torch.Generator(device="cpu").manual_seed(seed),
                max_sequence_length=max_length,
                callback_on_step_end=callback_on_step_end,
                output_type="pil",
            )
        except torch.OutOfMemoryError:
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            raise F2FError(
                "The GPU ran out of memory while generating the video. Use --offload (model CPU offload and "
                "VAE tiling, about 10 GB of GPU memory), fewer frames, or a GPU with more memory."
            ) from None
        seconds = time.perf_counter() - start
        frames = list(output.frames[0])
        if len(frames) != num_frames:
            raise RuntimeError(f"the model returned {len(frames)} frames, {num_frames} were asked for")
        record = {
            "model": self.model_id,
            "revision": self.revision,
            "device": self.device,
            "dtype": str(self.pipe.transformer.dtype).replace("torch.", ""),
            "offload": self.offload,
            "levers": self.levers.active(),
            "scheduler": type(self.pipe.scheduler).__name__,
            "max_sequence_length": max_length,
        }
        return VideoOutput(frames=frames, seconds=seconds, record=record)
