"""The bundled sample photos, and small benchmark folders made from them for offline runs.

`sample_tedbench(out)` writes a folder in TEdBench's public layout (input_list.json +
originals/) and `sample_posedit(out)` one in the PosEdit rebuild's layout (tasks.json +
images/), so the benchmark notebook and the runner can be tried end to end without the real
data. They are layout samples, not benchmarks: three photos, our captions, and for PosEdit a
stand-in "ground truth" (the source mirrored), so their numbers mean nothing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from PIL import ImageOps

from .errors import F2FError
from .imaging import load_image, save_image
from .records import write_json_atomic
from .resources import data_path

SAMPLES_DIR = data_path("samples")

# (file, target caption): our captions, in TEdBench's style.
SAMPLE_EDITS = (
    ("cat.jpg", "A photo of a cat yawning."),
    ("astronaut.jpg", "A photo of an astronaut giving a thumbs up."),
    ("coffee.jpg", "A photo of a cup of coffee with a heart drawn in the foam."),
)


def sample_path(name: str) -> Path:
    """The path of a bundled sample photo: "cat.jpg", "coffee.jpg", "astronaut.jpg" (or "cat", ...)."""
    if not Path(name).suffix:
        name = f"{name}.jpg"
    path = SAMPLES_DIR / name
    if not path.is_file():
        available = ", ".join(sorted(p.name for p in SAMPLES_DIR.glob("*.jpg"))) or "none (f2f_lab/data/samples is missing)"
        raise F2FError(f"No sample image '{name}'. Available: {available}.")
    return path


def sample_tedbench(out: str | Path, limit: int | None = None) -> Path:
    """Write a TEdBench-layout folder of the sample photos into `out` (reused when already there)."""
    out = Path(out)
    edits = SAMPLE_EDITS[:limit] if limit else SAMPLE_EDITS
    entries = [{"img_name": name, "target_text": target} for name, target in edits]
    listing = out / "input_list.json"
    if listing.is_file() and json.loads(listing.read_text(encoding="utf-8")) == entries:
        return out
    (out / "originals").mkdir(parents=True, exist_ok=True)
    for name, _ in edits:
        shutil.copyfile(sample_path(name), out / "originals" / name)
    write_json_atomic(listing, entries)  # last: its presence means the images are there
    return out


def sample_posedit(out: str | Path, size: int = 512) -> Path:
    """Write a one-task folder in the PosEdit rebuild's layout: the astronaut, mirrored as a stand-in target."""
    out = Path(out)
    source = ImageOps.fit(load_image(sample_path("astronaut.jpg")), (size, size))
    save_image(source, out / "images" / "sample_source.png")
    save_image(ImageOps.mirror(source), out / "images" / "sample_target.png")
    write_json_atomic(out / "tasks.json", {
        "benchmark": "posedit-layout-sample",
        "note": "A layout sample for offline runs: the 'ground truth' is the source mirrored. Not PosEdit.",
        "tasks": [{
            "id": "sample_wave", "source": "images/sample_source.png", "target_image": "images/sample_target.png",
            "target_text": "A person waving with a raised hand.",
            "temporal_caption": "The person slowly raises one hand and waves. The camera remains static.",
            "meta": {"benchmark": "posedit", "sample": True},
        }],
    })
    return out
