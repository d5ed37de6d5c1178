"""Clocks and memory meters for the speed harness, and what the device is.

On a GPU every time stamp synchronises the run's device first, so a stage's time is the GPU
work it queued, and peak memory is `torch.cuda.max_memory_allocated` of that device per
stage; on a CPU it is the process's peak resident set size (Linux's VmHWM, reset at each
stage). Every CUDA call names the device: on `cuda:1` the current device may be `cuda:0`.
"""

from __future__ import annotations

import os
import platform
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

from ..records import library_versions


def on_cuda(device: str) -> bool:
    import torch

    return device.startswith("cuda") and torch.cuda.is_available()


def sync(device: str) -> None:
    """Wait for the work queued on `device` (nothing to wait for on a CPU)."""
    import torch

    if on_cuda(device):
        torch.cuda.synchronize(device)


def resident_bytes(device: str) -> int | None:
    """Memory held before an edit: the device's tensors on a GPU, the process's RSS on a CPU."""
    import torch

    if on_cuda(device):
        return torch.cuda.memory_allocated(device)
    try:
        import psutil

        return psutil.Process().memory_info().rss
    except ImportError:
        return None


class PeakMemory:
    """Peak memory per stage: CUDA tensor memory of `device`, or the process's resident set on a CPU.

    `switch(stage)` closes the current stage (its peak since it began) and opens the next.
    """

    def __init__(self, device: str):
        self.device = device
        self.cuda = on_cuda(device)
        self.kind = "cuda_max_memory_allocated" if self.cuda else ("rss_vmhwm" if _can_reset_rss() else "rss_ru_maxrss")
        self.peaks: dict[str, int] = defaultdict(int)
        self.stage = "other"
        self.reserved = 0

    def start(self, stage: str = "other") -> None:
        self._read_and_reset()
        self.stage = stage

    def clear(self) -> None:
        """Forget every peak so far (the warm-up's, with compilation and lazy loading)."""
        self.start()
        self.peaks.clear()
        self.reserved = 0

    def switch(self, stage: str) -> None:
        peak = self._read_and_reset()
        self.peaks[self.stage] = max(self.peaks[self.stage], peak)
        self.stage = stage

    @property
    def overall(self) -> int:
        return max(self.peaks.values(), default=0)

    def per_stage(self) -> dict[str, int]:
        """The stages that used memory, with their peaks."""
        return {stage: peak for stage, peak in self.peaks.items() if peak}

    def _read_and_reset(self) -> int:
        if self.cuda:
            import torch

            torch.cuda.synchronize(self.device)
            peak = torch.cuda.max_memory_allocated(self.device)
            self.reserved = max(self.reserved, torch.cuda.max_memory_reserved(self.device))
            torch.cuda.reset_peak_memory_stats(self.device)
            return peak
        if self.kind == "rss_vmhwm":
            peak = _vmhwm_bytes()
            _reset_rss_peak()
            return peak
        import resource  # not resettable: the process's peak since it started

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _vmhwm_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_rss_peak() -> None:
    # Linux: writing 5 to clear_refs resets VmHWM to the current resident set size.
    Path("/proc/self/clear_refs").write_text("5")


def _can_reset_rss() -> bool:
    try:
        _reset_rss_peak()
        return _vmhwm_bytes() > 0
    except OSError:
        return False


class InStage:
    """A stage object (captioner, selector) whose calls count as `stage` for peak memory."""

    def __init__(self, stage_object, stage: str, memory: PeakMemory):
        self.stage_object = stage_object
        self.stage = stage
        self.memory = memory

    def __getattr__(self, name):
        return getattr(self.stage_object, name)

    def __call__(self, *args, **kwargs):
        self.memory.switch(self.stage)
        try:
            return self.stage_object(*args, **kwargs)
        finally:
            self.memory.switch("other")


class StageClock:
    """Times the pieces of a CogVideoX pipeline call, by wrapping them for a `with` block.

    The wrappers are instance attributes over the pipeline's own methods and are removed on
    exit; nothing inside the transformer is touched, so compiled blocks stay whole.
    """

    PIECES = (
        ("text_encoding", "pipe", "encode_prompt"),
        ("image_encoding", "vae", "encode"),
        ("vae_decode", "vae", "decode"),
        ("postprocess", "video_processor", "postprocess_video"),
    )

    def __init__(self, pipe, device: str, memory: PeakMemory | None = None):
        self.pipe = pipe
        self.device = device
        self.memory = memory
        self._installed: list[tuple[Any, str]] = []
        self.reset()

    def reset(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.step_starts: list[float] = []
        self.step_ends: list[float] = []

    def now(self) -> float:
        sync(self.device)
        return time.perf_counter()

    def __enter__(self) -> "StageClock":
        owners = {"pipe": self.pipe, "vae": self.pipe.vae, "video_processor": self.pipe.video_processor}
        for stage, owner_name, method in self.PIECES:
            self._wrap(owners[owner_name], method, self._timed(stage))
        scheduler = self.pipe.scheduler
        self._wrap(scheduler, "scale_model_input", self._step_start)
        self._wrap(scheduler, "step", self._step_end)
        return self

    def __exit__(self, *exc) -> None:
        for owner, method in reversed(self._installed):
            delattr(owner, method)  # the class's method shows through again
        self._installed.clear()

    def _wrap(self, owner, method: str, make: Callable) -> None:
        if method in vars(owner):
            raise RuntimeError(f"{type(owner).__name__}.{method} is already wrapped")
        setattr(owner, method, make(getattr(owner, method)))
        self._installed.append((owner, method))

    def _timed(self, stage: str):
        def make(original):
            def timed(*args, **kwargs):
                start = self.now()
                if self.memory is not None:
                    self.memory.switch(stage)
                try:
                    return original(*args, **kwargs)
                finally:
                    self.seconds[stage] += self.now() - start
                    if self.memory is not None:
                        self.memory.switch("other")

            return timed

        return make

    def _step_start(self, original):
        def scale_model_input(*args, **kwargs):
            self.step_starts.append(self.now())
            if self.memory is not None and len(self.step_starts) == 1:
                self.memory.switch("denoising")
            return original(*args, **kwargs)

        return scale_model_input

    def _step_end(self, original):
        def step(*args, **kwargs):
            result = original(*args, **kwargs)
            self.step_ends.append(self.now())
            return result

        return step

    def step_seconds(self) -> list[float]:
        """Each step from its start to the next one's (the last to its own end)."""
        starts, ends = self.step_starts, self.step_ends
        if not starts or not ends:
            return []
        bounds = starts[1:] + [ends[-1]]
        return [b - a for a, b in zip(starts, bounds)]

    def split(self, video_seconds: float) -> dict[str, Any]:
        """The video stage's seconds by piece; `video_other` is what the named pieces leave."""
        pieces = {stage: self.seconds.get(stage, 0.0) for stage, _, _ in self.PIECES}
        steps = self.step_seconds()
        denoising = sum(steps)
        other = max(video_seconds - denoising - sum(pieces.values()), 0.0)
        return {**pieces, "denoising": denoising, "video_other": other, "video": video_seconds, "steps": len(steps)}

    def close_denoising(self) -> None:
        """Attribute the memory of the steps to denoising (called once the loop is over)."""
        if self.memory is not None and self.memory.stage == "denoising":
            self.memory.switch("other")


def format_bytes(count: int | None) -> str:
    return "-" if not count else f"{count / 2**30:.2f} GiB"


def describe_memory(memory: dict) -> str:
    """One line for a report: the peak (and how it was measured), the allocator's reserve, the resident base."""
    line = f"peak memory: {format_bytes(memory['peak_bytes'])} ({memory['kind']})"
    if memory.get("reserved_bytes"):
        line += f", {format_bytes(memory['reserved_bytes'])} reserved by the CUDA allocator"
    if memory.get("resident_bytes"):
        line += f"; {format_bytes(memory['resident_bytes'])} before the edit"
    return line


# -- The device and the libraries, for the report ---------------------------------------------

def device_info(device: str) -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {"device": device, "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()}
    if hasattr(os, "getloadavg"):  # other work on the machine slows a run down; say how much there was
        info["load_average_1min"] = round(os.getloadavg()[0], 2)
    if on_cuda(device):
        index = torch.device(device).index
        index = torch.cuda.current_device() if index is None else index
        props = torch.cuda.get_device_properties(index)
        info.update(name=torch.cuda.get_device_name(index), memory_bytes=props.total_memory,
                    capability=f"{props.major}.{props.minor}")
    else:
        info["name"] = _cpu_name()
    return info


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


def versions() -> dict[str, str]:
    """The library versions of a run record, plus CUDA's and cuDNN's."""
    import torch

    found = library_versions()
    found["cuda"] = torch.version.cuda or "none"
    if torch.backends.cudnn.is_available():
        found["cudnn"] = str(torch.backends.cudnn.version())
    return found
