"""The wheel carries the bundled data, and the library finds it when installed from the wheel.

The bundled data lives in the top-level data/ folder; pyproject.toml maps it into the package as
f2f_lab.data, so the wheel holds it as f2f_lab/data/. The wheel is built from a copy of the sources
(pyproject.toml, README.md, LICENSE, f2f_lab/, data/)
under a temporary folder, without build isolation (no network; the venv's setuptools), so the
checkout's build/ and egg-info are never used or touched. The library is then imported from
the unzipped wheel in a fresh interpreter (`-I`, an explicit sys.path, the editable install's
finder removed) whose working directory is outside the checkout.
"""

import email
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"


def fetched_folders() -> list[str]:
    """The folders of data/ that hold what users fetch or build (data/.gitignore): not bundled."""
    lines = (DATA / ".gitignore").read_text(encoding="utf-8").splitlines()
    return sorted(line.strip("/") for line in lines if line.startswith("/") and line.endswith("/"))


def bundled_files() -> list[str]:
    """Every bundled file of data/ in the checkout, as a path inside the wheel (f2f_lab/data/...)."""
    fetched = set(fetched_folders())
    return sorted(
        "f2f_lab/data/" + path.relative_to(DATA).as_posix() for path in DATA.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith(".")
        and path.relative_to(DATA).parts[0] not in fetched
    )


def in_checkout(wheel_name: str) -> str:
    """f2f_lab/data/x -> data/x: where a bundled file of the wheel lives in the checkout."""
    return wheel_name.removeprefix("f2f_lab/")


def setuptools_config() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def listed_packages() -> list[str]:
    return setuptools_config()["packages"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("packaging")
    source = root / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "f2f_lab", source / "f2f_lab", ignore=skip)
    fetched = set(fetched_folders())  # a downloaded benchmark is large and stays out of the wheel anyway

    def skip_data(folder: str, names: list[str]) -> list[str]:
        return [*skip(folder, names), *(fetched & set(names) if Path(folder) == DATA else ())]

    shutil.copytree(DATA, source / "data", ignore=skip_data)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
         str(source), "-w", str(root / "dist")],
        capture_output=True, text=True, timeout=300,
    )
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stdout + done.stderr
    print(f"wheel built in {seconds:.1f} s")
    [built] = (root / "dist").glob("f2f_lab-*.whl")
    return built


@pytest.fixture(scope="module")
def unpacked(wheel, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def test_wheel_contains_the_bundled_data_and_the_licence(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [metadata_name] = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(archive.read(metadata_name))
    expected = bundled_files()
    for required in ("f2f_lab/data/samples/cat.jpg", "f2f_lab/data/icl_examples.json",
                     "f2f_lab/data/tasks/posedit_tasks.json", "f2f_lab/data/tasks/tedbench_targets.json",
                     "f2f_lab/data/icl/LICENSES.md", "f2f_lab/data/samples/LICENSES.md"):
        assert required in expected, f"{in_checkout(required)} is missing from the checkout"
    missing = [name for name in expected if name not in names]
    assert not missing, f"not in the wheel: {missing}"
    icl = json.loads((DATA / "icl_examples.json").read_text(encoding="utf-8"))
    for example in icl["examples"]:
        if example.get("image"):
            assert f"f2f_lab/data/{example['image']}" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert metadata["License-Expression"] == "Apache-2.0"


def test_every_package_is_listed_in_pyproject():
    """pyproject.toml lists the packages (a `find` cannot add the mapped data/): each folder of f2f_lab/
    with an __init__.py must be there, or the wheel would silently lack it."""
    folders = sorted(".".join(init.parent.relative_to(REPO).parts)
                     for init in (REPO / "f2f_lab").rglob("__init__.py") if "__pycache__" not in init.parts)
    missing = [name for name in folders if name not in listed_packages()]
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {missing}"
    fetched = set(fetched_folders())
    data = sorted("f2f_lab.data" + "".join("." + part for part in folder.relative_to(DATA).parts)
                  for folder in [DATA, *DATA.rglob("*")] if folder.is_dir() and "__pycache__" not in folder.parts
                  and not fetched.intersection(folder.relative_to(DATA).parts[:1]))
    missing = [name for name in data if name not in listed_packages()]
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml (a data folder): {missing}"


def test_fetched_data_stays_out_of_git_and_the_wheel():
    """data/.gitignore and pyproject.toml's exclude-package-data name the same folders."""
    excluded = setuptools_config()["exclude-package-data"]["f2f_lab.data"]
    assert sorted(pattern.removesuffix("/*") for pattern in excluded) == fetched_folders()
    assert all(pattern.endswith("/*") for pattern in excluded)


def test_wheel_contains_every_module(wheel):
    modules = sorted(path.relative_to(REPO).as_posix() for path in (REPO / "f2f_lab").rglob("*.py")
                     if "__pycache__" not in path.parts)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = [name for name in modules if name not in names]
    assert not missing, f"not in the wheel: {missing}"


def test_checkout_reads_the_top_level_data_folder():
    """From a checkout (PYTHONPATH or an editable install) data_path is the repository's data/."""
    import f2f_lab
    from f2f_lab.resources import data_path

    if not Path(f2f_lab.__file__).resolve().is_relative_to(REPO):
        pytest.skip("f2f_lab is not imported from this checkout")
    assert data_path() == DATA and data_path("icl_examples.json").is_file()
    assert not (REPO / "f2f_lab" / "data").exists(), "the bundled data lives in data/ now, not f2f_lab/data/"


def test_bundled_data_is_not_git_ignored():
    """A bundled file that git ignores would be missing from a fresh clone, and so from its wheel."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    files = [in_checkout(name) for name in bundled_files()]
    done = subprocess.run(["git", "check-ignore", "--no-index", *files], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 1 and not done.stdout.strip(), f"git ignores bundled data: {done.stdout}"


def run_from_wheel(unpacked: Path, cwd: Path, body: str) -> subprocess.CompletedProcess:
    """Run `body` in `python -I` with only the unpacked wheel (then the venv's site-packages) on the path."""
    script = textwrap.dedent('''
        import sys
        sys.path.insert(0, {site!r})
        # -I drops PYTHONPATH and the working directory, but the editable install's .pth still
        # registers its finder: remove it, so f2f_lab can only come from the wheel.
        sys.meta_path = [f for f in sys.meta_path if "editable" not in getattr(f, "__module__", "")
                         and "editable" not in getattr(type(f), "__module__", "")]
        import f2f_lab
        assert f2f_lab.__file__.startswith({site!r}), f2f_lab.__file__
    ''').format(site=str(unpacked)) + textwrap.dedent(body) + textwrap.dedent('''
        strays = sorted(name for name, module in sys.modules.items() if name.startswith("f2f_lab")
                        and not (getattr(module, "__file__", None) or {site!r}).startswith({site!r}))
        assert not strays, strays
        print("ok from", f2f_lab.__file__)
    ''').format(site=str(unpacked))
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-I", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_library_reads_samples_examples_and_task_lists_from_the_wheel(unpacked, tmp_path):
    done = run_from_wheel(unpacked, tmp_path, '''
        from f2f_lab.bench import posedit, tedbench
        from f2f_lab.captions import load_icl_examples
        from f2f_lab.imaging import load_image
        from f2f_lab.resources import data_path
        from f2f_lab.samples import SAMPLES_DIR, sample_path

        site = sys.path[0]
        assert str(data_path()).startswith(site) and str(SAMPLES_DIR).startswith(site)
        assert load_image(sample_path("cat.jpg")).size[0] >= 64
        assert sample_path("coffee") == sample_path("coffee.jpg")
        examples = load_icl_examples()
        assert len(examples) >= 9 and all(e.image is None or str(e.image).startswith(site) for e in examples)
        for example in examples:
            if example.image is not None:
                load_image(example.image)
        assert len(tedbench.target_captions()) == 100
        assert len(posedit.categories()) == 8
    ''')
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok from" in done.stdout


@pytest.mark.slow
def test_demo_runs_from_the_wheel_outside_the_checkout(unpacked, tmp_path):
    """`f2f demo` (tiny preset, about ten seconds) with the package from the wheel, run from a foreign folder."""
    done = run_from_wheel(unpacked, tmp_path, f'''
        from f2f_lab.cli import main
        main(["demo", "--out", {str(tmp_path / "run")!r}])
    ''')
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("record.json", "report.html", "edited.png", "toy/record.json", "toy/exact_path.png"):
        assert (tmp_path / "run" / name).is_file(), name  # toy/: the toy weights ship in the wheel
