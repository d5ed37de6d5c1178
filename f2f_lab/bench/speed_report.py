"""The speed harness's results: one configuration (`SpeedReport`) or two side by side (`SpeedComparison`).

Both are plain data with `to_dict()` for JSON and `table()` for the terminal; a notebook
shows the table (`_repr_markdown_`).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, fields
from typing import Any

from .flops import describe_flops, format_tflops
from .meters import describe_memory, format_bytes

# The stages of one edit, in the order they run. `video_other` is the video stage's time
# outside the named pieces (latent preparation, rotary embeddings, offload moves, Python).
STAGES = (
    "caption", "text_encoding", "image_encoding", "denoising", "vae_decode", "postprocess",
    "video_other", "selection", "metrics",
)
TOTALS = ("video", "edit", "edit_with_metrics")


@dataclass
class SpeedReport:
    """What `measure_speed` found for one configuration. Seconds are medians over repeats."""

    preset: str
    settings: dict[str, Any]
    device: dict[str, Any]
    versions: dict[str, str]
    load_seconds: float
    warmup_seconds: list[float]
    stages: dict[str, float | None]
    totals: dict[str, float | None]
    step_seconds: list[float]
    repeats: list[dict[str, Any]]
    flops: dict[str, Any]
    memory: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    result: Any = field(default=None, repr=False)  # the last measured EditResult (not in JSON)

    @property
    def edit_seconds(self) -> float:
        return self.totals["edit"]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "f2f_speed", **{f.name: getattr(self, f.name) for f in fields(self) if f.name != "result"}}

    def table(self) -> str:
        """A plain-text table of the stages, FLOP rate and memory."""
        lines = [_title(self), f"{'stage':<16}{'seconds':>10}{'share':>8}{'peak memory':>14}"]
        edit = self.totals["edit"] or 0.0
        for stage in STAGES:
            seconds = self.stages.get(stage)
            share = f"{100 * seconds / edit:.1f}%" if seconds is not None and edit and stage != "metrics" else ""
            lines.append(f"{stage:<16}{_fmt_seconds(seconds):>10}{share:>8}{format_bytes(self.memory['per_stage'].get(stage)):>14}")
        for total in TOTALS:
            lines.append(f"{total:<16}{_fmt_seconds(self.totals.get(total)):>10}")
        steps = self.step_seconds
        if steps:
            lines.append(f"denoising steps: {len(steps)}, median {_fmt_seconds(statistics.median(steps))} s, "
                         f"first {_fmt_seconds(steps[0])} s")
        lines += [describe_flops(self.flops), describe_memory(self.memory),
                  f"load {self.load_seconds:.2f} s, warm-up edits "
                  + (", ".join(f"{s:.2f}" for s in self.warmup_seconds) + " s" if self.warmup_seconds else "none")]
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return f"```\n{self.table()}\n```"


@dataclass
class SpeedComparison:
    """Two configurations measured in one run; ratios are a / b (above 1: b is faster)."""

    a: SpeedReport
    b: SpeedReport
    ratios: dict[str, float | None]
    memory_ratio: float | None
    output_difference: dict[str, Any] | None

    @property
    def speedup(self) -> float | None:
        return self.ratios.get("edit")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "f2f_speed_compare", "a": self.a.to_dict(), "b": self.b.to_dict(), "ratios": self.ratios,
            "speedup": self.speedup, "memory_ratio": self.memory_ratio, "output_difference": self.output_difference,
        }

    def table(self) -> str:
        a, b = self.a, self.b
        heads = [f"{a.preset} (s)", f"{b.preset} (s)", f"{a.preset}/{b.preset}"]
        w = [max(len(h), 10) + 2 for h in heads]
        lines = [f"a: {_title(a)}", f"b: {_title(b)}", f"{'stage':<18}{heads[0]:>{w[0]}}{heads[1]:>{w[1]}}{heads[2]:>{w[2]}}"]
        for name in STAGES + TOTALS:
            sa = a.stages.get(name, a.totals.get(name))
            sb = b.stages.get(name, b.totals.get(name))
            ratio = self.ratios.get(name)
            lines.append(f"{name:<18}{_fmt_seconds(sa):>{w[0]}}{_fmt_seconds(sb):>{w[1]}}{_fmt_ratio(ratio):>{w[2]}}")
        lines.append(f"{'peak memory':<18}{format_bytes(a.memory['peak_bytes']):>{w[0]}}{format_bytes(b.memory['peak_bytes']):>{w[1]}}"
                     f"{_fmt_ratio(self.memory_ratio):>{w[2]}}")
        lines.append(f"{'denoiser TFLOP/s':<18}{format_tflops(a.flops):>{w[0]}}{format_tflops(b.flops):>{w[1]}}")
        if self.speedup:
            lines.append(f"end to end per edit: {b.preset} is {self.speedup:.2f}x as fast as {a.preset}")
        if self.output_difference:
            d = self.output_difference
            lines.append(f"outputs (seed {a.settings['seed']}, {d['frames']} frames): max |diff| {d['max_abs']} of 255, "
                         f"mean {d['mean_abs']:.3f}, PSNR {d['psnr_db']:.1f} dB" + ("" if d["comparable"] else " (different settings)"))
        lines += [f"note ({r.preset}): {note}" for r in (a, b) for note in r.notes]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return f"```\n{self.table()}\n```"


def _title(report: SpeedReport) -> str:
    s = report.settings
    models = "tiny models" if s["tiny_models"] else ("random-weight 5B" if s["random_weights"] else s["video_model"])
    return (f"{report.preset}: {models}, {s['canvas'][0]}x{s['canvas'][1]}x{s['num_frames']}, {s['num_inference_steps']} steps, "
            f"{report.device['name']} ({report.device['device']}), median of {s['repeat']} after {s['warmup']} warm-up")


def _fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.3f}" if seconds < 100 else f"{seconds:.1f}"


def _fmt_ratio(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"
