"""Test session setup: never touch the network, keep tiny models in one cache.

Set through os.environ so that subprocesses (the CLI, notebook kernels) inherit it.
"""

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # an accidental hub call fails fast instead of hanging
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("F2F_CACHE", str(Path(tempfile.gettempdir()) / "f2f_lab-test-cache"))
os.environ.setdefault("MPLBACKEND", "Agg")
for _key in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):  # tests choose their own VLM server
    os.environ.pop(_key, None)

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "f2f_lab" / "data" / "samples"  # the package data (f2f_lab.samples.SAMPLES_DIR), without importing the package here


@pytest.fixture(scope="session")
def tiny_editor():
    """One tiny Frame2Frame for the session (template captions, last-frame selection)."""
    from f2f_lab import Frame2Frame

    return Frame2Frame.from_preset("tiny", captioner="template", selector="last", progress=False)


@pytest.fixture(scope="session")
def cat_path():
    return SAMPLES / "cat.jpg"


@pytest.fixture
def one_torch_thread():
    """One intra-op thread: on a shared 2-core machine, two threads spin against other work (5x slower here)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

