"""Every editing method behind one registry, so benchmarks, metrics and notebooks treat them alike.

`make_editor("f2f", preset="paper")` is Frame2Frame; the paper's single-step baselines
(`editors.baselines`) and the newer instruction editors (`editors.peers`) join under their
own names. Each editor has `from_preset(preset, **options)` and `edit(image, target, seed=...)`
returning a result with `image`, `seed`, `record` and `save(folder)` (`editors.base.Editor`).

    editor = make_editor("sdedit", preset="paper")     # or SDEditEditor.from_preset("paper")
    result = editor.edit(image, "A photo of a cat yawning.", seed=0)
    result.image, result.seed, result.record; result.save("runs/cat-sdedit")

`EDITORS` is the one list of methods: the CLI's choices, the benchmark tables and the GPU
check read it. Adding an editor is one module (its settings and a class that declares its
pipeline) and one entry in `BASELINES` or `PEERS`.
"""

from __future__ import annotations

from ..errors import F2FError
from ..pipeline import Frame2Frame
from .base import BaselineEditor, Editor, ImageEditResult, output_size
from .baselines import BASELINES
from .peers import PEERS

# method key -> its class (every one has `from_preset`); Frame2Frame first, then the paper's
# single-step baselines, then the peers (not in the paper).
EDITORS: dict[str, type] = {"f2f": Frame2Frame, **{editor.method: editor for editor in (*BASELINES, *PEERS)}}
METHODS = tuple(EDITORS)
BASELINE_METHODS = tuple(editor.method for editor in BASELINES)
PEER_METHODS = tuple(editor.method for editor in PEERS)
# The row name of each method in the benchmark tables (the paper's spelling).
TABLE_NAMES = {"f2f": "F2F", **{editor.method: editor.title for editor in (*BASELINES, *PEERS)}}


def make_editor(method: str = "f2f", preset: str = "paper", **options):
    """Build the editor of `method` from a preset (keyword options go to its `from_preset`).

    Options of a single-step editor: device, offload, progress, torch_dtype, and any field of
    its settings (the peers also vlm and vlm_options, for instruction="vlm").
    """
    if method not in EDITORS:
        raise F2FError(f"Unknown method '{method}'. Choose one of: {', '.join(METHODS)}.")
    return EDITORS[method].from_preset(preset, **options)


__all__ = [
    "EDITORS", "METHODS", "BASELINE_METHODS", "PEER_METHODS", "TABLE_NAMES", "make_editor", "Editor",
    "BaselineEditor", "ImageEditResult", "output_size",
]
