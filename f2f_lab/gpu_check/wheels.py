"""The wheels a GPU machine's image lacks, for `make gpu-wheels` (an offline machine gets them as files).

The target is a GPU image with Python 3.12 on Linux x86-64 that has torch, transformers and
accelerate preinstalled but not diffusers, open_clip_torch, lpips or openai; `DEVICE_PACKAGES`
is its package list. `missing_requirements()` walks the installed packages' own `Requires-Dist`
(importlib.metadata, markers read for that Python and platform) from what the GPU check imports,
stopping at packages the image has, so the list below is checked rather than guessed. For
another image, replace `DEVICE_PACKAGES` and `DEVICE_ENVIRONMENT` with its own (`pip list` there).

    python -m f2f_lab.gpu_check.wheels          # prints NAME==VERSION lines (this venv's versions)
    python -m f2f_lab.gpu_check.wheels --check  # exit 1 if a needed package is neither there nor listed
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib import metadata

# What the GPU check imports that the image lacks, and what those need that it lacks too.
# typing_extensions is there, but pydantic needs a newer one than an older image may hold.
WHEELS = (
    "diffusers", "importlib_metadata", "lazy-importer",  # diffusers
    "open_clip_torch", "ftfy", "wcwidth",  # open_clip (timm, regex, ... are there)
    "lpips",
    "openai", "httpx2", "httpcore2", "truststore", "jiter", "pydantic", "pydantic_core", "annotated_types",
    "typing_inspection", "sniffio", "typing_extensions",  # openai
)
# The roots: what f2f_lab imports on the GPU check's paths.
ROOTS = ("diffusers", "open_clip_torch", "lpips", "openai", "transformers", "accelerate", "sentencepiece", "psutil",
         "scikit-learn", "matplotlib", "tqdm", "imageio", "pillow", "numpy")

# The target image's preinstalled packages (its `pip list`, normalised names; taken 2026-11-17).
DEVICE_PACKAGES = frozenset("""
absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch build certifi
charset-normalizer chex click cloudpickle cmake colorama contourpy coverage cuda-bindings cuda-core cuda-pathfinder
cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn einops equinox etils execnet filelock flatbuffers flax fonttools
formulaic frozenlist fsspec gpytorch grpcio h11 h5py hf-xet httpcore httpx huggingface-hub humanize hypothesis idna
imageio iniconfig interface-meta jax jax-cuda13-pjrt jax-cuda13-plugin jaxlib jaxtyping jinja2 joblib kiwisolver
lazy-loader lightning lightning-utilities linear-operator lineax llvmlite lxml markdown markdown-it-py markupsafe
matplotlib mdurl meson ml-dtypes mpi4py mpmath msgpack multidict multipledispatch mypy-extensions nanobind narwhals
networkx ninja numba numba-cuda numpy numpyro nvidia-cublas nvidia-cuda-cupti nvidia-cuda-nvrtc nvidia-cuda-runtime
nvidia-cudnn-cu13 nvidia-cufft nvidia-cufile nvidia-curand nvidia-cusolver nvidia-cusparse nvidia-cusparselt-cu13
nvidia-ml-py nvidia-nccl-cu13 nvidia-nvjitlink nvidia-nvshmem-cu13 nvidia-nvtx onnx onnx-ir onnxruntime onnxscript
opencv-python-headless optax opt-einsum opt-einsum-fx optimistix orbax-checkpoint packaging pandas pathspec patsy peft
pillow pip pluggy portalocker prometheus-client propcache protobuf psutil pyarrow pybind11 py-cpuinfo pygments
pyparsing pyproject-hooks pyre-extensions pytest pytest-benchmark pytest-cov pytest-mock pytest-timeout pytest-xdist
python-dateutil pytorch-lightning pyyaml regex requests rich sacrebleu safetensors scikit-build-core scikit-image
scikit-learn scipy seaborn sentencepiece sentence-transformers setuptools shellingham simplejson six sortedcontainers
statsmodels sympy tabulate tensorboard tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm
tokenizers toolz torch torchaudio torchdiffeq torch-geometric torchmetrics torchvision tqdm transformers treescope
triton typer typing-extensions typing-inspect urllib3 uvloop wadler-lindig werkzeug wheel wrapt xarray xxhash yarl zipp
""".split())
DEVICE_ENVIRONMENT = {  # PEP 508 marker values of the device's python3
    "python_version": "3.12", "python_full_version": "3.12.3", "platform_machine": "x86_64", "sys_platform": "linux",
    "platform_system": "Linux", "os_name": "posix", "implementation_name": "cpython",
    "platform_python_implementation": "CPython", "extra": "",
}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def missing_requirements(roots=ROOTS) -> dict[str, str]:
    """{name: version installed here} of every package the roots need that the image lacks."""
    from packaging.requirements import Requirement

    missing: dict[str, str] = {}
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = normalise(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        if name in DEVICE_PACKAGES:
            continue
        dist = metadata.distribution(name)
        missing[name] = dist.version
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(DEVICE_ENVIRONMENT):
                todo.append(requirement.name)
    return missing


def pins() -> list[str]:
    """NAME==VERSION for each of `WHEELS`, at the version installed in this environment."""
    return [f"{name}=={metadata.version(name)}" for name in WHEELS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m f2f_lab.gpu_check.wheels", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a needed package is neither on the device nor listed")
    args = parser.parse_args(argv)
    if args.check:
        listed = {normalise(name) for name in WHEELS}
        unlisted = {name: version for name, version in missing_requirements().items() if name not in listed}
        if unlisted:
            print("needed on the GPU machine but not in WHEELS: " + ", ".join(f"{n}=={v}" for n, v in unlisted.items()),
                  file=sys.stderr)
            return 1
        return 0
    print("\n".join(pins()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
