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
SAMPLES = REPO / "data" / "samples"  # the bundled data (f2f_lab.samples.SAMPLES_DIR), without importing the package here


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



@pytest.fixture(scope="session")
def tiny_notebook_run(tmp_path_factory):
    """Execute a notebook in tiny mode once per session; returns (executed notebook, its copy's path, seconds).

    The copy runs from <tmp>/notebooks/<name>, so its run folders land in the temporary folder and
    the committed notebook is never touched; the kernel gets F2F_PRESET=tiny and this checkout on
    its path. Tests that look at the same notebook share one execution.
    """
    import shutil
    import time

    import nbformat
    from nbclient import NotebookClient

    done = {}

    def run(path: Path, cell_timeout_s: int = 300):
        if path.name not in done:
            root = tmp_path_factory.mktemp(path.stem)
            (root / "notebooks").mkdir()
            copy = Path(shutil.copy(path, root / "notebooks" / path.name))
            notebook = nbformat.read(copy, as_version=4)
            saved = {k: os.environ.get(k) for k in ("F2F_PRESET", "PYTHONPATH")}
            os.environ["F2F_PRESET"] = "tiny"
            os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), saved["PYTHONPATH"]]))
            try:
                start = time.perf_counter()
                NotebookClient(notebook, timeout=cell_timeout_s, kernel_name="python3",
                               resources={"metadata": {"path": str(copy.parent)}}).execute()
                seconds = time.perf_counter() - start
            finally:
                for key, value in saved.items():
                    os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
            nbformat.write(notebook, copy)  # kept in the tmp folder for a look when something is off
            done[path.name] = (notebook, copy, seconds)
        return done[path.name]

    return run
