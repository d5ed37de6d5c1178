"""Every notebook in notebooks/ runs top to bottom in tiny mode, as a user would run it.

Each runs once per session (the `tiny_notebook_run` fixture of conftest.py, which other test
files share) from a copy under a temporary folder (tmp/notebooks/<name>), so run folders land
there and the committed notebooks are never touched; sample photos come from the package
(`f2f_lab.samples.sample_path`), so nothing else of the repository needs to be beside it.
The kernel inherits this process's environment: F2F_PRESET=tiny, HF_HUB_OFFLINE and
F2F_CACHE (set in conftest.py).
"""

import re
from pathlib import Path

import nbformat
import pytest

from f2f_lab.presets import TINY_NOTICE

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 300  # a cell of a tiny run takes seconds; this only catches a hang


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 4, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean_and_opens_with_purpose_and_parameters(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: clear outputs before committing"
    first, params = notebook.cells[0], notebook.cells[1]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert params.cell_type == "code" and "F2F_PRESET" in params.source and "preset_banner(" in params.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_takes_bundled_data_from_the_package(path):
    """No path into the checkout's data: a notebook must run beside an installed wheel too."""
    code = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
    assert not re.search(r"(?<!\w)data/", code), f"{path.name}: use f2f_lab.samples.sample_path / f2f_lab.resources.data_path"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_tiny_mode(path, tiny_notebook_run):
    notebook, _, seconds = tiny_notebook_run(path, CELL_TIMEOUT_S)  # raises CellExecutionError on any error, naming the cell
    print(f"{path.name}: {seconds:.1f} s")

    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    text = "\n".join(str(out.get("text", "")) + str(out.get("data", {}).get("text/plain", "")) for out in outputs)
    assert TINY_NOTICE in text, "the tiny-mode banner must be shown"
    last = notebook.cells[-1]
    assert last.cell_type == "code" and last.outputs, "the story ends on something to look at"
