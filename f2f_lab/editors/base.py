"""The editor contract, and what the single-step editors share: the result, the geometry, one loader.

Every editor, Frame2Frame included, is made by `from_preset(preset, **options)` and edits with

    result = editor.edit(image, target, seed=0)
    result.image, result.seed, result.record; result.save(folder)

(`Editor` below). A single-step editor (the paper's baselines, the peers) is a `BaselineEditor`
that declares its model as data: the diffusers pipeline class, the stand-in key of its tiny
model, its dtype and the components to load; `load_pipe` is the one loader of them all. Its
result has the same shape as Frame2Frame's where it matters for comparison: `image` at the
output geometry (longer side 512 px, aspect ratio kept), `seed`, `record`, `save(folder)`.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar, Protocol, runtime_checkable

from PIL import Image

from .. import loading
from ..captions import check_caption
from ..errors import F2FError
from ..imaging import load_image
from ..loading import default_device, default_dtype
from ..presets import get_preset
from ..records import library_versions, revision_of
from ..results import EditResultBase, record_header

BASELINE_RUN_FILES = ("source.png", "edited.png", "record.json")


@runtime_checkable
class Editor(Protocol):
    """What every editor offers (Frame2Frame, the baselines, the peers): one call, a result to save."""

    @classmethod
    def from_preset(cls, preset="paper", **options) -> "Editor": ...

    def edit(self, image, target: str, *, seed: int = 0, **options) -> EditResultBase: ...


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


@dataclass(kw_only=True)
class ImageEditResult(EditResultBase):
    """One single-step edit.

    image: the edit at the output geometry (512x512 for square sources); source_output: the
    source at that same geometry, so that metrics compare like with like; prompts: the text
    the method was given (target, and the source description where it needs one).
    """

    files: ClassVar[tuple[str, ...]] = BASELINE_RUN_FILES

    method: str
    image: Image.Image
    prompts: dict[str, Any] = field(default_factory=dict)


class BaselineEditor:
    """Loading, geometry and records shared by the single-step editors; subclasses implement `edit`.

    Class attributes of a subclass, its declaration as data:
      method: its key in `editors.EDITORS`; title: its name in the paper's tables;
      paper, tiny: settings dataclasses (the published defaults, and the offline stand-in's);
      pipeline_class: the diffusers pipeline class's name; stand_in: what the "tiny" model id
      stands in for here (`loading.model_source`); description: the model in messages;
      gpu_dtype: the dtype on a GPU (float32 on a CPU); float32_components: components kept in
      float32 whatever the dtype; pipeline_scheduler: (scheduler class name, config overrides)
      loaded in place of the repository's; components: handed to `from_pretrained` as they are;
      uses_source_description: whether it needs a caption of the source (a benchmark with one,
      PosEdit, passes it as `source_prompt`); size_multiple: what the model needs the image
      sides to divide by; min_side: the shortest side in pixels the model can work with.
    `prepare_pipe` is the hook for what an editor does to its pipeline after loading.
    """

    method: ClassVar[str] = ""
    title: ClassVar[str] = ""
    paper: ClassVar[Any] = None
    tiny: ClassVar[Any] = None
    pipeline_class: ClassVar[str] = ""
    stand_in: ClassVar[str] = ""
    description: ClassVar[str] = ""
    gpu_dtype: ClassVar[str] = "bfloat16"
    float32_components: ClassVar[tuple[str, ...]] = ()
    pipeline_scheduler: ClassVar[tuple[str, dict] | None] = None
    components: ClassVar[dict[str, Any]] = {}
    uses_source_description: ClassVar[bool] = False
    size_multiple: ClassVar[int] = 8
    min_side: ClassVar[int] = 8

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
        """The editor's pipeline as it declares it (class, stand-in, dtype, components), loaded and placed.

        Through the package's one loader (`loading.load_pipeline`): `settings.model` is a hub
        id, a folder, or "tiny" (the registered stand-in for `stand_in`).
        """
        import diffusers
        import torch

        dtype = torch_dtype or default_dtype(device, gpu_dtype=getattr(torch, cls.gpu_dtype))
        if cls.float32_components:
            dtype = {"default": dtype, **{name: torch.float32 for name in cls.float32_components}}
        scheduler = None
        if cls.pipeline_scheduler is not None:
            name, overrides = cls.pipeline_scheduler
            scheduler = (getattr(diffusers, name), overrides)
        pipe = loading.load_pipeline(getattr(diffusers, cls.pipeline_class), settings.model,
                                     description=cls.description, torch_dtype=dtype, stand_in=cls.stand_in,
                                     scheduler=scheduler, **cls.components)
        pipe = cls.prepare_pipe(pipe, settings)
        loading.place_pipeline(pipe, device, offload=offload)
        pipe.set_progress_bar_config(disable=not progress, desc=cls.description, leave=False)
        return pipe

    @classmethod
    def prepare_pipe(cls, pipe, settings):
        """What the editor does to its freshly loaded pipeline before it is placed (nothing by default)."""
        return pipe

    # -- shared steps of `edit` -------------------------------------------------------------

    def _prepare(self, image, target: str):
        """Load and check the inputs; the source resized to the model's working size."""
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
        size = output_size(source.size, self.output_size)
        source_output = source.resize(size, Image.Resampling.LANCZOS)
        edited_output = edited.convert("RGB").resize(size, Image.Resampling.LANCZOS)
        model = self.settings.model
        record = {
            **record_header(self.method, source, target, tiny=self.is_tiny),
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
