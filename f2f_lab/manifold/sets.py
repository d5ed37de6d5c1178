"""The image sets of Sec. 4: three FLUX prompts, 200 images each, plus random-noise images.

On disk a sets folder looks like

    sets.json          prompts, model and sampling parameters (what every image shares)
    ai/0000.png        the images, numbered per set ...
    ai/0000.json       ... each with its own record: prompt, seed, seconds
    ai_heart/...
    heart/...
    kept.json          the hand filter (kept and rejected file names per set), once saved

An image counts as made when its .json exists (written after the .png, both atomically), so
an interrupted run leaves nothing half-made and a rerun makes only what is missing. Under
`accelerate launch` every process takes every `num_processes`-th image of the same fixed
list, so no two processes make the same image and no coordination is needed.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
from PIL import Image

from ..bench.distributed import process_state
from ..errors import F2FError
from ..imaging import _label, load_image, save_image
from ..loading import default_dtype, load_pipeline, out_of_memory, place_pipeline
from ..paper import PAPER_PROMPTS, SetPrompt  # noqa: F401  (re-exported: manifold.sets.SetPrompt)
from ..records import library_versions, revision_of, write_json_atomic

SETS_FILE = "sets.json"
FILTER_FILE = "kept.json"
SEED_STRIDE = 10_000  # set k uses seeds seed + k * SEED_STRIDE + i, so sets never share a seed
NOISE_LABEL = "Random noise"
NOISE_COLOUR = "#7f7f7f"




@dataclass(frozen=True)
class FluxSettings:
    """Sampling parameters of a FLUX model."""

    model: str
    num_inference_steps: int
    guidance_scale: float
    size: int
    max_sequence_length: int


# The paper does not give FLUX's sampling parameters; these are the model cards' (FLUX.1-dev:
# 50 steps, guidance 3.5, 1024 px; FLUX.1-schnell: 4 steps, no guidance, 256 T5 tokens).
FLUX_MODELS: dict[str, FluxSettings] = {
    "black-forest-labs/FLUX.1-dev": FluxSettings("black-forest-labs/FLUX.1-dev", 50, 3.5, 1024, 512),
    "black-forest-labs/FLUX.1-schnell": FluxSettings("black-forest-labs/FLUX.1-schnell", 4, 0.0, 1024, 256),
    "tiny": FluxSettings("tiny", 2, 3.5, 64, 256),
}
_ALIASES = {"FLUX.1-dev": "black-forest-labs/FLUX.1-dev", "dev": "black-forest-labs/FLUX.1-dev",
            "FLUX.1-schnell": "black-forest-labs/FLUX.1-schnell", "schnell": "black-forest-labs/FLUX.1-schnell"}


def flux_settings(model: str) -> FluxSettings:
    """Settings of a known model ("FLUX.1-dev", "FLUX.1-schnell", "tiny", or their hub ids).

    Another hub id or folder gets FLUX.1-dev's settings.
    """
    model = _ALIASES.get(model, model)
    return FLUX_MODELS.get(model) or FluxSettings(model, 50, 3.5, 1024, 512)


def as_prompts(prompts: Sequence[SetPrompt] | Mapping[str, str]) -> tuple[SetPrompt, ...]:
    """SetPrompts from SetPrompts or a {label: prompt} mapping (keys and colours made up)."""
    if isinstance(prompts, Mapping):
        from matplotlib import colormaps

        palette = colormaps["tab10"].colors
        prompts = [
            SetPrompt("".join(c if c.isalnum() else "_" for c in label.lower()).strip("_") or f"set{k}", label, prompt,
                      "#%02x%02x%02x" % tuple(round(255 * v) for v in palette[k % 10]))
            for k, (label, prompt) in enumerate(prompts.items())
        ]
    prompts = tuple(prompts)
    if not prompts:
        raise F2FError("No prompts given; the study needs at least one image set.")
    keys = [p.key for p in prompts]
    if len(set(keys)) != len(keys):
        raise F2FError(f"Set names must differ; got {keys}.")
    return prompts


class ImageSets:
    """A sets folder: the finished images of each set, minus those rejected by hand."""

    def __init__(self, root: str | Path, prompts: Sequence[SetPrompt], record: dict | None = None):
        self.root = Path(root)
        self.prompts = tuple(prompts)
        self.record = record or {}

    @property
    def labels(self) -> list[str]:
        return [p.label for p in self.prompts]

    @property
    def colours(self) -> dict[str, str]:
        return {**{p.label: p.colour for p in self.prompts}, NOISE_LABEL: NOISE_COLOUR}

    def prompt(self, key_or_label: str) -> SetPrompt:
        for p in self.prompts:
            if key_or_label in (p.key, p.label):
                return p
        raise F2FError(f"No set '{key_or_label}' here; the sets are: {', '.join(p.key for p in self.prompts)}.")

    def files(self, key: str, *, filtered: bool = True) -> list[Path]:
        """Finished images of a set in order; with `filtered`, those rejected by hand are left out."""
        key = self.prompt(key).key
        done = sorted(p.with_suffix(".png") for p in (self.root / key).glob("[0-9]*.json"))
        done = [p for p in done if p.exists()]
        if filtered:
            rejected = set(self.read_filter()["rejected"].get(key, []))
            done = [p for p in done if p.name not in rejected]
        return done

    def images(self, key: str, *, filtered: bool = True) -> list[Image.Image]:
        return [load_image(p) for p in self.files(key, filtered=filtered)]

    def read_filter(self) -> dict:
        """{"kept": {key: [names]}, "rejected": {key: [names]}}; empty before any filtering."""
        path = self.root / FILTER_FILE
        if not path.exists():
            return {"kept": {}, "rejected": {}}
        data = _read_json(path, "hand filter")
        return {"kept": data.get("kept", {}), "rejected": data.get("rejected", {})}

    def save_filter(self, rejected: Mapping[str, Iterable[str]]) -> Path:
        """Save the hand filter: `rejected` maps a set key to the file names to leave out.

        Every finished image not rejected is listed as kept. From then on `files()` and
        `images()` leave the rejected ones out; images made later are kept until rejected.
        """
        rejected = {self.prompt(k).key: sorted({Path(n).name for n in names}) for k, names in rejected.items()}
        kept = {}
        for p in self.prompts:
            names = {f.name for f in self.files(p.key, filtered=False)}
            unknown = set(rejected.get(p.key, [])) - names
            if unknown:
                raise F2FError(f"Set '{p.key}' has no images named {sorted(unknown)}; nothing was saved.")
            kept[p.key] = sorted(names - set(rejected.get(p.key, [])))
        return write_json_atomic(self.root / FILTER_FILE, {"kept": kept, "rejected": {k: v for k, v in rejected.items() if v}})

    def summary(self) -> str:
        """One line per set: made, rejected, used."""
        lines = []
        for p in self.prompts:
            made, used = len(self.files(p.key, filtered=False)), len(self.files(p.key))
            lines.append(f"{p.label:<18} {made:4d} made, {made - used:3d} rejected, {used:4d} used   \"{p.prompt}\"")
        return "\n".join(lines)

    def preview(self, per_set: int = 6, size: int = 128) -> Image.Image:
        """A row of the first `per_set` used images of each set, labelled (like the paper's Fig. S12)."""
        from PIL import ImageDraw

        gap, label_w = 6, size * 2
        rows = [(p, self.files(p.key)[:per_set]) for p in self.prompts]
        board = Image.new("RGB", (label_w + per_set * (size + gap) + gap, len(rows) * (size + gap) + gap), "white")
        draw = ImageDraw.Draw(board)
        for r, (p, files) in enumerate(rows):
            y = gap + r * (size + gap)
            draw.rectangle([gap, y, label_w - gap, y + size], fill=p.colour)
            _label(draw, (gap + 8, y + size // 2 - 10), p.label, 18)
            for c, f in enumerate(files):
                board.paste(load_image(f).resize((size, size), Image.Resampling.LANCZOS), (label_w + c * (size + gap), y))
        return board

    def __repr__(self) -> str:
        return f"ImageSets('{self.root}')\n{self.summary()}"


def load_sets(root: str | Path) -> ImageSets:
    """Open a sets folder made by `generate_sets` (or `f2f manifold sets`)."""
    root = Path(root)
    path = root / SETS_FILE
    if not path.exists():
        raise F2FError(f"No image sets at '{root}' (no {SETS_FILE}). Make them with `f2f manifold sets --out {root}`.")
    record = _read_json(path, "sets record")
    try:
        return ImageSets(root, [SetPrompt(**p) for p in record["prompts"]], record)
    except (KeyError, TypeError):
        raise F2FError(f"'{path}' lists no readable prompts; it was edited or damaged. "
                       "Restore it, or make the sets again in another folder.") from None


def _read_json(path: Path, what: str) -> dict:
    """A JSON object file of a sets folder, or F2FError naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise F2FError(f"Cannot read the {what} '{path}' ({exc}); it was edited or damaged. Fix or remove it.") from None
    if not isinstance(data, dict):
        raise F2FError(f"The {what} '{path}' should hold a JSON object; it was edited or damaged. Fix or remove it.")
    return data


def _load_flux(settings: FluxSettings, device, offload: bool):
    from diffusers import FluxPipeline


    # FLUX.1-dev is gated: the loader's message says how to log in and accept the licence.
    pipe = load_pipeline(FluxPipeline, settings.model, description="the FLUX image sets (about 33 GB)",
                         torch_dtype=default_dtype(str(device)), stand_in="flux")
    place_pipeline(pipe, str(device), offload=offload)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def generate_sets(
    out: str | Path,
    prompts: Sequence[SetPrompt] | Mapping[str, str] = PAPER_PROMPTS,
    n: int = 200,
    model: str = "black-forest-labs/FLUX.1-dev",
    *,
    num_inference_steps: int | None = None,
    guidance_scale: float | None = None,
    size: int | None = None,
    seed: int = 0,
    offload: bool = False,
    progress: bool = True,
    on_image: Callable[[Path], None] | None = None,
) -> ImageSets:
    """Make `n` images per prompt with FLUX into `out`, resuming whatever is already there.

    Args:
        out: the sets folder (created if needed).
        prompts: the paper's three by default; or a {label: prompt} mapping.
        n: images per set (200 in the paper; a rerun with a larger n adds the rest).
        model: "black-forest-labs/FLUX.1-dev" (the paper's), "FLUX.1-schnell" (4 steps, minutes
            for a class-sized set), "tiny" (random weights, offline), or another FLUX hub id.
        num_inference_steps, guidance_scale, size: override the model's settings (`FLUX_MODELS`).
        seed: image i of set k uses seed `seed + k * 10000 + i`, recorded beside the image.
        offload: model CPU offload, for GPUs with less memory than the model (~33 GB in bf16).
        on_image: called with each finished image's path (progress display, tests).

    Under `accelerate launch`, each process makes its share (see the module docstring).
    """
    from tqdm.auto import tqdm

    prompts = as_prompts(prompts)
    if not 1 <= n <= SEED_STRIDE:
        raise F2FError(f"n={n} images per set; use 1 to {SEED_STRIDE}.")
    base = flux_settings(model)
    if num_inference_steps is not None and num_inference_steps < 1:
        raise F2FError(f"--steps {num_inference_steps}: use at least 1 denoising step.")
    if size is not None and size < 16:
        raise F2FError(f"--size {size}: use a multiple of 16 of at least 16.")
    settings = FluxSettings(
        base.model, num_inference_steps or base.num_inference_steps,
        base.guidance_scale if guidance_scale is None else guidance_scale, size or base.size, base.max_sequence_length,
    )
    if settings.size % 16:
        raise F2FError(f"FLUX needs image sides that are multiples of 16; got {settings.size}.")
    out = Path(out)
    shared = {"prompts": [asdict(p) for p in prompts], "settings": asdict(settings), "seed": seed, "seed_stride": SEED_STRIDE}
    _check_same_sets(out, shared)

    import torch

    # Launched as several processes (accelerate launch, torchrun), each takes its share.
    state = process_state()
    if state.is_main_process:
        write_json_atomic(out / SETS_FILE, {**shared, "n": max(n, _recorded_n(out)), "versions": library_versions()})
    work = [(k, p, i) for k, p in enumerate(prompts) for i in range(n)]
    mine = work[state.process_index::state.num_processes]
    todo = [(k, p, i) for k, p, i in mine if not (out / p.key / f"{i:04d}.json").exists()]

    if todo:
        pipe = _load_flux(settings, state.device, offload)
        revision = revision_of(pipe.transformer.config.get("_name_or_path"))
        bar = tqdm(todo, desc=f"FLUX images (process {state.process_index})" if state.num_processes > 1 else "FLUX images",
                   disable=not progress, unit="img")
        for k, p, i in bar:
            image_seed = seed + k * SEED_STRIDE + i
            start = time.perf_counter()
            with out_of_memory("making FLUX images", "Pass --cpu-offload or a smaller --size."):
                image = pipe(
                    p.prompt, height=settings.size, width=settings.size, num_inference_steps=settings.num_inference_steps,
                    guidance_scale=settings.guidance_scale, max_sequence_length=settings.max_sequence_length,
                    generator=torch.Generator(device="cpu").manual_seed(image_seed),
                ).images[0]
            path = save_image(image, out / p.key / f"{i:04d}.png")
            write_json_atomic(path.with_suffix(".json"), {
                "set": p.key, "index": i, "prompt": p.prompt, "seed": image_seed, "model": settings.model,
                "revision": revision, "num_inference_steps": settings.num_inference_steps,
                "guidance_scale": settings.guidance_scale, "size": settings.size,
                "seconds": round(time.perf_counter() - start, 3), "device": str(state.device),
                "process": f"{state.process_index} of {state.num_processes}",
            })
            if on_image is not None:
                on_image(path)
    state.wait_for_everyone()
    return load_sets(out)


def _recorded_n(out: Path) -> int:
    path = out / SETS_FILE
    return _read_json(path, "sets record").get("n", 0) if path.exists() else 0


def _check_same_sets(out: Path, shared: dict) -> None:
    """A rerun must continue the same sets: same prompts, model, sampling and seeds."""
    path = out / SETS_FILE
    if not path.exists():
        return
    before = _read_json(path, "sets record")
    changed = [k for k in shared if before.get(k) != shared[k]]
    if changed:
        raise F2FError(
            f"'{out}' holds sets made with other {', '.join(changed)}; resuming would mix them. "
            "Choose another output folder, or use the same options as before."
        )


def noise_images(n: int = 25, size: int = 512, seed: int = 0) -> list[Image.Image]:
    """`n` images of uniform per-pixel RGB noise (the paper's 25 noise images), seeded."""
    if n < 1 or size < 16:
        raise F2FError(f"noise_images needs n >= 1 and size >= 16; got n={n}, size={size}.")
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)) for _ in range(n)]
