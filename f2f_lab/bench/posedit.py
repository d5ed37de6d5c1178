"""PosEdit, rebuilt: human pose edits with a ground-truth target, from UTD-MHAD's RGB videos.

The paper's PosEdit (Sec. 5.3, appendix F) has 58 tasks in 8 action categories from UTD-MHAD
(Chen et al. 2015; 8 subjects, 27 actions, 4 trials each, 640x480 RGB `.avi` files named
`a{action}_s{subject}_t{trial}_color.avi`). Its frame indices and crops were not released, so
this is a REBUILD that follows the paper's description; its numbers are comparable to the
paper's Table 2 in kind, not task for task.

How a task is made, for each category (`data/tasks/posedit_tasks.json`) and subject, from the
lowest-numbered trial on disk (or `trial=`):

1. Source frame: frame 0. Every UTD-MHAD trial starts with the subject standing still, arms
   relaxed at the sides: the paper's neutral source pose.
2. Target frame: the frame farthest from the source, i.e. the largest mean absolute
   difference of 80x60 greyscale thumbnails from frame 0 (earliest on ties): the peak of
   the action (bottom of the squat, hands together in the clap, ...).
3. Crop: one square crop for both frames, as tall as the video, centred on the column
   centroid of the motion (mean absolute difference of every frame from frame 0), clamped
   inside the frame; so the subject is centred and the background stays aligned.
4. Both crops are resized to 512x512 (the paper's evaluation size) and saved as PNG.

8 categories x 8 subjects gives up to 64 tasks (the paper curated 58 by hand; which 6 it
dropped is not known). Target captions: the paper prints three ("A person performing a
squat.", "A person jogging.", "A person making a basketball shooting posture." in Figure
S15; Sec. 5.3 writes the last as "A person in a basketball shooting posture."); the other
five and all eight temporal captions are ours, in the paper's style, since the paper's were
not published. `posedit_tasks.json` says which is which.

The rebuilt folder:
    out/
      tasks.json                       {"benchmark": "posedit-rebuild", "tasks": [...], ...}
      images/<id>_source.png, <id>_target.png
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from ..editors import EDITORS
from ..editors.baselines import POSEDIT_SOURCE_DESCRIPTION
from ..errors import F2FError
from ..imaging import save_image
from ..records import write_json_atomic
from .tasks import DATA_TASKS, BenchTask, check_images_exist, read_json

CATEGORIES_FILE = DATA_TASKS / "posedit_tasks.json"
UTD_MHAD_URL = "https://personal.utdallas.edu/~kehtar/UTD-MHAD.html"
VIDEO_NAME = re.compile(r"^a(\d+)_s(\d+)_t(\d+)_color\.avi$", re.IGNORECASE)
THUMBNAIL = (80, 60)  # (width, height) for comparing frames: coarse enough to ignore codec noise
IMAGE_SIZE = 512  # the paper's evaluation size
SOURCE_FRAME = 0


@dataclass(frozen=True)
class Category:
    name: str
    action: int  # UTD-MHAD action number
    target_text: str
    temporal_caption: str


def categories() -> list[Category]:
    """The 8 PosEdit categories with their target and temporal captions."""
    return [
        Category(c["category"], int(c["utd_mhad_action"]), c["target_text"], c["temporal_caption"])
        for c in json.loads(CATEGORIES_FILE.read_text(encoding="utf-8"))
    ]


def find_videos(utd_mhad_dir: str | Path) -> dict[tuple[int, int, int], Path]:
    """{(action, subject, trial): path} for every `a*_s*_t*_color.avi` under the folder (any depth)."""
    root = Path(utd_mhad_dir)
    if not root.is_dir():
        raise F2FError(f"No UTD-MHAD folder at '{root}'. Download and unzip its RGB videos from {UTD_MHAD_URL}.")
    videos = {}
    for path in sorted(root.rglob("*.avi")):
        match = VIDEO_NAME.match(path.name)
        if match:
            videos[tuple(int(g) for g in match.groups())] = path
    if not videos:
        raise F2FError(
            f"No UTD-MHAD RGB videos (a<action>_s<subject>_t<trial>_color.avi) under '{root}'. "
            f"Download RGB.zip from {UTD_MHAD_URL} and unzip it there."
        )
    return videos


def read_frames(path: str | Path) -> list[np.ndarray]:
    """Every frame of a video as an HxWx3 uint8 array (imageio's ffmpeg reader)."""
    import imageio.v2 as imageio

    try:
        with imageio.get_reader(str(path), format="ffmpeg") as reader:
            frames = [np.asarray(frame)[..., :3] for frame in reader]
    except (OSError, RuntimeError, ValueError) as exc:
        raise F2FError(f"Cannot read video '{path}' ({type(exc).__name__}: {exc}). Is the file complete?") from None
    if len(frames) < 2:
        raise F2FError(f"'{path}' has {len(frames)} frame(s); a PosEdit task needs a video.")
    return frames


def pick_frames(frames: list[np.ndarray]) -> dict:
    """Source frame, target frame and square crop box for one video, by the rules in the module docstring."""
    thumbs = np.stack([
        np.asarray(Image.fromarray(f).convert("L").resize(THUMBNAIL, Image.Resampling.BOX), dtype=np.float32)
        for f in frames
    ])
    differences = np.abs(thumbs - thumbs[SOURCE_FRAME])  # (T, h, w)
    target = int(np.argmax(differences.mean(axis=(1, 2))))  # argmax keeps the earliest on ties
    height, width = frames[0].shape[:2]
    side = min(height, width)
    columns = differences.mean(axis=(0, 1))  # motion per thumbnail column
    if columns.sum() > 0:
        centre = float((columns * (np.arange(len(columns)) + 0.5)).sum() / columns.sum()) * width / THUMBNAIL[0]
    else:
        centre = width / 2
    left = int(round(min(max(centre - side / 2, 0), width - side)))
    top = (height - side) // 2
    return {"source_frame": SOURCE_FRAME, "target_frame": target, "crop": [left, top, left + side, top + side],
            "num_frames": len(frames), "frame_size": [width, height]}


def _crop(frame: np.ndarray, box: list[int], size: int) -> Image.Image:
    return Image.fromarray(frame).crop(tuple(box)).resize((size, size), Image.Resampling.LANCZOS)


def build(
    utd_mhad_dir: str | Path,
    out: str | Path,
    *,
    trial: int | None = None,
    subjects: list[int] | None = None,
    size: int = IMAGE_SIZE,
    overwrite: bool = False,
    progress: bool = True,
) -> list[BenchTask]:
    """Rebuild PosEdit from UTD-MHAD's RGB videos into `out` (tasks.json + images/).

    Args:
        utd_mhad_dir: folder holding the `a*_s*_t*_color.avi` files (searched recursively).
        out: where to write; refuses a folder that already holds a tasks.json unless `overwrite`.
        trial: use this trial for every task (default: the lowest trial on disk).
        subjects: only these subjects (default: every subject found).
        size: side of the saved square images (paper: 512).
    """
    out = Path(out)
    if (out / "tasks.json").exists() and not overwrite:
        raise F2FError(f"'{out}' already holds a PosEdit rebuild (tasks.json); pass overwrite=True or choose another folder.")
    videos = find_videos(utd_mhad_dir)
    plan = []
    for category in categories():
        found = sorted({s for (a, s, _) in videos if a == category.action})
        for subject in found if subjects is None else [s for s in found if s in subjects]:
            trials = sorted(t for (a, s, t) in videos if a == category.action and s == subject)
            chosen = trial if trial is not None else trials[0]
            if (category.action, subject, chosen) in videos:
                plan.append((category, subject, chosen, videos[(category.action, subject, chosen)]))
    if not plan:
        raise F2FError(
            f"None of PosEdit's actions ({', '.join(str(c.action) for c in categories())}) were found under "
            f"'{utd_mhad_dir}'{'' if trial is None else f' for trial {trial}'}. Check the folder."
        )

    tasks, entries = [], []
    for category, subject, chosen, video in tqdm(plan, desc="PosEdit rebuild", unit="video", disable=not progress):
        frames = read_frames(video)
        picked = pick_frames(frames)
        task_id = f"{category.name}_s{subject}"
        source_rel, target_rel = f"images/{task_id}_source.png", f"images/{task_id}_target.png"
        save_image(_crop(frames[picked["source_frame"]], picked["crop"], size), out / source_rel)
        save_image(_crop(frames[picked["target_frame"]], picked["crop"], size), out / target_rel)
        meta = {"benchmark": "posedit", "category": category.name, "action": category.action, "subject": subject,
                "trial": chosen, "video": video.name, **picked}
        entries.append({"id": task_id, "source": source_rel, "target_image": target_rel,
                        "target_text": category.target_text, "temporal_caption": category.temporal_caption, "meta": meta})
        tasks.append(_task(out, entries[-1]))
    # tasks.json last: its presence means the images are all there.
    write_json_atomic(out / "tasks.json", {
        "benchmark": "posedit-rebuild",
        "note": "A rebuild of the paper's PosEdit from UTD-MHAD; frames and crops picked by f2f_lab.bench.posedit's rules.",
        "rules": {"source_frame": "frame 0", "target_frame": "farthest from frame 0 (80x60 greyscale mean abs. difference)",
                  "crop": "square, video height, centred on the motion's column centroid", "size": size},
        "utd_mhad": UTD_MHAD_URL,
        "tasks": entries,
    })
    return tasks


def _task(root: Path, entry: dict) -> BenchTask:
    return BenchTask(
        id=entry["id"], source=root / entry["source"], target_text=entry["target_text"],
        target_image=root / entry["target_image"], temporal_caption=entry.get("temporal_caption"),
        meta=entry.get("meta", {}),
    )


def load(root: str | Path) -> list[BenchTask]:
    """The tasks of a rebuilt PosEdit folder (see `build`)."""
    root = Path(root)
    data = read_json(root / "tasks.json", "PosEdit tasks.json (build it with `f2f bench posedit --utd-mhad DIR`)")
    entries = data.get("tasks") if isinstance(data, dict) else None
    if not entries:
        raise F2FError(f"'{root / 'tasks.json'}' holds no tasks. Rebuild PosEdit from UTD-MHAD.")
    for position, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) and entry[k].strip()
                                                  for k in ("id", "source", "target_image", "target_text")):
            raise F2FError(f"Task {position} of '{root / 'tasks.json'}' needs text 'id', 'source', 'target_image' and "
                           f"'target_text': {entry!r}. Rebuild PosEdit from UTD-MHAD.")
    try:
        tasks = [_task(root, entry) for entry in entries]
    except (KeyError, TypeError) as exc:
        raise F2FError(f"'{root / 'tasks.json'}' has a malformed task ({exc}). Rebuild PosEdit from UTD-MHAD.") from None
    check_images_exist(tasks, root)
    return tasks


# The source description each method gets on PosEdit. The paper runs Pix2Pix-Zero with one
# fixed sentence for every task (Sec. 5.3); FlowEdit also needs a source prompt, and gets the
# same. SDEdit and LEDITS++ take none (LEDITS++ inverts with an empty prompt), and Frame2Frame
# uses each category's temporal caption. On TEdBench every method that needs one gets
# `editors.baselines.source_description(target)`, the target's subject (the paper used BLIP-2).
SOURCE_DESCRIBED_METHODS = tuple(m for m, editor in EDITORS.items() if getattr(editor, "uses_source_description", False))


def editor_options(method: str) -> dict:
    """Options the PosEdit protocol gives `method` (its fixed source description), for `make_editor`."""
    return {"source_prompt": POSEDIT_SOURCE_DESCRIPTION} if method in SOURCE_DESCRIBED_METHODS else {}

