"""The image-to-video models Frame2Frame can walk its path with: data only, no imports of torch.

Each `VideoBackend` says what its model card and diffusers say about running it: the hub id
and pipeline class, its native size or pixel budget and size multiple, its frame-count rule,
fps, steps, guidance, negative prompt, dtype, licence and memory. Sources are tagged as in
`docs/MODELS.md`: (p) the diffusers 0.42.1 pipeline's code or defaults, (x) its
docstring example, (d) the diffusers docs, (u) the model card or the authors' repository.
`cogvideox` is the paper's model and its numbers are the paper's (appendix E).

Geometry (`geometry`):
- "letterbox": the source fitted inside the model's canvas on black and cropped back (the
  paper's way; the only one a fixed-size model such as CogVideoX-5B can take);
- "aspect": the video at the source's aspect ratio within the model's pixel budget (the
  canvas's area), rounded down to the size multiple: no bars. A model whose card fixes the
  short side instead (`size_rule="short side"`, CogVideoX 1.5) gets the canvas's short side
  exactly and a long side up to the canvas's long side, in either orientation; a source more
  elongated than the canvas is letterboxed on the largest canvas of that orientation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import F2FError

GEOMETRIES = ("letterbox", "aspect")

# Wan's English negative prompt, verbatim from diffusers' WanImageToVideoPipeline example (x).
WAN_NEGATIVE_PROMPT = (
    "Bright tones, overexposed, static, blurred details, subtitles, style, works, paintings, images, static, overall "
    "gray, worst quality, low quality, JPEG compression residue, ugly, incomplete, extra fingers, poorly drawn hands, "
    "poorly drawn faces, deformed, disfigured, misshapen limbs, fused fingers, still picture, messy background, three "
    "legs, many people in the background, walking backwards"
)
# Wan's negative prompt as its authors use it (Chinese), verbatim from Wan-Video/Wan2.2
# wan/configs/shared_config.py l.19 (`sample_neg_prompt`, the same in Wan-Video/Wan2.1) (u);
# `WAN_NEGATIVE_PROMPT` above is diffusers' English rendering of it.
WAN_NEGATIVE_PROMPT_AUTHORS = (
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，JPEG压缩残留，丑陋的，"
    "残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，手指融合，静止不动的画面，杂乱的背景，"
    "三条腿，背景人很多，倒着走"
)
# LTX-Video's negative prompt, verbatim from diffusers' LTXImageToVideoPipeline example (x).
LTX_NEGATIVE_PROMPT = "worst quality, inconsistent motion, blurry, jittery, distorted"


@dataclass(frozen=True)
class VideoBackend:
    """One image-to-video model: what runs it and the numbers its card publishes.

    Args:
        key: the name used by `--video-model` and presets.
        hub_id, pipeline: the Hugging Face model and its diffusers pipeline class.
        family: the adapter that drives it ("cogvideox", "wan", "hunyuan", "ltx").
        canvas: (width, height) native size; for "aspect" models its area is the pixel budget.
        fixed_size: True when the model only takes `canvas` (learned positional embeddings).
        size_multiple: height and width must be multiples of this (VAE factor x patch size).
        max_size: (width, height) limits of a model that takes any size, when it has them.
        size_rule: "area" (the canvas's area is the budget) or "short side" (the short side is the
            canvas's short side, the long side at most the canvas's long side, either orientation).
        frame_multiple: valid frame counts are frame_multiple * k + 1.
        num_frames, fps, num_inference_steps, guidance_scale: the card's defaults.
        guidance_scale_2, boundary_ratio: the low-noise expert's guidance and the switch point
            (`boundary_ratio * 1000` timesteps) of a two-expert model.
        negative_prompt: the card's, when it uses one.
        flow_shift: the authors' sampling shift, when the adapter checks the hub scheduler's against it
            (Wan: the loaded scheduler's shift is read and this one used where they differ).
        fp32_components: components the card loads in float32 (the rest in `dtype`).
        call_options: further `__call__` arguments of the card (LTX's decode noise, ...).
        memory: what the card says the model needs, with its source; nothing here is measured.
        sources: where each default came from.
        tiny_canvas, tiny_frames: the tiny stand-in's size and frame count.
        min_steps: the fewest denoising steps its scheduler runs (LTX's flow-match scheduler with a
            terminal shift indexes past its one timestep when given a single step).
        check_seconds: the GPU check's guess for building the model at full size with random
            weights and running two steps on an H200-class GPU; it orders and budgets the check
            (cheapest first) and is not a measurement.
    """

    key: str
    hub_id: str
    pipeline: str
    family: str
    licence: str
    canvas: tuple[int, int]
    size_multiple: int
    frame_multiple: int
    num_frames: int
    fps: int
    num_inference_steps: int
    guidance_scale: float
    geometry: str = "aspect"
    fixed_size: bool = False
    max_size: tuple[int, int] | None = None
    size_rule: str = "area"
    guidance_scale_2: float | None = None
    boundary_ratio: float | None = None
    negative_prompt: str | None = None
    flow_shift: float | None = None
    dtype: str = "bfloat16"
    fp32_components: tuple[str, ...] = ()
    call_options: dict[str, Any] = field(default_factory=dict)
    parameters: str = ""
    memory: str = ""
    sources: str = ""
    tiny_canvas: tuple[int, int] = (96, 64)
    tiny_frames: int = 9
    check_seconds: float = 60.0
    min_steps: int = 1

    def check_steps(self, num_inference_steps: int) -> None:
        """F2FError when the scheduler cannot run this few steps."""
        if num_inference_steps < self.min_steps:
            raise F2FError(f"num_inference_steps={num_inference_steps}: {self.key}'s scheduler needs at least "
                           f"{self.min_steps} steps; use {self.min_steps} or more (the card: {self.num_inference_steps}).")

    def check_num_frames(self, num_frames: int) -> None:
        """F2FError unless `num_frames` follows this model's rule (frame_multiple * k + 1, k >= 1)."""
        m = self.frame_multiple
        if num_frames < m + 1 or (num_frames - 1) % m:
            examples = ", ".join(str(m * k + 1) for k in range(1, 5))
            raise F2FError(
                f"num_frames={num_frames} does not fit {self.key}: its VAE needs {m}k+1 frames ({examples}, ...; "
                f"the card's default: {self.num_frames})."
            )

    @property
    def pixel_budget(self) -> int:
        return self.canvas[0] * self.canvas[1]


BACKENDS: dict[str, VideoBackend] = {b.key: b for b in (
    VideoBackend(
        key="cogvideox", check_seconds=60.0, hub_id="THUDM/CogVideoX-5b-I2V", pipeline="CogVideoXImageToVideoPipeline",
        family="cogvideox", licence="CogVideoX License", canvas=(720, 480), fixed_size=True, geometry="letterbox",
        size_multiple=16, frame_multiple=8, num_frames=49, fps=8, num_inference_steps=50, guidance_scale=6.0,
        parameters="5B (u)", memory="BF16 from 5 GB with offload, 15 GB on multi-GPU (u, README table)",
        sources="the paper's numbers (appendix E), equal to the card's (u) and diffusers' (p)",
        tiny_canvas=(96, 64), tiny_frames=17,
    ),
    VideoBackend(
        key="cogvideox1.5", check_seconds=60.0, hub_id="THUDM/CogVideoX1.5-5B-I2V", pipeline="CogVideoXImageToVideoPipeline",
        family="cogvideox", licence="CogVideoX License", canvas=(1360, 768), size_rule="short side",
        size_multiple=16, frame_multiple=16, num_frames=81, fps=16, num_inference_steps=50, guidance_scale=6.0,
        parameters="5B (u)", memory="BF16 from 10 GB with offload, 24 GB on multi-GPU (u, README table)",
        sources="Min(W, H) = 768, 768 <= Max(W, H) <= 1360, Max(W, H) % 16 = 0 (u: the card's table); "
                "16N+1 frames, 81 at 16 fps (u); 50 steps, guidance 6 (p, u)",
        tiny_canvas=(96, 64), tiny_frames=17,
    ),
    VideoBackend(
        key="wan2.1-480p", check_seconds=90.0, hub_id="Wan-AI/Wan2.1-I2V-14B-480P-Diffusers", pipeline="WanImageToVideoPipeline",
        family="wan", licence="Apache-2.0", canvas=(832, 480), size_multiple=16, frame_multiple=4, num_frames=81,
        fps=16, num_inference_steps=40, guidance_scale=5.0, negative_prompt=WAN_NEGATIVE_PROMPT, flow_shift=3.0,
        fp32_components=("vae", "image_encoder"), parameters="14B (u)",
        memory="not published as text (u: an image table in the README)",
        sources="area 480x832 keeping the aspect, 81 frames at 16 fps, guidance 5, VAE and CLIP in fp32 (x); "
                "40 steps, shift 3.0 for I2V at 480P (u: generate.py; diffusers' default is 50 steps)",
    ),
    VideoBackend(
        key="wan2.2-5b", check_seconds=60.0, hub_id="Wan-AI/Wan2.2-TI2V-5B-Diffusers", pipeline="WanImageToVideoPipeline",
        family="wan", licence="Apache-2.0", canvas=(1280, 704), size_multiple=32, frame_multiple=4, num_frames=121,
        fps=24, num_inference_steps=50, guidance_scale=5.0, negative_prompt=WAN_NEGATIVE_PROMPT, flow_shift=5.0,
        fp32_components=("vae",), parameters="5B (u)", memory="a 24 GB GPU with offloading (u, README)",
        sources="area 1280x704, 121 frames at 24 fps, 50 steps, guidance 5, shift 5.0 (u: wan_ti2v_5B.py); VAE fp32 (i: PR 12006)",
        tiny_canvas=(96, 64),
    ),
    VideoBackend(
        key="wan2.2-a14b", check_seconds=120.0, hub_id="Wan-AI/Wan2.2-I2V-A14B-Diffusers", pipeline="WanImageToVideoPipeline",
        family="wan", licence="Apache-2.0", canvas=(832, 480), size_multiple=16, frame_multiple=4, num_frames=81,
        fps=16, num_inference_steps=40, guidance_scale=3.5, guidance_scale_2=3.5, boundary_ratio=0.9,
        negative_prompt=WAN_NEGATIVE_PROMPT, flow_shift=5.0, fp32_components=("vae",),
        parameters="27B, 14B active per step (u)",
        memory="one 80 GB GPU with offloading (u, README)",
        sources="480P: area 480x832, 81 frames at 16 fps, 40 steps, guidance 3.5/3.5, boundary 0.900, shift 5.0 "
                "(u: wan_i2v_A14B.py l.34-37; generate.py keeps it at every size); "
                "VAE fp32 (d)",
    ),
    VideoBackend(
        key="hunyuan1.5", check_seconds=90.0, hub_id="hunyuanvideo-community/HunyuanVideo-1.5-Diffusers-480p_i2v",
        pipeline="HunyuanVideo15ImageToVideoPipeline", family="hunyuan", licence="Tencent Hunyuan Community License",
        canvas=(848, 480), size_multiple=16, frame_multiple=4, num_frames=121, fps=24, num_inference_steps=50,
        guidance_scale=6.0, parameters="8.3B (u, d)", memory="14 GB minimum with offloading (u, README)",
        sources="the size is the pipeline's bucket of about 640x640 px at the image's aspect (p), 121 frames (p, u), "
                "24 fps (x), 50 steps and guidance 6 through the guider (u, d); hub id: the community's "
                "-Diffusers-<res>_<task> naming (d, u: the authors' README), not the pipeline example's (x)",
        tiny_canvas=(64, 64),
    ),
    VideoBackend(
        key="ltx", check_seconds=40.0, hub_id="Lightricks/LTX-Video", pipeline="LTXImageToVideoPipeline", family="ltx",
        licence="LTX-Video open weights licence (see the model card)", canvas=(704, 480), size_multiple=32,
        frame_multiple=8, num_frames=161, fps=24, num_inference_steps=50, guidance_scale=3.0,
        negative_prompt=LTX_NEGATIVE_PROMPT,
        parameters="2B (u)", memory="about 10 GB with fp8 layerwise casting and group offload (d)",
        sources="704x480, 161 frames, 50 steps, negative prompt, 24 fps export (x); guidance 3 (p)",
        tiny_canvas=(96, 64), min_steps=2,
    ),
)}


def get_backend(key: str) -> VideoBackend:
    try:
        return BACKENDS[key]
    except KeyError:
        raise F2FError(f"Unknown video model '{key}'. Choose one of: {', '.join(BACKENDS)}.") from None


MODELS_COLUMNS = ("key", "hub id", "pipeline", "licence", "native size", "geometry", "frames", "fps", "steps",
                  "guidance", "parameters", "memory (model card)", "memory (measured)")


def backend_rows() -> list[dict[str, str]]:
    """One row per backend for `f2f models` and the README: what each card publishes.

    Memory is the card's figure with its source; no figure here is measured (the GPU check's
    JSON, docs/perf/, holds the measured ones once it has run).
    """
    rows = []
    for b in BACKENDS.values():
        if b.size_rule == "short side":
            size = (f"short side {min(b.canvas)}, long side up to {max(b.canvas)}, multiples of {b.size_multiple} "
                    "(either orientation)")
        else:
            size = f"{b.canvas[0]}x{b.canvas[1]}" + (" only" if b.fixed_size else f" area, multiples of {b.size_multiple}")
        guidance = f"{b.guidance_scale:g}" + (f" / {b.guidance_scale_2:g} (boundary {b.boundary_ratio:g})" if b.guidance_scale_2 else "")
        rows.append({
            "key": b.key, "hub id": b.hub_id, "pipeline": b.pipeline, "licence": b.licence, "native size": size,
            "geometry": b.geometry, "frames": f"{b.frame_multiple}k+1, {b.num_frames}", "fps": str(b.fps),
            "steps": str(b.num_inference_steps), "guidance": guidance, "parameters": b.parameters,
            "memory (model card)": b.memory, "memory (measured)": "not yet (needs the GPU check)",
        })
    return rows


def backends_table(markdown: bool = False) -> str:
    """`backend_rows` as aligned text, or as a Markdown table."""
    rows = backend_rows()
    if markdown:
        lines = ["| " + " | ".join(MODELS_COLUMNS) + " |", "|" + "---|" * len(MODELS_COLUMNS)]
        lines += ["| " + " | ".join(f"`{row[c]}`" if c in ("key", "hub id") else row[c] for c in MODELS_COLUMNS) + " |"
                  for row in rows]
        return "\n".join(lines)
    blocks = ["Sources: (u) the model card or the authors' repository, (d) the diffusers docs, (p) the diffusers "
              "pipeline, (x) its example, (i) a GitHub issue or PR. Memory: the card's figures; none is measured here."]
    for row in rows:
        blocks.append("\n".join(f"  {column:<20} {row[column]}" if column != "key" else row["key"] for column in MODELS_COLUMNS))
    return "\n\n".join(blocks)
