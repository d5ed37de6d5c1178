"""Where the data shipped inside the package lives (f2f_lab/data/: samples, ICL examples, task lists).

Every reader of bundled data goes through `data_path`, so the same code works from a
checkout, an editable install and an installed wheel. The path comes from
`importlib.resources`; setuptools installs package data as plain files, so it is a real
directory that can be globbed and opened by path.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

DATA_DIR = Path(str(files("f2f_lab") / "data"))


def data_path(*parts: str) -> Path:
    """The path of a bundled data file or folder, e.g. `data_path("samples", "cat.jpg")`."""
    return DATA_DIR.joinpath(*parts)
