"""Appendix H of the paper ("Further Ablations"): other backgrounds, out-of-video-distribution edits.

Two objects, each generated with FLUX in eight places, then edited by an unreal process that
no real video shows: a teddy bear ripping apart by itself, a tennis ball turning into a
tomato. The temporal captions are the paper's and are given to the editor as they are
(`caption=`), so no captioner runs; the target captions (for the selector and the metrics)
are ours, since the paper prints none.

On disk:
    backgrounds/<object>/<location>.png    the FLUX source images (generate_backgrounds) ...
    backgrounds/<object>/<location>.json   ... each with its record: prompt, seed, model, sampling
    edits/<object>/<location>/seed-N/      one saved EditResult per source and seed (run_appendix_h)

An image or an edit counts as made once its .json (record.json) exists, so a rerun makes only
what is missing.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from PIL import Image

from .display import grid
from .errors import F2FError
from .imaging import load_image, save_image
from .loading import out_of_memory, release_memory
from .manifold.sets import FluxSettings, _load_flux, flux_settings
from .records import revision_of, write_json_atomic

# The paper's (appendix H), verbatim: the eight settings, in its order, that replace LOCATION
# in the two image-generation templates (the paper inserts them as they are, without an article).
LOCATIONS: tuple[str, ...] = (
    "colorful amusement park",
    "sandy beach",
    "magical fairy tale forest",
    "futuristic cityscape",
    "old library",
    "snowy mountain peak",
    "bustling train station",
    "quaint village square",
)
# The paper's (appendix H), verbatim: the two image-generation templates ...
TEMPLATES: dict[str, str] = {
    "teddy_bear": "A small brown teddy bear sitting in LOCATION.",
    "tennis_ball": "A tennis ball lies in LOCATION.",
}
# ... and the two temporal captions of its out-of-video-distribution edits.
TEMPORAL_CAPTIONS: dict[str, str] = {
    "teddy_bear": "The teddy bear slowly rips, revealing stuffing coming out.",
    "tennis_ball": "The tennis ball gradually transforms into a ripe red tomato.",
}
# OURS, not the paper's (it prints no target captions for appendix H): what the edited image
# shows, for the frame selector and the CLIP score.
TARGETS: dict[str, str] = {
    "teddy_bear": "A torn teddy bear with stuffing coming out.",
    "tennis_ball": "A ripe red tomato.",
}
OBJECTS: tuple[str, ...] = tuple(TEMPLATES)
RECORD = "record.json"


def slug(location: str) -> str:
    """Folder name of a location: "old library" -> "old_library"."""
    return "_".join(location.split())


def _locations(n_locations: int | None) -> tuple[str, ...]:
    if n_locations is None:
        return LOCATIONS
    if not 1 <= n_locations <= len(LOCATIONS):
        raise F2FError(f"n_locations={n_locations}: the paper has {len(LOCATIONS)} locations; use 1 to {len(LOCATIONS)}.")
    return LOCATIONS[:n_locations]


def appendix_h_prompts(n_locations: int | None = None) -> list[tuple[str, str, str]]:
    """(object, location, FLUX prompt) for every object and location: 2 x 8 = 16, object by object.

    `n_locations` keeps the paper's first locations only (a quick run).
    """
    return [(obj, loc, TEMPLATES[obj].replace("LOCATION", loc)) for obj in OBJECTS for loc in _locations(n_locations)]


@dataclass(frozen=True)
class Background:
    """One source image of appendix H: which object, where, its prompt and file."""

    object: str
    location: str
    prompt: str
    path: Path

    @property
    def temporal_caption(self) -> str:
        return TEMPORAL_CAPTIONS[self.object]

    @property
    def target(self) -> str:
        return TARGETS[self.object]


def _seed_of(obj: str, location: str, seed: int) -> int:
    """Each prompt's seed follows from its place in the full list of 16, so fewer locations make the same images."""
    return seed + OBJECTS.index(obj) * len(LOCATIONS) + LOCATIONS.index(location)


def generate_backgrounds(
    out: str | Path,
    *,
    model: str = "black-forest-labs/FLUX.1-dev",
    n_locations: int | None = None,
    seed: int = 0,
    num_inference_steps: int | None = None,
    guidance_scale: float | None = None,
    size: int | None = None,
    offload: bool = False,
    device: str | None = None,
    progress: bool = True,
) -> list[Background]:
    """The source images of appendix H with FLUX (the paper's Sec. 4 image model), cached in `out`.

    Args:
        model: "black-forest-labs/FLUX.1-dev" (what the paper used for its image sets),
            "FLUX.1-schnell", "tiny" (random weights, offline: noise), or another FLUX hub id;
            sampling as `manifold.sets.FLUX_MODELS` (the model card's) unless overridden.
        n_locations: the paper's first n locations only (default all 8).
        seed: the image of object k at location i uses seed `seed + 8k + i`, recorded beside it.
        offload: model CPU offload, for GPUs with less memory than FLUX (~33 GB in bf16).

    Resumable: images already made (with the same prompt, seed, model and sampling) are kept;
    one made with other settings is refused rather than mixed in. FLUX loads only when an image
    is missing. Returns the backgrounds, object by object.
    """
    from tqdm.auto import tqdm

    base = flux_settings(model)
    settings = FluxSettings(base.model, num_inference_steps or base.num_inference_steps,
                            base.guidance_scale if guidance_scale is None else guidance_scale, size or base.size,
                            base.max_sequence_length)
    if settings.num_inference_steps < 1 or settings.size < 16 or settings.size % 16:
        raise F2FError(f"FLUX needs at least 1 step and a size that is a multiple of 16; got "
                       f"{settings.num_inference_steps} steps, {settings.size} px.")
    out = Path(out)
    backgrounds, todo = [], []
    for obj, loc, prompt in appendix_h_prompts(n_locations):
        path = out / obj / f"{slug(loc)}.png"
        wanted = {"object": obj, "location": loc, "prompt": prompt, "seed": _seed_of(obj, loc, seed),
                  "model": settings.model, "num_inference_steps": settings.num_inference_steps,
                  "guidance_scale": settings.guidance_scale, "size": settings.size}
        backgrounds.append(Background(obj, loc, prompt, path))
        record = path.with_suffix(".json")
        if record.exists() and path.exists():
            before = _read_json(record)
            changed = [k for k, v in wanted.items() if before.get(k) != v]
            if changed:
                raise F2FError(f"'{path}' was made with other {', '.join(changed)}; choose another folder, "
                               "or the same options as before.")
        else:
            todo.append((path, wanted))
    if not todo:
        return backgrounds

    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    pipe = _load_flux(settings, device, offload)
    revision = revision_of(pipe.transformer.config.get("_name_or_path"))
    try:
        for path, wanted in tqdm(todo, desc="FLUX backgrounds", disable=not progress, unit="img"):
            start = time.perf_counter()
            with out_of_memory("making the appendix H backgrounds", "Pass offload=True or a smaller size."):
                image = pipe(
                    wanted["prompt"], height=settings.size, width=settings.size,
                    num_inference_steps=settings.num_inference_steps, guidance_scale=settings.guidance_scale,
                    max_sequence_length=settings.max_sequence_length,
                    generator=torch.Generator(device="cpu").manual_seed(wanted["seed"]),
                ).images[0]
            save_image(image, path)
            write_json_atomic(path.with_suffix(".json"), {**wanted, "revision": revision, "device": str(device),
                                                          "seconds": round(time.perf_counter() - start, 3)})
    finally:
        del pipe
        release_memory()
    return backgrounds


def load_backgrounds(out: str | Path) -> list[Background]:
    """The finished backgrounds of a folder made by `generate_backgrounds`, object by object."""
    out = Path(out)
    found = []
    for obj, loc, prompt in appendix_h_prompts():
        path = out / obj / f"{slug(loc)}.png"
        if path.exists() and path.with_suffix(".json").exists():
            found.append(Background(obj, loc, prompt, path))
    if not found:
        raise F2FError(f"No appendix H backgrounds in '{out}'; make them with generate_backgrounds('{out}').")
    return found


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise F2FError(f"Cannot read '{path}' ({exc}); it was edited or damaged. Remove it to make it again.") from None
    if not isinstance(data, dict):
        raise F2FError(f"'{path}' should hold a JSON object; remove it to make it again.")
    return data


def _row(bg: Background, seed: int, folder: Path, record: dict) -> dict:
    return {"object": bg.object, "location": bg.location, "seed": seed,
            "frame": record.get("selection", {}).get("index"), "caption": record.get("caption", {}).get("text"),
            "target": bg.target, "folder": folder, **(record.get("metrics") or {})}


def run_appendix_h(editor, sources: Sequence[Background] | str | Path, out: str | Path, *, seeds: Iterable[int] = (0,),
                   scorer=None, progress: bool = True) -> list[dict]:
    """Edit every background with its object's temporal caption (the paper's, as `caption=`), per seed.

    Args:
        editor: a `Frame2Frame` (its captioner is not used: the caption is given; its selector
            picks the frame, judged against our target caption).
        sources: what `generate_backgrounds` returned, or its folder.
        out: results go to out/<object>/<location>/seed-N (`EditResult.save`); finished folders
            are skipped, so a rerun edits only what is missing.
        scorer: a `metrics.Scorer`; its numbers (source vs edit, edit vs target) go into each
            record and row. A finished edit without them is scored from its saved images.

    Returns one row per edit: object, location, seed, frame (the chosen index, 0 = source kept),
    caption, target, folder and the metrics.
    """
    from tqdm.auto import tqdm

    if isinstance(sources, (str, Path)):
        sources = load_backgrounds(sources)
    out, seeds = Path(out), list(seeds)
    work = [(bg, seed) for bg in sources for seed in seeds]
    rows = []
    for bg, seed in tqdm(work, desc="Appendix H edits", disable=not progress, unit="edit"):
        folder = out / bg.object / slug(bg.location) / f"seed-{seed}"
        if (folder / RECORD).exists():
            record = _read_json(folder / RECORD)
            if scorer is not None and not record.get("metrics"):
                record["metrics"] = scorer.score(load_image(bg.path), load_image(folder / "edited.png"), bg.target)
                write_json_atomic(folder / RECORD, record)
        else:
            source = load_image(bg.path)
            result = editor.edit(source, bg.target, seed=seed, caption=bg.temporal_caption)
            if scorer is not None:
                result.metrics = scorer.score(source, result.image, bg.target)
            result.save(folder)
            record = _read_json(folder / RECORD)
        rows.append(_row(bg, seed, folder, record))
    return rows


def _rows_from_folder(out: Path) -> list[dict]:
    rows = []
    for obj, loc, prompt in appendix_h_prompts():
        for record in sorted((out / obj / slug(loc)).glob(f"seed-*/{RECORD}")):
            seed = int(record.parent.name.removeprefix("seed-"))
            rows.append(_row(Background(obj, loc, prompt, record.parent / "source.png"), seed, record.parent,
                             _read_json(record)))
    return rows


def appendix_h_grid(rows_or_out: Sequence[dict] | str | Path, *, height: int = 128) -> Image.Image:
    """One picture like the paper's Fig. S18: per object, its sources in a row, each seed's edits below.

    `rows_or_out` is what `run_appendix_h` returned, or its `out` folder. Columns are locations.
    """
    rows = _rows_from_folder(Path(rows_or_out)) if isinstance(rows_or_out, (str, Path)) else list(rows_or_out)
    if not rows:
        raise F2FError("No appendix H edits to show; run run_appendix_h first.")
    locations = [loc for loc in LOCATIONS if any(r["location"] == loc for r in rows)]
    board = {}
    for obj in OBJECTS:
        mine = [r for r in rows if r["object"] == obj]
        if not mine:
            continue
        by_seed: dict[int, dict[str, Path]] = {}
        sources: dict[str, Path] = {}
        for r in mine:
            folder = Path(r["folder"])
            sources.setdefault(r["location"], folder / "source.png")
            by_seed.setdefault(r["seed"], {})[r["location"]] = folder / "edited.png"
        board[f"{obj.replace('_', ' ')}: source (FLUX)"] = [
            load_image(sources[loc]) if loc in sources else None for loc in locations]
        for seed, edits in sorted(by_seed.items()):
            board[f"\"{TEMPORAL_CAPTIONS[obj]}\" (seed {seed})"] = [
                load_image(edits[loc]) if loc in edits else None for loc in locations]
    return grid(board, locations, height=height)
