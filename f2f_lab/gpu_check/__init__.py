"""`f2f gpu-check`: one prepared command that proves every heavy path, at full size on a GPU (issue 16).

    f2f gpu-check --out DIR [--size full|tiny] [--budget-s 480]

Full size builds each model at its published configuration with random weights drawn on
the GPU (no download, no 5B-parameter CPU initialisation) and runs it through the entry
points users call; tiny size runs the same items with the tiny models on the CPU, the
rehearsal that `make test` keeps working. In priority order, one JSON each under DIR:
    1_video.json      CogVideoX-5B I2V, paper preset: step time, VAE encode/decode, peak memory, TFLOP/s
    2_levers.json     fast (against paper: output difference), turbo, lowvram, then each lever alone
    3_edit.json       one Frame2Frame edit, VLM answered by the local test server, 50 steps if they fit
    4_baselines.json  SDEdit, LEDITS++, Pix2Pix-Zero (SD 1.5), FlowEdit (FLUX.1-dev), a few steps each
    5_flux_sets.json  FLUX.1-dev set generation for the manifold study at 1024 px
    6_metrics.json    LPIPS, CLIP-I and CLIP score on a batch of 16
    7_vlm_local.json  the open preset's local VLM (Qwen2.5-VL-7B): a B.1 caption and a C.1 selection request
    8_backends.json   every other video backend (LTX, Wan 2.2 5B, CogVideoX 1.5, HunyuanVideo 1.5, Wan 2.1,
                      Wan 2.2 A14B) through its adapter: 2 steps of 33 frames at its pixel budget each
    9_peers.json      the peer editors (FLUX.1 Kontext [dev], Qwen-Image-Edit-2509, ChronoEdit-14B) through their
                      editors: one 2-step edit of a 720x480 noise source each
    10_latent_dropout.json  latent dropout (K=3 from t < 900) against plain generation on Wan 2.2 A14B
                      and CogVideoX-5B: the time ratio, same model, seed and steps
    summary.json      every item's status, time and headline figures

The command stops cleanly before its budget with what it has (`core` says how).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..loading import default_device
from . import backend_items, other_paths, peer_items, video_items
from .core import Budget, Check, Item, ItemSpec, resolve_size, run_items

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


def run_gpu_check(
    out: str | Path,
    *,
    size: str | None = None,
    budget_s: float | Budget = DEFAULT_BUDGET_S,
    device: str | None = None,
    command: str = "f2f gpu-check",
    on_item: Callable[[Item], None] | None = None,
) -> dict:
    """Run the items in priority order within the budget; returns the summary (also `out/summary.json`).

    Args:
        size: "full" (published configurations, random weights, a CUDA GPU) or "tiny" (the tiny
            models on the CPU); None picks full when CUDA is there, else tiny.
        budget_s: seconds for everything, or a `Budget` (tests give one with their own clock).
        on_item: called after each item that ran, with its `Item`.
    """
    size_device = device or ("cpu" if size == "tiny" else default_device())
    size = resolve_size(size, size_device)
    budget = budget_s if isinstance(budget_s, Budget) else Budget(float(budget_s))
    check = Check(out=Path(out), size=size, device=size_device, budget=budget, command=command)
    return run_items(check, ITEMS, on_item=on_item)
