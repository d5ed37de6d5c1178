"""What every single-step baseline editor shares: the result, the geometry, prompts, loading.

A baseline edits an image in one pass of a text-to-image model (no video). Its result has
the same shape as Frame2Frame's where it matters for comparison: `image` at the output
geometry (longer side 512 px, aspect ratio kept), `seed`, `record`, `save(folder)`.
"""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from PIL import Image

from .. import loading
from ..errors import F2FError
from ..loading import default_device
from ..imaging import image_hash, save_image
from ..presets import TINY_NOTICE
from ..records import library_versions, revision_of, write_json_atomic
from ..results import save_run

BASELINE_RUN_FILES = ("source.png", "edited.png", "record.json")

# The paper's source description for every PosEdit task (Sec. 5.3, quoted verbatim); pass
# it as `source_prompt` to Pix2Pix-Zero or FlowEdit when reproducing Table 2.
POSEDIT_SOURCE_DESCRIPTION = "A person standing naturally with his arms relaxed at his sides."
GENERIC_SOURCE_DESCRIPTION = "a photo"

_AUXILIARIES = {"is", "are", "was", "were", "be", "being", "who", "that", "which", "while", "and", "slowly"}
# Words ending in -ing that are things, not actions (so "a dog in front of a building" is not cut).
_ING_NOUNS = {
    "building", "buildings", "painting", "paintings", "clothing", "ceiling", "morning", "evening", "thing",
    "things", "something", "nothing", "anything", "everything", "spring", "string", "swing", "earring",
    "earrings", "wedding", "pudding", "icing", "frosting", "dumpling", "dumplings", "sibling", "siblings",
    "railing", "lighting", "landing", "parking", "setting", "stocking", "stockings", "awning", "bedding",
    "topping", "toppings", "duckling", "ducklings", "seedling", "king", "ring", "rings", "wing", "wings",
}


def source_description(target: str) -> str:
    """A description of the source image derived from the target caption alone.

    Pix2Pix-Zero and FlowEdit need a caption of the source. The paper captioned sources with
    BLIP-2 (Sec. 5.1) and used one fixed sentence for PosEdit (`POSEDIT_SOURCE_DESCRIPTION`);
    without a captioner we use this rule instead: the target's subject, i.e. the words
    before its first action verb (the first word ending in "-ing" that is not a common noun
    such as "building"), without trailing auxiliaries ("is", "who", ...).
    "A photo of a cat yawning." -> "A photo of a cat"; "A person is raising their hands"
    -> "A person". A target without such a verb gives the generic "a photo".
    Pass `source_prompt=` to an editor to use a real caption instead.
    """
    words = target.strip().rstrip(".!").split()
    for index, word in enumerate(words[1:], start=1):
        bare = re.sub(r"[^a-z]", "", word.lower())
        if len(bare) > 4 and bare.endswith("ing") and bare not in _ING_NOUNS:
            subject = words[:index]
            while subject and subject[-1].lower().strip(",") in _AUXILIARIES:
                subject = subject[:-1]
            if subject:
                return " ".join(subject).rstrip(",")
            break
    return GENERIC_SOURCE_DESCRIPTION


def output_size(size: tuple[int, int], longer: int = 512) -> tuple[int, int]:
    """(width, height) with the longer side `longer`, aspect ratio kept (as Frame2Frame's crop-back)."""
    width, height = size
    scale = longer / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def working_size(size: tuple[int, int], longer: int, multiple: int) -> tuple[int, int]:
    """The size a model runs at: longer side about `longer`, each side a multiple of `multiple`."""
    width, height = output_size(size, longer)
    return max(multiple, round(width / multiple) * multiple), max(multiple, round(height / multiple) * multiple)


def with_options(settings, **changes):
    """`settings` (a dataclass) with some fields changed; None values are ignored, unknown names refused."""
    known = {f.name for f in fields(settings)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise F2FError(
            f"{type(settings).__name__} has no option {', '.join(unknown)}; choose from: {', '.join(sorted(known))}."
        )
    return replace(settings, **{k: v for k, v in changes.items() if v is not None})


@dataclass
class ImageEditResult:
    """One single-step edit.

    image: the edit at the output geometry (512x512 for square sources); source_output: the
    source at that same geometry, so that metrics compare like with like; prompts: the text
    the method was given (target, and the source description where it needs one).
    """

    method: str
    source: Image.Image
    target: str
    image: Image.Image
    seed: int
    source_output: Image.Image
    prompts: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)
    tiny: bool = False
    metrics: dict[str, float] | None = None

    def save(self, out: str | Path, overwrite: bool = False) -> Path:
        """Write source.png, edited.png and record.json into `out`, all at once (`results.save_run`)."""
        return save_run(out, self._write_files, BASELINE_RUN_FILES, overwrite=overwrite)

    def _write_files(self, folder: Path) -> None:
        save_image(self.source_output, folder / "source.png")
        save_image(self.image, folder / "edited.png")
        record = dict(self.record)
        if self.metrics is not None:
            record["metrics"] = self.metrics
        write_json_atomic(folder / "record.json", record)


def load_pipeline(pipeline_class, model_id: str, *, tiny_folder, device: str, torch_dtype, offload: bool,
                  progress: bool, description: str, scheduler=None, **components):
    """A baseline's pipeline through the package's one loader, placed on `device` (or offloaded)."""
    pipe = loading.load_pipeline(pipeline_class, model_id, description=description, torch_dtype=torch_dtype,
                                 tiny_folder=tiny_folder, scheduler=scheduler, **components)
    loading.place_pipeline(pipe, device, offload=offload)
    pipe.set_progress_bar_config(disable=not progress, desc=description, leave=False)
    return pipe


class BaselineEditor:
    """Loading, geometry and records shared by the baselines; subclasses implement `edit`.

    Class attributes of a subclass: `method` (its name in `editors.METHODS`), `paper` and
    `tiny` (settings dataclasses: the published defaults, and the offline stand-in's),
    `size_multiple` (what the model needs the image sides to divide by), `min_side` (the
    shortest side in pixels the model can work with).
    """

    method: str = ""
    paper: Any = None
    tiny: Any = None
    size_multiple: int = 8
    min_side: int = 8

    def __init__(self, pipe, settings, *, device: str, offload: bool = False, output_size: int = 512,
                 is_tiny: bool = False, progress: bool = True):
        self.pipe = pipe
        self.progress = progress
        self.settings = settings
        self.device = device
        self.offload = offload
        self.output_size = output_size
        self.is_tiny = is_tiny

    @classmethod
    def from_preset(cls, preset="paper", *, device: str | None = None, offload: bool | None = None,
                    progress: bool = True, torch_dtype=None, **overrides):
        """The editor with the published defaults, or the tiny offline stand-in for the "tiny" preset.

        Other presets' video-model knobs do not apply to a baseline; their `offload` does
        (`lowvram`). Keyword overrides change settings fields, e.g. `num_inference_steps=20`.
        """
        from ..presets import get_preset

        preset = get_preset(preset)
        base = cls.tiny if preset.is_tiny else cls.paper
        unknown = sorted(set(overrides) - {f.name for f in fields(base)})
        if unknown:
            raise F2FError(
                f"The {cls.method} editor has no option {', '.join(unknown)}. Its options: device, offload, progress, "
                f"torch_dtype, {', '.join(f.name for f in fields(base))}."
            )
        settings = with_options(base, **overrides)
        device = device or default_device()
        offload = preset.levers.offload if offload is None else offload
        pipe = cls.load_pipe(settings, device=device, offload=bool(offload), progress=progress, torch_dtype=torch_dtype)
        return cls(pipe, settings, device=device, offload=bool(offload), output_size=preset.output_size,
                   is_tiny=preset.is_tiny, progress=progress)

    @classmethod
    def load_pipe(cls, settings, *, device: str, offload: bool, progress: bool, torch_dtype):
        """The editor's diffusers pipeline, loaded and placed (each editor says which and how)."""
        raise NotImplementedError

    # -- shared steps of `edit` -------------------------------------------------------------

    def _prepare(self, image, target: str):
        """Load and check the inputs; the source resized to the model's working size."""
        from ..captions import check_caption
        from ..imaging import load_image

        source = load_image(image)
        target = check_caption(target)
        work_size = working_size(source.size, self.settings.working_size, self.size_multiple)
        if min(work_size) < self.min_side:
            raise F2FError(
                f"A {source.width}x{source.height} image runs at {work_size[0]}x{work_size[1]} for {self.method}, "
                f"whose shorter side must be at least {self.min_side} px; its aspect ratio is too extreme. Crop it first."
            )
        return source, target, source.resize(work_size, Image.Resampling.LANCZOS)

    def _generator(self, seed: int):
        import torch

        # A CPU generator: a seed means the same noise on any device (as the video generator does).
        return torch.Generator(device="cpu").manual_seed(seed)

    def _result(self, source: Image.Image, target: str, edited: Image.Image, seed: int, *, parameters: dict,
                prompts: dict, timings: dict) -> ImageEditResult:
        """Resize the edit to the output geometry and record everything that made it."""
        from ..version import __version__

        size = output_size(source.size, self.output_size)
        source_output = source.resize(size, Image.Resampling.LANCZOS)
        edited_output = edited.convert("RGB").resize(size, Image.Resampling.LANCZOS)
        model = self.settings.model
        record = {
            "f2f_lab": __version__,
            "method": self.method,
            "notice": TINY_NOTICE if self.is_tiny else None,
            "inputs": {"image_sha256": image_hash(source), "image_size": list(source.size), "target": target},
            "prompts": prompts,
            "model": {
                "id": model,
                "revision": revision_of(self.pipe.vae.config.get("_name_or_path")),
                "pipeline": type(self.pipe).__name__,
                "scheduler": type(self.pipe.scheduler).__name__,
                "device": self.device,
                "dtype": str(self.pipe.dtype).replace("torch.", ""),
                "offload": self.offload,
            },
            "parameters": {**parameters, "seed": seed},
            "geometry": {"working_size": list(edited.size), "output_size": list(size)},
            "timings": timings,
            "versions": library_versions(),
        }
        return ImageEditResult(
            method=self.method, source=source, target=target, image=edited_output, seed=seed,
            source_output=source_output, prompts=prompts, timings=timings, record=record, tiny=self.is_tiny,
        )

    def _out_of_memory(self):
        return loading.out_of_memory(
            f"running {self.method}",
            "Use --offload (model CPU offload), a smaller working size, or a GPU with more memory (see the README).",
        )


@contextmanager
def timed(timings: dict[str, float], name: str):
    """Add the seconds spent in the `with` block to `timings[name]`."""
    start = time.perf_counter()
    yield
    timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
