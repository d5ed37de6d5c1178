"""`f2f gpu-check`: one prepared command that proves every heavy path, at full size on a GPU (issue 16).

    f2f gpu-check --out DIR [--size full|tiny] [--budget-s 480] [--items 1,3,7,10]

Full size builds each model at its published configuration with random weights drawn on
the GPU (no download, no 5B-parameter CPU initialisation) and runs it through the entry
points users call; tiny size runs the same items with the tiny models on the CPU, the
rehearsal that `make test` keeps working. The items, in priority order (`--items` chooses some, by
number, name or range, and runs them in the order given), all written into one file, DIR/results.json
(a summary, then each item's record under its key):
    1_video           CogVideoX-5B I2V, paper preset: step time, VAE encode/decode, peak memory, TFLOP/s
    2_levers          fast (against paper: output difference), turbo, lowvram, then each lever alone
    3_edit            one Frame2Frame edit, VLM answered by the local test server, 50 steps if they fit
    4_baselines       SDEdit, LEDITS++, Pix2Pix-Zero (SD 1.5), FlowEdit (FLUX.1-dev), a few steps each
    5_flux_sets       FLUX.1-dev set generation for the manifold study at 1024 px
    6_metrics         LPIPS, CLIP-I and CLIP score on a batch of 16
    7_vlm_local       the open preset's local VLM (Qwen2.5-VL-7B): a B.1 caption and a C.1 selection request
    8_backends        every other video backend (LTX, Wan 2.2 5B, CogVideoX 1.5, HunyuanVideo 1.5, Wan 2.1,
                      Wan 2.2 A14B) through its adapter: 2 steps of 33 frames at its pixel budget each
    9_peers           the peer editors (FLUX.1 Kontext [dev], Qwen-Image-Edit-2509, ChronoEdit-14B) through their
                      editors: one 2-step edit of a 720x480 noise source each
    10_latent_dropout latent dropout (K=3 from t < 900) against plain generation on Wan 2.2 A14B
                      and CogVideoX-5B: the time ratio, same model, seed and steps

A lent GPU runs one command for at most 10 minutes and gives back at most 8 files, so the check runs
as two commands (`PAPER_PATH` then `THE_REST`; docs/PERFORMANCE.md, "The GPU check"), each writing
results.json and its log. The command stops cleanly before its budget with what it has (`core` says how).
Refused up front, before anything is built or written: unknown items, a budget that is not a finite
number of seconds up to a day, a device torch cannot parse or this machine lacks (`check_device`),
an `--out` this process cannot write in. Without CUDA and without `--size` it rehearses at tiny
size on the CPU and says so (stderr and the results file's `summary.notes`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

from ..errors import F2FError
from ..loading import default_device
from . import backend_items, other_paths, peer_items, video_items
from .core import Budget, Check, Item, ItemSpec, check_budget, check_writable_out, resolve_size, run_items

ITEMS = (
    ItemSpec(1, "video", "CogVideoX-5B I2V, paper preset", video_items.video, video_items.video_minimum),
    ItemSpec(2, "levers", "Speed levers and presets against paper", video_items.levers, video_items.levers_minimum),
    ItemSpec(3, "edit", "One end-to-end Frame2Frame edit with the local VLM server", video_items.edit,
             video_items.edit_minimum),
    ItemSpec(4, "baselines", "Baseline editors over their real pipelines", other_paths.baselines,
             other_paths.minimum("baselines")),
    ItemSpec(5, "flux_sets", "FLUX set generation for the manifold study", other_paths.flux_sets,
             other_paths.minimum("flux_sets")),
    ItemSpec(6, "metrics", "Metrics on a batch of 16", other_paths.metrics, other_paths.minimum("metrics")),
    ItemSpec(7, "vlm_local", "Local VLM (open preset): caption and selection requests", other_paths.vlm_local,
             other_paths.minimum("vlm_local")),
    ItemSpec(8, "backends", "Every other video backend through its adapter", backend_items.backends,
             backend_items.minimum),
    ItemSpec(9, "peers", "Peer editors (ChronoEdit, FLUX.1 Kontext, Qwen-Image-Edit)", peer_items.peers,
             peer_items.minimum),
    ItemSpec(10, "latent_dropout", "IF-Edit's temporal latent dropout against plain generation, same model and seed",
             backend_items.latent_dropout, backend_items.dropout_minimum),
)
DEFAULT_BUDGET_S = 480.0
# The two commands a lent GPU runs back to back (docs/PERFORMANCE.md): the paper's path (its preset's speed,
# one real edit with both VLM steps, the local VLM, latent dropout), then everything else, the paths that
# have never met a GPU first and the levers (whose extras soak up what is left) last.
PAPER_PATH = ("video", "edit", "vlm_local", "latent_dropout")
THE_REST = ("backends", "peers", "baselines", "flux_sets", "metrics", "levers")


def select_items(chosen: str | list[str] | tuple[str, ...] | None) -> tuple[ItemSpec, ...]:
    """The `ItemSpec`s named by `chosen`, in its order: numbers ("3"), names ("edit", "1_video") or ranges ("4-6").

    A string is split at commas; None chooses every item in priority order. Repeats count once.
    """
    if chosen is None:
        return ITEMS
    words = [word.strip() for word in (chosen.split(",") if isinstance(chosen, str) else chosen)]
    by_word = {word: spec for spec in ITEMS for word in (str(spec.number), spec.name, spec.key)}
    picked: list[ItemSpec] = []
    for word in filter(None, words):
        low, dash, high = word.partition("-")
        if dash and low.isdigit() and high.isdigit():
            specs = [spec for spec in ITEMS if int(low) <= spec.number <= int(high)]
        else:
            specs = [by_word[word]] if word in by_word else []
        if not specs:
            choices = ", ".join(f"{spec.number} {spec.name}" for spec in ITEMS)
            raise F2FError(f"Unknown GPU-check item '{word}' in --items; choose numbers, names or ranges (4-6) of: {choices}.")
        picked += [spec for spec in specs if spec not in picked]
    if not picked:
        raise F2FError("--items chose no item; name some, as in --items 1,3 or --items edit,latent_dropout.")
    return tuple(picked)


def check_device(device: str) -> str:
    """`device` if torch parses it and this machine has it (cpu, cuda, cuda:N), else a one-line `F2FError`."""
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        parsed = None
    if parsed is None or parsed.type not in ("cpu", "cuda"):
        raise F2FError(f"Unknown --device '{device}' for the GPU check; use cuda (or cuda:N) for full size, "
                       "cpu for the tiny rehearsal, or leave it out.")
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise F2FError(f"--device {device}: no CUDA GPU is visible here (torch.cuda.is_available() is False); "
                           "run on a machine with one, or use --size tiny (the CPU rehearsal) without --device.")
        count = torch.cuda.device_count()
        if parsed.index is not None and parsed.index >= count:
            raise F2FError(f"--device {device}: this machine has {count} CUDA GPU(s), cuda:0 to cuda:{count - 1}; "
                           "choose one of them.")
    return device


def run_gpu_check(
    out: str | Path,
    *,
    size: str | None = None,
    budget_s: float | Budget = DEFAULT_BUDGET_S,
    device: str | None = None,
    command: str = "f2f gpu-check",
    items: str | list[str] | tuple[str, ...] | None = None,
    on_item: Callable[[Item], None] | None = None,
) -> dict:
    """Run the chosen items within the budget, everything into `out/results.json`; returns the summary.

    Its `outcome` is "ok" only when some run finished and no item recorded an error. Ctrl-C raises
    `core.Interrupted` (its `summary` written first, the stopped item marked "interrupted").

    Args:
        size: "full" (published configurations, random weights, a CUDA GPU) or "tiny" (the tiny
            models on the CPU); None picks full when CUDA is there, else tiny.
        budget_s: seconds for everything, or a `Budget` (tests give one with their own clock).
        items: which items, in which order (`select_items`); None: all, in priority order.
        on_item: called after each item that ran, with its `Item`.
    """
    specs = select_items(items)  # all of these refused before anything is built or written
    seconds = None if isinstance(budget_s, Budget) else check_budget(budget_s)
    if device is not None:
        check_device(device)
    size_device = device or ("cpu" if size == "tiny" else default_device())
    notes = []
    if size is None and device is None and size_device == "cpu":
        notes.append("no CUDA GPU is visible, so this is the tiny rehearsal on the CPU, not the full-size check; "
                     "pass --size tiny to mean it, or run on a machine with a GPU")
    size = resolve_size(size, size_device)
    out = check_writable_out(out)
    for note in notes:
        print(f"f2f gpu-check: {note}.", file=sys.stderr)
    budget = budget_s if seconds is None else Budget(seconds)
    check = Check(out=out, size=size, device=size_device, budget=budget, command=command, notes=notes)
    return run_items(check, specs, on_item=on_item)
