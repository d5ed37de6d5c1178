"""Where the bundled data lives (samples, ICL examples, task lists, toy weights): `data_path`.

In the repository the data is the top-level `data/` folder (data/README.md lists every file,
where it comes from and its licence). pyproject.toml maps that folder into the package as
`f2f_lab.data`, so a wheel installs it as `f2f_lab/data/` beside the code. Every reader of
bundled data goes through `data_path`, so the same code works from:

- an installed wheel: `f2f_lab/data/` inside the package (`importlib.resources`; setuptools
  installs package data as plain files, so it is a real folder that can be globbed and opened);
- a checkout, imported through PYTHONPATH or an editable install: `data/` beside `f2f_lab/`.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

# A file every copy of the data has: tells our data folder from any other folder named "data".
_MARKER = "icl_examples.json"


def _data_dir() -> Path:
    installed = Path(str(files("f2f_lab") / "data"))  # a wheel: data/ was installed as f2f_lab/data/
    if (installed / _MARKER).is_file():
        return installed
    checkout = Path(__file__).resolve().parent.parent / "data"  # a checkout (PYTHONPATH or editable install)
    if (checkout / _MARKER).is_file() and (checkout.parent / "pyproject.toml").is_file():
        return checkout
    return installed  # missing: readers name this path in their error (reinstall f2f_lab)


DATA_DIR = _data_dir()


def data_path(*parts: str) -> Path:
    """The path of a bundled data file or folder, e.g. `data_path("samples", "cat.jpg")`."""
    return DATA_DIR.joinpath(*parts)
