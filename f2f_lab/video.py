"""Step 2 of Frame2Frame: an image-to-video model generates the pathway (Sec. 3.2).

The paper uses CogVideoX-5B I2V through diffusers with its published defaults: 49 frames,
50 denoising steps, classifier-free guidance 6.0, the model's own DDIM scheduler with
v-prediction, 8 fps (appendix E). `CogVideoXGenerator` wraps that pipeline and nothing
more: the real weights come from the Hugging Face hub cache on first use, exactly as
diffusers loads them; the `tiny` model id loads a small random-weight copy instead.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from PIL import Image

from .errors import F2FError
from .loading import default_device, default_dtype, load_pipeline, out_of_memory, place_pipeline
from .presets import ATTENTION_BACKENDS, CACHES, Levers
from .records import revision_of

PAPER_MODEL = "THUDM/CogVideoX-5b-I2V"


@dataclass
class VideoOutput:
    """Generated frames on the video canvas (PIL, canvas-sized), with what it took."""

    frames: list[Image.Image]
    seconds: float
    record: dict[str, Any] = field(default_factory=dict)


def check_num_frames(num_frames: int) -> None:
    # CogVideoX's VAE compresses time 4x and decodes latents two at a time after the first,
    # so only 8k+1 frames (9, 17, 25, 33, 41, 49) come back as asked.
    if num_frames < 9 or (num_frames - 1) % 8:
        raise F2FError(f"num_frames={num_frames} is not supported by CogVideoX; use 8k+1 frames (9, 17, 25, 33, 41 or 49).")


def positional_embedding_of(num_frames: int, config) -> tuple[str, str | None]:
    """Which positional embedding the transformer uses for `num_frames`, and a warning when it is untrained.

    CogVideoX-5B I2V learns its positional embedding for `sample_frames` (49) frames; for any
    other count diffusers silently drops it and adds a sin-cos embedding the model never saw
    (`CogVideoXPatchEmbed`), so the video changes in ways no test of the weights covered.
    """
    if not config.get("use_learned_positional_embeddings"):
        return "rotary only" if config.get("use_rotary_positional_embeddings") else "sin-cos", None
    frames = config.get("sample_frames")
    if num_frames == frames:
        return f"learned ({frames} frames)", None
    return f"sin-cos substitute: the learned one is for {frames} frames", (
        f"num_frames={num_frames}: this CogVideoX transformer learned its positional embedding for {frames} frames only; "
        f"diffusers replaces it by an untrained sin-cos embedding for {num_frames}, so the video is not the model's own. "
        f"Use {frames} frames for the model as published (the paper: 49)."
    )


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
    place_pipeline(pipe, device, offload=levers.offload, offload_mode=levers.offload_mode)
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

    def __init__(self, pipe, model_id: str, device: str, *, revision: str | None = None, levers: Levers | None = None):
        self.pipe = pipe
        self.model_id = model_id
        self.device = device
        self.levers = levers or Levers()
        self.revision = revision

    @classmethod
    def from_pretrained(
        cls,
        model_id: str = PAPER_MODEL,
        *,
        canvas: tuple[int, int] = (720, 480),
        device: str | None = None,
        torch_dtype=None,
        revision: str | None = None,
        progress: bool = True,
        levers: Levers | None = None,
    ) -> "CogVideoXGenerator":
        """Load the pipeline: a hub id (downloaded on first use), a local folder, or "tiny".

        Args:
            canvas: (width, height) the model generates; 720x480 for CogVideoX-5B I2V.
            device: "cuda" when available, else "cpu".
            torch_dtype: bfloat16 on CUDA (the model's training precision), float32 on CPU.
            levers: speed and memory settings (`Preset.levers`: offload, VAE tiling, fused
                QKV, ...); None is plain diffusers.
        """
        from diffusers import CogVideoXImageToVideoPipeline

        from .tiny import tiny_cogvideox_i2v

        device = device or default_device()
        torch_dtype = torch_dtype or default_dtype(device)
        levers = levers or Levers()
        levers.check()  # a wrong setting fails before a 22 GB load
        if levers.offload and not device.startswith("cuda"):
            raise F2FError("--offload moves models between CPU and GPU; it needs a CUDA GPU.")
        pipe = load_pipeline(
            CogVideoXImageToVideoPipeline, model_id, description="the video model (about 22 GB)", torch_dtype=torch_dtype,
            revision=revision, tiny_folder=lambda: tiny_cogvideox_i2v(canvas),
        )
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

    # -- memory, as diffusers pipelines offer it (the levers record what is on) ------------

    def enable_model_cpu_offload(self, device: str | None = None) -> None:
        """Keep whole models on the CPU and move each to the GPU while it runs (about 10 GB of GPU memory)."""
        self._place(offload=True, offload_mode="model", device=device)

    def enable_sequential_cpu_offload(self, device: str | None = None) -> None:
        """Move layer by layer: least GPU memory, slowest."""
        self._place(offload=True, offload_mode="sequential", device=device)

    def enable_group_offload(self, device: str | None = None) -> None:
        """Stream leaf modules to the GPU on a side CUDA stream, ahead of their use."""
        self._place(offload=True, offload_mode="group", device=device)

    def enable_vae_tiling(self) -> None:
        """Decode the video in spatial tiles (less memory)."""
        self.pipe.vae.enable_tiling()
        self.levers = replace(self.levers, vae_tiling=True)

    def _place(self, *, offload: bool, offload_mode: str, device: str | None) -> None:
        device = device or self.device
        levers = replace(self.levers, offload=offload, offload_mode=offload_mode)
        levers.check()
        self.pipe.remove_all_hooks()
        place_pipeline(self.pipe, device, offload=offload, offload_mode=offload_mode)
        self.pipe.vae.enable_tiling()  # offloading leaves the VAE beside other models' leftovers
        self.pipe.vae.enable_slicing()
        self.device, self.levers = device, levers

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
        embedding, warning = positional_embedding_of(num_frames, self.pipe.transformer.config)
        if warning:
            warnings.warn(warning, UserWarning, stacklevel=2)
        start = time.perf_counter()
        with out_of_memory("generating the video", "Use --offload (model CPU offload and VAE tiling, about 10 GB of GPU "
                                                   "memory), fewer frames, or a GPU with more memory."):
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
                use_dynamic_cfg=False,  # diffusers' default and the model card's: the paper's plain DDIM guidance
                output_type="pil",
            )
        seconds = time.perf_counter() - start
        frames = list(output.frames[0])
        if len(frames) != num_frames:
            raise RuntimeError(f"the model returned {len(frames)} frames, {num_frames} were asked for")
        record = {
            "model": self.model_id,
            "revision": self.revision,
            "device": self.device,
            "dtype": str(self.pipe.transformer.dtype).replace("torch.", ""),
            "offload": self.levers.offload,
            "levers": self.levers.active(),
            "scheduler": type(self.pipe.scheduler).__name__,
            "use_dynamic_cfg": False,
            "positional_embedding": embedding,
            "max_sequence_length": max_length,
        }
        return VideoOutput(frames=frames, seconds=seconds, record=record)


def video_model_class(model_id: str):
    """The generator class that loads `model_id`: the learned toy model for "toy", else CogVideoX I2V."""
    if model_id == "toy":
        from .toy.video_model import ToyVideoGenerator

        return ToyVideoGenerator
    return CogVideoXGenerator

