"""The GPU check's frame: the budget, one results file for every item, sub-runs that fail alone, the command.

Items run in priority order. Each item has a minimum (its required runs) and may have
extras (optional runs, such as the single levers or 50 steps instead of a few). A required
run starts only if its estimate fits in what is left; an optional one only if it also
leaves the minimums of the items after it. An item that cannot start is written as
skipped with the reason. A hard stop (SIGALRM) at the budget's end ends whatever runs
then; its item is written as "stopped" with what it had. Estimates at full size come
from item 1's own measurements (build, per-step, per-edit seconds).

Everything measured goes into one file, `<out>/results.json` (`RESULTS_FILE`): the summary and each
item's whole record, rewritten atomically whenever an item starts or ends, so a run killed from
outside leaves what it had. One file because a GPU run gives back at most 8 files. Ctrl-C marks the item
it stopped as "interrupted", writes the file's summary and raises `Interrupted` (the command exits 130).
A disk fault while writing the file does not stop the check: the summary's `unsaved` says why, and the
summary run_items returns then holds the whole file under "results" (the command prints it).
The summary's `outcome` says whether the check proved anything: "ok", "errors" (an item recorded an
error), "nothing ran" (every item skipped) or "interrupted".

Refused before anything runs: a budget that is not a finite number of seconds in (0, `MAX_BUDGET_S`]
(`check_budget`) and an `--out` this process cannot write in (`check_writable_out`).
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from ..bench.meters import device_info, versions
from ..errors import F2FError
from ..loading import release_memory
from ..records import check_writable_dir, write_json_atomic

SIZES = ("full", "tiny")
RESULTS_FILE = "results.json"
# Seconds guessed before item 1 has measured anything, and for what it cannot measure.
GUESSES = {
    "full": {"build": 15.0, "step": 1.5, "edit_overhead": 20.0, "compile": 90.0, "other_paths": 120.0},
    "tiny": {"build": 1.0, "step": 0.05, "edit_overhead": 1.0, "compile": 60.0, "other_paths": 8.0},
}


MAX_BUDGET_S = 86400.0  # a day: more is a typo (1e20 overflows the hard stop's timer)


def check_budget(seconds) -> float:
    """`seconds` as a float if it is a finite number in (0, `MAX_BUDGET_S`], else a one-line `F2FError`."""
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= MAX_BUDGET_S):
        raise F2FError(f"--budget-s must be a number of seconds above 0 and at most {MAX_BUDGET_S:.0f} (a day), "
                       f"such as --budget-s 480; got {seconds}.")
    return value


def check_writable_out(out: str | os.PathLike) -> Path:
    """Prove `out` can be written (`records.check_writable_dir`: a probe file made and removed), then make it."""
    out = check_writable_dir(out, "--out", beside=False)
    out.mkdir(parents=True, exist_ok=True)
    return out


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during the check, raised after the results file was written; `summary` is what it holds."""

    def __init__(self, summary: dict):
        super().__init__("the GPU check was interrupted")
        self.summary = summary


class BudgetSpent(BaseException):
    """The budget's end came while a run was going (a BaseException, so no run's `except Exception` hides it)."""


@dataclass
class Budget:
    """Seconds for the whole check, counted from construction on `clock`."""

    seconds: float
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self):
        self.start = self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.start

    def remaining(self) -> float:
        return self.seconds - self.elapsed()

    def refusal(self, estimate: float | None, reserve: float = 0.0) -> str | None:
        """Why a run of about `estimate` seconds may not start (None: it may), keeping `reserve` for later items."""
        left = self.remaining()
        if left <= 0:
            return f"the budget of {self.seconds:.0f} s was spent ({self.elapsed():.0f} s elapsed)"
        need = (estimate or 0.0) + reserve
        if need > left:
            extra = f" plus {reserve:.0f} s kept for the items after it" if reserve else ""
            return f"needs about {estimate or 0:.0f} s{extra}; {left:.0f} s of the {self.seconds:.0f} s budget left"
        return None


@contextmanager
def hard_stop(budget: Budget):
    """Raise `BudgetSpent` in the main thread when the budget ends (real clock, POSIX, main thread only)."""
    usable = budget.clock is time.monotonic and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or budget.remaining() <= 0:
        yield
        return

    def on_alarm(signum, frame):
        raise BudgetSpent()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, budget.remaining())
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Check:
    """What every item shares: where it runs, the budget, the estimates, results later items reuse."""

    out: Path
    size: str
    device: str
    budget: Budget
    command: str
    items: list = field(default_factory=list)  # the chosen `ItemSpec`s in run order, for the reserves
    records: list = field(default_factory=list)  # their `Item`s so far, for the results file
    estimates: dict[str, float] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)  # e.g. item 1's SpeedReport for item 2's comparison
    notes: list[str] = field(default_factory=list)  # said on stderr too, such as the CPU rehearsal without --size
    interrupted: str | None = None  # the key of the item Ctrl-C stopped, or "between items"
    unsaved: str | None = None  # why the last write of the results file failed (the check goes on; the CLI prints it)

    @property
    def full(self) -> bool:
        return self.size == "full"

    def guess(self, name: str) -> float:
        return self.estimates.get(name, GUESSES[self.size][name])

    def edit_seconds(self, steps: int) -> float:
        return self.guess("edit_overhead") + steps * self.guess("step")

    def config_seconds(self, steps: int, *, warmup: int = 0, compile: bool = False, offload: bool = False) -> float:
        """About how long `measure_speed` of one configuration takes: build, warm-up and measured edits."""
        edit = self.edit_seconds(steps) * (2.0 if offload else 1.0)
        return self.guess("build") + (1 + warmup) * edit + (self.guess("compile") if compile else 0.0)

    def reserve_after(self, number: int) -> float:
        """The minimums of the chosen items that run after item `number`."""
        numbers = [spec.number for spec in self.items]
        later = self.items[numbers.index(number) + 1:] if number in numbers else []
        return sum(spec.minimum(self) for spec in later)

    def outcome(self) -> str:
        """"interrupted", "errors" (an item recorded one), "nothing ran" (no run finished ok) or "ok"."""
        if self.interrupted:
            return "interrupted"
        if any(item.errors for item in self.records):
            return "errors"
        if not any(run["status"] == "ok" for item in self.records for run in item.runs):
            return "nothing ran"
        return "ok"

    def summary(self) -> dict[str, Any]:
        first = self.records[0] if self.records else None
        return {
            "outcome": self.outcome(), "interrupted": self.interrupted, "notes": self.notes, "unsaved": self.unsaved,
            "size": self.size, "command": self.command, "budget_s": self.budget.seconds,
            "seconds": self.budget.elapsed(), "device": first.device if first else None,
            "versions": first.versions if first else None, "chosen": [spec.key for spec in self.items],
            "items": [{"item": item.spec.key, "title": item.spec.title, "status": item.status,
                       "seconds": item.seconds, "skipped": item.skipped,
                       "errors": [f"{e['where']}: {e['type']}: {e['message'][:300]}" for e in item.errors],
                       "headline": item.results.get("headline")} for item in self.records],
        }

    def results(self) -> dict[str, Any]:
        """What `<out>/results.json` holds: the summary, then every item's record so far (each under its key, "1_video")."""
        return {"kind": "f2f_gpu_check_results", "summary": self.summary(),
                "items": {item.spec.key: item.to_dict() for item in self.records}}

    def final_summary(self) -> dict[str, Any]:
        """The summary; when the results file could not be written, with the whole of it under "results"."""
        return {**self.summary(), "results": self.results()} if self.unsaved else self.summary()

    def write(self) -> None:
        """Write `results()` atomically; a disk fault (full, read-only) is kept in `unsaved` and the check goes on."""
        try:
            write_json_atomic(self.out / RESULTS_FILE, self.results())
        except OSError as exc:
            self.unsaved = f"{self.out / RESULTS_FILE}: {exc.strerror or exc}"
        else:
            self.unsaved = None


@dataclass(frozen=True)
class ItemSpec:
    number: int
    name: str
    title: str
    run: Callable[[Check, "Item"], None]
    minimum: Callable[[Check], float]

    @property
    def key(self) -> str:
        """The item's key in the results file: "1_video", "10_latent_dropout"."""
        return f"{self.number}_{self.name}"


class Item:
    """One item's record, in `<out>/results.json` under its key (rewritten at its start and at its end)."""

    def __init__(self, check: Check, spec: ItemSpec):
        self.check, self.spec = check, spec
        self.status = "running"
        self.runs: list[dict[str, Any]] = []
        self.errors: list[dict[str, str]] = []
        self.skipped: list[dict[str, str]] = []
        self.notes: list[str] = []
        self.results: dict[str, Any] = {}
        self.started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.elapsed_at_start = check.budget.elapsed()
        self._start = time.perf_counter()
        self.seconds: float | None = None  # frozen when the item finishes
        self.device, self.versions = device_info(check.device), versions()

    def attempt(self, name: str, run: Callable[[], dict[str, Any]], *, estimate: float | None = None,
                optional: bool = False, unavailable: str | None = None) -> dict[str, Any] | None:
        """Do one run if the budget allows; its record (or error with traceback) joins `runs`."""
        reason = unavailable or self.check.budget.refusal(
            estimate, self.check.reserve_after(self.spec.number) if optional else 0.0)
        if reason:
            self.skip(name, reason)
            return None
        start = time.perf_counter()
        try:
            record = run()
        except BudgetSpent:
            self.runs.append({"name": name, "status": "stopped", "seconds": time.perf_counter() - start,
                              **_empty_measures(), "reason": "the budget ended during this run"})
            raise
        except KeyboardInterrupt:
            self.runs.append({"name": name, "status": "interrupted", "seconds": time.perf_counter() - start,
                              **_empty_measures(), "reason": "Ctrl-C during this run"})
            raise
        except Exception as exc:  # the next run may still work: record this one's failure and go on
            self.error(name, exc)
            self.runs.append({"name": name, "status": "error", "seconds": time.perf_counter() - start, **_empty_measures()})
            release_memory(self.check.device)
            return None
        record = {"name": name, "status": "ok", "seconds": time.perf_counter() - start, **_empty_measures(), **record}
        self.runs.append(record)
        release_memory(self.check.device)
        return record

    def skip(self, what: str, reason: str) -> None:
        self.skipped.append({"what": what, "reason": reason})

    def error(self, where: str, exc: BaseException) -> None:
        self.errors.append({"where": where, "type": type(exc).__name__, "message": str(exc),
                            "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))})

    def finish(self, status: str | None = None) -> None:
        if status is None:
            ok = [run for run in self.runs if run["status"] == "ok"]
            status = "ok" if ok and not self.errors and not self.skipped else ("partial" if ok else
                                                                              ("error" if self.errors else "skipped"))
        self.status = status
        self.seconds = time.perf_counter() - self._start
        self.write()

    def to_dict(self) -> dict[str, Any]:
        peaks = [run["peak_memory"] for run in self.runs if run.get("peak_memory")]
        return {
            "kind": "f2f_gpu_check", "item": self.spec.name, "number": self.spec.number, "title": self.spec.title,
            "status": self.status, "size": self.check.size, "command": self.check.command,
            "device": self.device, "versions": self.versions, "started_at": self.started_at,
            "seconds": self.seconds if self.seconds is not None else time.perf_counter() - self._start,
            "budget": {"budget_s": self.check.budget.seconds, "elapsed_at_start_s": self.elapsed_at_start,
                       "remaining_at_start_s": self.check.budget.seconds - self.elapsed_at_start},
            "steps_timed": sum(run.get("steps_timed") or 0 for run in self.runs),
            "peak_memory_bytes": max((max(p.values(), default=0) for p in peaks), default=None),
            "runs": self.runs, "results": self.results, "errors": self.errors, "skipped": self.skipped,
            "notes": self.notes,
        }

    def write(self) -> None:
        self.check.write()


def _empty_measures() -> dict[str, Any]:
    return {"steps_timed": 0, "stages": {}, "peak_memory": {}}


def resolve_size(size: str | None, device: str) -> str:
    if size is None:
        return "full" if device.startswith("cuda") else "tiny"
    if size not in SIZES:
        raise F2FError(f"Unknown --size '{size}'; choose full or tiny.")
    if size == "full" and not device.startswith("cuda"):
        raise F2FError("--size full builds the published models (CogVideoX-5B, FLUX.1-dev) with random weights on a GPU; "
                       "this machine has no CUDA GPU. Use --size tiny for the CPU rehearsal.")
    return size


def run_items(check: Check, specs, on_item: Callable[[Item], None] | None = None) -> dict[str, Any]:
    """Run `specs` in the order given under `check.budget`, every record into `<out>/results.json`; returns the summary.

    On Ctrl-C the item it stopped is written as "interrupted" and the summary with it; then `Interrupted`.
    """
    check.out.mkdir(parents=True, exist_ok=True)
    check.items = list(specs)
    check.records = items = []
    stopped_in: str | None = None
    try:
        with hard_stop(check.budget):
            for spec in check.items:
                item = Item(check, spec)
                items.append(item)
                if stopped_in is not None:
                    item.notes.append(f"not started: the budget ended during item {stopped_in}")
                    item.finish("skipped")
                    continue
                reason = check.budget.refusal(spec.minimum(check))
                if reason:
                    item.skip(spec.name, reason)
                    item.finish("skipped")
                    continue
                item.write()  # "running": a run killed from outside leaves this behind
                try:
                    spec.run(check, item)
                    item.finish()
                except BudgetSpent:
                    stopped_in = spec.key
                    item.notes.append("stopped: the budget ended during this item; the runs above finished")
                    item.finish("stopped")
                except Exception as exc:
                    item.error(spec.name, exc)
                    item.finish()
                if on_item is not None:
                    on_item(item)
    except KeyboardInterrupt:
        running = [item for item in items if item.status == "running"]
        check.interrupted = running[-1].spec.key if running else "between items"
        for item in running:
            item.notes.append("interrupted: Ctrl-C during this item; the runs above finished")
            item.status, item.seconds = "interrupted", time.perf_counter() - item._start
        check.write()
        raise Interrupted(check.final_summary()) from None
    check.write()
    return check.final_summary()
