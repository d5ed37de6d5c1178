"""Loading models: the device, the dtype, diffusers pipelines, and out-of-memory errors, once.

Every model of the package (the video model, the baselines, FLUX for the manifold sets)
loads through `load_pipeline` and runs under `out_of_memory`, so a missing download, a
missing tokenizer library and a full GPU each get the same clear error wherever they happen.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from .errors import F2FError

HUB_ADVICE = (
    "Real weights download from the Hugging Face hub on first use (gated models need `hf auth login` and an "
    "accepted licence): check the network, HF_HOME and HF_HUB_OFFLINE, or run offline with --preset tiny."
)
# Libraries that tokenizers load lazily: transformers converts a folder's slow tokenizer
# (T5's spiece.model) with protobuf/sentencepiece, and falls back to tiktoken.
TOKENIZER_LIBRARIES = ("sentencepiece", "protobuf", "tiktoken")


class OutOfMemory(F2FError):
    """The GPU ran out of memory; the message says what to try."""


def default_device() -> str:
    """"cuda" when a CUDA GPU is visible, else "cpu"."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def default_dtype(device: str, *, gpu_dtype=None):
    """The dtype a model runs in: `gpu_dtype` (bfloat16 unless given) on CUDA, float32 on a CPU."""
    import torch

    if device.startswith("cuda"):
        return gpu_dtype if gpu_dtype is not None else torch.bfloat16
    return torch.float32


# Stand-ins: small random-weight copies of real models, built on first use, under a model id
# of their own ("tiny"). An add-on registers its builders here (f2f_lab.stand_ins does for
# "tiny"); the core only asks `model_source`, so it never names an add-on.
STAND_INS: dict[str, dict[str, Callable[..., object]]] = {}


def register_stand_ins(model_id: str, builders: dict[str, Callable[..., object]]) -> None:
    """Register builders of stand-in folders: `model_id` -> {what it stands in for: build(**context) -> folder}."""
    STAND_INS.setdefault(model_id, {}).update(builders)


def model_source(model_id: str, what: str, **context) -> str:
    """What `from_pretrained` loads for `model_id`: a registered stand-in's folder (built once), or the id itself.

    `what` names the model a stand-in replaces ("video:cogvideox", "clip", "flux", ...);
    `context` is what its builder needs (a canvas size, ...).
    """
    builders = STAND_INS.get(model_id)
    if builders is None:
        return model_id
    if what not in builders:
        raise F2FError(f"There is no '{model_id}' stand-in for {what}.")
    return str(builders[what](**context))


def load_pipeline(
    pipeline_class,
    model_id: str,
    *,
    description: str,
    torch_dtype=None,
    revision: str | None = None,
    stand_in: str | None = None,
    stand_in_context: dict | None = None,
    scheduler: tuple | None = None,
    **components,
):
    """`pipeline_class.from_pretrained(model_id)`, or a registered stand-in's folder; F2FError if it cannot load.

    Args:
        description: what the model is for, in the error message ("the video model").
        stand_in: what a stand-in model id ("tiny") replaces here, as registered (`model_source`);
            `stand_in_context` is what its builder needs.
        scheduler: (scheduler class, config overrides) to load in place of the model's own.
        components: other components handed to `from_pretrained` as they are.
    The pipeline stays on the CPU; `place_pipeline` puts it on a device.
    """
    source = model_source(model_id, stand_in or description, **(stand_in_context or {}))
    with explained_load_errors(model_id, description):
        if scheduler is not None:
            scheduler_class, overrides = scheduler
            components["scheduler"] = scheduler_class.from_pretrained(source, subfolder="scheduler", revision=revision, **overrides)
        return pipeline_class.from_pretrained(source, dtype=torch_dtype, revision=revision, **components)


@contextmanager
def explained_load_errors(model_id: str, description: str, advice: str = "") -> Iterator[None]:
    """Turn a failed `from_pretrained` inside the block into F2FError: a missing library, or the hub and what to try."""
    try:
        yield
    except ImportError as exc:
        raise F2FError(_missing_library_message(model_id, description, exc)) from None
    except (OSError, ValueError, KeyError) as exc:
        text = str(exc)
        if any(name in text for name in TOKENIZER_LIBRARIES):
            raise F2FError(_missing_library_message(model_id, description, exc)) from None
        first_line = text.splitlines()[0] if text else ""
        raise F2FError(f"Could not load '{model_id}' for {description} ({type(exc).__name__}: {first_line}). "
                       f"{HUB_ADVICE}{' ' + advice if advice else ''}") from None


def _missing_library_message(model_id: str, description: str, exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return (
        f"'{model_id}' for {description} was found but could not be built: a library it needs is missing "
        f"({type(exc).__name__}: {text}). Install the package's dependencies again (`pip install -e .`; "
        "its tokenizers need sentencepiece and protobuf); this is not a download problem."
    )


def place_pipeline(pipe, device: str, *, offload: bool = False, offload_mode: str = "model") -> None:
    """Put `pipe` on `device`, or keep it on the CPU with one of diffusers' offload modes."""
    import torch

    if offload and not device.startswith("cuda"):
        raise F2FError("--offload moves models between CPU and GPU; it needs a CUDA GPU.")
    if not offload:
        pipe.to(device)
    elif offload_mode == "model":
        pipe.enable_model_cpu_offload(device=device)  # without `device` diffusers picks cuda:0
    elif offload_mode == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)
    else:  # diffusers' documented low-memory recipe: leaf modules streamed ahead of use
        pipe.enable_group_offload(onload_device=torch.device(device), offload_type="leaf_level", use_stream=True)


@contextmanager
def out_of_memory(task: str, advice: str = "Use --offload (model CPU offload), or a GPU with more memory.") -> Iterator[None]:
    """Turn CUDA out-of-memory inside the block into `OutOfMemory`: what ran out, and what to try."""
    import torch

    try:
        yield
    except torch.OutOfMemoryError:
        release_memory()
        raise OutOfMemory(f"The GPU ran out of memory while {task}. {advice}") from None



def release_memory(device: str | None = None) -> None:
    """Collect garbage and hand cached CUDA memory back, so a deleted model's memory is free for the next.

    With `device` given, the CUDA cache is emptied only when it is a CUDA device (on a CPU
    only the garbage is collected).
    """
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available() and (device is None or str(device).startswith("cuda")):
        torch.cuda.empty_cache()  # every device's cached blocks
