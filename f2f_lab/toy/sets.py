"""The three sets of Figure 2, drawn from the toy world instead of FLUX, in the same folder layout.

`make_sets(out)` writes what `f2f_lab.manifold.generate_sets` writes (sets.json, ai/0000.png
with ai/0000.json beside it, ...), so `load_sets`, `ImageSets.files`, the hand filter and
every later step of the study work unchanged. Each image's record holds its factors, so the
exact coordinates of every set image are known. Image i of set k is drawn with the seed
`seed + k * 10000 + i`, as the FLUX sets are; a rerun makes only what is missing.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import F2FError
from ..imaging import save_image
from ..manifold.sets import PAPER_PROMPTS, SEED_STRIDE, SETS_FILE, ImageSets, load_sets
from ..records import write_json_atomic
from .world import SIZE, ToyFactors, render, sample_factors

WORLD = "f2f_lab.toy"
WORLD_VERSION = 1  # bump when a rendering changes, so old sets folders are not mixed with new images

# What each of the paper's prompts means in the toy world: the pose range and the letters.
# The nuisances (colours, position) are drawn from the same distribution for every set.
SET_FACTORS: dict[str, dict] = {
    "ai": {"arms": (0.0, 0.1), "ai": True},         # "... wearing a shirt with the word 'AI' on it"
    "ai_heart": {"arms": (0.9, 1.0), "ai": True},   # "... with 'AI' on it and making a heart shape with their hands"
    "heart": {"arms": (0.9, 1.0), "ai": False},     # "... making a heart shape with their hands"
}


def sample_set(key: str, rng: np.random.Generator) -> ToyFactors:
    """Factors of one image of set `key` ("ai", "ai_heart", "heart")."""
    if key not in SET_FACTORS:
        raise F2FError(f"The toy world has no set '{key}'; its sets are: {', '.join(SET_FACTORS)}.")
    return sample_factors(rng, **SET_FACTORS[key])


def make_sets(out: str | Path, n: int = 200, *, seed: int = 0, size: int = SIZE) -> ImageSets:
    """Render `n` images per set of the paper's three into `out`, resuming whatever is already there.

    The same layout and records as `generate_sets`, plus each image's `factors`. Seconds for
    the paper's 3 x 200 at 64 px, on a CPU.
    """
    if not 1 <= n <= SEED_STRIDE:
        raise F2FError(f"n={n} images per set; use 1 to {SEED_STRIDE}.")
    out = Path(out)
    shared = {
        "prompts": [p.__dict__ for p in PAPER_PROMPTS],
        "world": {"renderer": WORLD, "version": WORLD_VERSION, "size": size,
                  "set_factors": {k: {**v, "arms": list(v["arms"])} for k, v in SET_FACTORS.items()}},
        "seed": seed, "seed_stride": SEED_STRIDE,
    }
    before = json.loads((out / SETS_FILE).read_text()) if (out / SETS_FILE).exists() else None
    if before is not None and any(before.get(k) != v for k, v in shared.items()):
        raise F2FError(f"'{out}' holds sets made otherwise (other prompts, renderer, size or seed); resuming would mix them. "
                       "Choose another folder, or use the same options as before.")
    write_json_atomic(out / SETS_FILE, {**shared, "n": max(n, (before or {}).get("n", 0))})
    for k, p in enumerate(PAPER_PROMPTS):
        for i in range(n):
            record = out / p.key / f"{i:04d}.json"
            if record.exists():
                continue
            image_seed = seed + k * SEED_STRIDE + i
            factors = sample_set(p.key, np.random.default_rng(image_seed))
            save_image(render(factors, size), record.with_suffix(".png"))
            write_json_atomic(record, {"set": p.key, "index": i, "prompt": p.prompt, "seed": image_seed, "model": WORLD,
                                       "size": size, "factors": factors.to_dict()})
    return load_sets(out)


def factors_of(image_file: str | Path) -> ToyFactors:
    """The factors of a toy set image, from the record beside it."""
    record = Path(image_file).with_suffix(".json")
    try:
        return ToyFactors.from_dict(json.loads(record.read_text())["factors"])
    except (OSError, ValueError, KeyError, TypeError):
        raise F2FError(f"'{image_file}' has no toy-world record ({record.name} with its factors); "
                       "it is not an image of toy sets made by make_sets.") from None
