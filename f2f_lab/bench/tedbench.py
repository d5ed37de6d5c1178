"""TEdBench (Kawar et al., Imagic, CVPR 2023): 100 text-guided edits over 40 real images.

Get it from the Imagic authors' public repository, github.com/imagic-editing/imagic-editing.github.io,
folder `tedbench/`:

    tedbench/
      input_list.json      [{"img_name": "cat.jpeg", "target_text": "A photo of a cat wearing a hat."}, ...]
      originals/<img_name> the source images (square)

`load(root)` reads that layout as it is. Task ids are the entry's position and the image's
stem ("012_cat"), so the same caption on two images ("A photo of a cat wearing a hat.") stays
two tasks. The 100 target captions are also kept in `data/tasks/tedbench_targets.json`
(copied from that file), so code that must avoid them (in-context examples) can check
without the images.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import F2FError
from .tasks import DATA_TASKS, BenchTask, check_images_exist, read_json

SOURCE_URL = "https://github.com/imagic-editing/imagic-editing.github.io/tree/main/tedbench"
TARGETS_FILE = DATA_TASKS / "tedbench_targets.json"


def load(root: str | Path) -> list[BenchTask]:
    """The tasks of a TEdBench folder (`input_list.json` + `originals/`), in file order."""
    root = Path(root)
    if not root.is_dir():
        raise F2FError(f"No TEdBench folder at '{root}'. Download it from {SOURCE_URL} and pass its path as --data.")
    entries = read_json(root / "input_list.json", "TEdBench input_list.json")
    if not isinstance(entries, list) or not entries:
        raise F2FError(f"'{root / 'input_list.json'}' should be a non-empty list of {{img_name, target_text}} objects.")
    tasks = []
    for position, entry in enumerate(entries):
        if (not isinstance(entry, dict) or not isinstance(entry.get("img_name"), str) or not entry["img_name"].strip()
                or not isinstance(entry.get("target_text"), str) or not entry["target_text"].strip()):
            raise F2FError(f"Entry {position} of '{root / 'input_list.json'}' needs 'img_name' and 'target_text': {entry!r}.")
        name = str(entry["img_name"])
        tasks.append(BenchTask(
            id=f"{position:03d}_{Path(name).stem}",
            source=root / "originals" / name,
            target_text=" ".join(str(entry["target_text"]).split()),
            meta={"benchmark": "tedbench", "img_name": name, "position": position},
        ))
    check_images_exist(tasks, root)
    return tasks


def target_captions() -> list[str]:
    """TEdBench's 100 target captions, in input_list.json order (duplicates kept)."""
    return json.loads(TARGETS_FILE.read_text(encoding="utf-8"))
