"""Every editing method behind one factory, so benchmarks, metrics and notebooks treat them alike.

`make_editor("f2f", preset="paper")` is Frame2Frame; the paper's single-step baselines and
today's instruction editors join under their own names (their table is in f2f_lab.baselines).
Each editor has `edit(image, target, seed=...)` returning a result with `image`, `seed`,
`record` and `save(folder)`.
"""

from __future__ import annotations

from .errors import F2FError

# The paper's single-step baselines, then the peer instruction editors (not in the paper), all in f2f_lab.baselines.
BASELINE_METHODS = ("sdedit", "ledits", "flowedit", "pix2pix-zero")
PEER_METHODS = ("chronoedit", "kontext", "qwen-edit")
METHODS = ("f2f", *BASELINE_METHODS, *PEER_METHODS)


def make_editor(method: str = "f2f", preset: str = "paper", **options):
    """Build the editor of `method` from a preset (keyword options go to its factory)."""
    if method == "f2f":
        from .pipeline import Frame2Frame

        return Frame2Frame.from_preset(preset, **options)
    if method in METHODS:
        from .baselines import BASELINES

        # Options: device, offload, progress, torch_dtype, and any field of the method's settings
        # (the peers also vlm and vlm_options, for instruction="vlm").
        return BASELINES[method].from_preset(preset, **options)
    raise F2FError(f"Unknown method '{method}'. Choose one of: {', '.join(METHODS)}.")
