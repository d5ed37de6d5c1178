"""Where this process stands among those `accelerate launch` or `torchrun` started.

The benchmark runner and the manifold study's set generation split their items across
processes with it; one process alone is a group of one.
"""

from __future__ import annotations


def process_state():
    """This process's place among those `accelerate launch` or `torchrun` started (accelerate's `PartialState`).

    On a machine without CUDA the processes talk over gloo (cpu=True), else over NCCL. The
    process group gets a day's timeout instead of the default 10 minutes: on a resume, a
    process whose share is done may wait at a barrier while another loads a 33 GB model and
    renders for longer than that, and the watchdog would kill the whole job.
    """
    from datetime import timedelta

    import torch
    from accelerate import PartialState
    from accelerate.utils import InitProcessGroupKwargs

    return PartialState(cpu=not torch.cuda.is_available(), **InitProcessGroupKwargs(timeout=timedelta(hours=24)).to_kwargs())
