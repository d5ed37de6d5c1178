"""Presets are data: model ids and numbers, nothing else.

`paper` is the paper's configuration exactly (Sec. 5.2 and appendix E): CogVideoX-5B I2V,
720x480, 49 frames, 50 steps, guidance 6, 8 fps, every 4th frame shown to the VLM (12
tiles), 512x512 output, VLM captions (B.1) and VLM frame selection (C.1).

`tiny` runs the same classes with small random weights on a CPU in seconds. Its outputs
are noise: it proves the plumbing, never the quality.

Speed and memory presets (docs/PERFORMANCE.md; their levers are `video.Levers`):
- `fast`: the paper's outputs (same frames, steps, guidance) with exact levers only: fused
  QKV, cuDNN attention first, the transformer blocks compiled, cuDNN-tuned VAE convolutions.
- `turbo`: approximate: `fast`'s kernels plus FasterCache and 30 steps instead of 50. The
  video differs from the paper's; whether the edits are as good needs real weights (the
  ablation notebook compares it with `paper` on the same seeds).
- `lowvram`: the paper's outputs on a 24 GB GPU: model CPU offload, VAE tiling and slicing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from .errors import F2FError

TINY_NOTICE = (
    "TINY PRESET: the models have small random weights, so the video and the edit are noise. "
    "This run proves the plumbing only; use --preset paper on a GPU for real edits."
)


@dataclass(frozen=True)
class Preset:
    name: str
    video_model: str = "THUDM/CogVideoX-5b-I2V"
    canvas: tuple[int, int] = (720, 480)  # (width, height) the video model generates
    num_frames: int = 49
    num_inference_steps: int = 50
    guidance_scale: float = 6.0
    fps: int = 8
    output_size: int = 512  # longer side of the cropped-back edit
    sample_every: int = 4  # frame selection sees frames every, 2*every, ...
    captioner: str = "vlm"
    selector: str = "vlm"
    vlm_model: str = "gpt-4o"
    clip_model: str = "ViT-B-32"
    clip_pretrained: str | None = "openai"
    offload: bool = False  # model CPU offload + VAE tiling, for GPUs under ~40 GB
    # Speed and memory levers (video.Levers, docs/PERFORMANCE.md); all off = plain diffusers.
    offload_mode: str = "model"  # with offload: "model", "sequential" or "group"
    vae_tiling: bool = False
    vae_slicing: bool = False
    fuse_qkv: bool = False  # exact
    attention_backend: str | None = None  # SDPA kernel order: "cudnn", "flash", "efficient", "math"
    compile_transformer: bool = False  # torch.compile of each transformer block
    cudnn_benchmark: bool = False  # cuDNN picks the fastest VAE convolutions
    cache: str | None = None  # approximate: "faster", "pab" or "first_block"

    @property
    def is_tiny(self) -> bool:
        return self.video_model == "tiny"

    def to_dict(self) -> dict:
        return asdict(self)

    def with_options(self, **changes) -> "Preset":
        """This preset with some fields changed (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


PRESETS: dict[str, Preset] = {
    "paper": Preset(name="paper"),
    "tiny": Preset(
        name="tiny",
        video_model="tiny",
        canvas=(96, 64),  # same 3:2 shape as 720x480; the tiny transformer is built for it
        num_frames=17,  # CogVideoX's VAE needs 8k+1 frames; 17 gives 4 tiles
        num_inference_steps=4,
        captioner="template",
        selector="clip",
        clip_model="tiny",
        clip_pretrained=None,
    ),
    "fast": Preset(
        name="fast", fuse_qkv=True, attention_backend="cudnn", compile_transformer=True, cudnn_benchmark=True
    ),
    "turbo": Preset(
        name="turbo",
        num_inference_steps=30,  # approximate: fewer steps than the paper's 50
        cache="faster",  # approximate: FasterCache, diffusers' documented CogVideoX-5b settings
        fuse_qkv=True,
        attention_backend="cudnn",
        cudnn_benchmark=True,
    ),
    "lowvram": Preset(
        name="lowvram", offload=True, offload_mode="model", vae_tiling=True, vae_slicing=True,
        fuse_qkv=True, attention_backend="cudnn",
    ),
}


def get_preset(name: str | Preset) -> Preset:
    if isinstance(name, Preset):
        return name
    try:
        return PRESETS[name]
    except KeyError:
        raise F2FError(f"Unknown preset '{name}'. Choose one of: {', '.join(PRESETS)}.") from None
