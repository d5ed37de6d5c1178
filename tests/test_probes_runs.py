"""Issue 26, runs on disk: nothing computed is lost to an interrupt, a disk or permission fault, an
--overwrite, a damaged folder or a killed writer (causes 2, 3, 8, 12, 13). Each test failed on the
main of 12-02.

Faults are injected where this machine cannot make them: tests run as root here, and root writes
into a chmod 555 folder, so a read-only folder is an injected PermissionError from the write check
when running as root (a real chmod otherwise); a full disk is an injected OSError(ENOSPC) in the save.
Interrupts happen at a known point (an exception raised by the pipeline at a given seed, or a child
process held on a pipe), never by timing.
"""

import errno
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from PIL import Image

from f2f_lab import records, results
from f2f_lab.cli import main
from f2f_lab.compare import compare
from f2f_lab.metrics import Scorer
from f2f_lab.pipeline import Frame2Frame
from f2f_lab.results import REFINED_FILES, RUN_FILES

FAST = ["--preset", "tiny", "--frames", "9", "--steps", "1"]
TARGET = "A photo of a cat yawning."


def f2f(*args):
    """`f2f ARGS` in this process: (exit code, stdout, stderr); an escaping exception is a failure of its own."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(map(str, args)))
        except SystemExit as exc:
            code = exc.code
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - a traceback is what these probes look for
            code = f"traceback: {type(exc).__name__}: {exc}"
    return code, out.getvalue(), err.getvalue()


def assert_one_line_error(code, err, *fragments):
    assert code == 2, (code, err)
    lines = [line for line in err.splitlines() if line.startswith("f2f: error")]
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], err


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# -- cause 2: --seeds saves each seed as it finishes; a rerun resumes ------------------------

def test_seeds_are_saved_one_by_one_and_a_rerun_computes_only_the_rest(cat_path, tmp_path, monkeypatch):
    out, computed = tmp_path / "run", []
    real = Frame2Frame._generate_and_select

    def stop_at_seed_1(self, source, target, caption, seed, *args, **kwargs):
        if seed == 1:
            raise KeyboardInterrupt  # what Ctrl-C raises, at a known point: after seed 0, before seed 1
        computed.append(seed)
        return real(self, source, target, caption, seed, *args, **kwargs)

    monkeypatch.setattr(Frame2Frame, "_generate_and_select", stop_at_seed_1)
    code, _, err = f2f("edit", cat_path, TARGET, *FAST, "--seeds", "0", "1", "--out", out)
    assert code == 130, err
    assert computed == [0]
    assert all((out / "seed-0" / name).is_file() for name in RUN_FILES), list((out / "seed-0").iterdir())
    assert not (out / "seed-1").exists()
    saved = [line for line in err.splitlines() if "seeds saved" in line]
    assert len(saved) == 1 and ": 0;" in saved[0] and "not done: 1." in saved[0], err
    seed_0 = {name: (out / "seed-0" / name).read_bytes() for name in RUN_FILES}

    computed.clear()
    monkeypatch.setattr(Frame2Frame, "_generate_and_select",
                        lambda self, *a, **k: computed.append(a[3]) or real(self, *a, **k))
    code, stdout, err = f2f("edit", cat_path, TARGET, *FAST, "--seeds", "0", "1", "--out", out)
    assert code == 0, err
    assert computed == [1]  # seed 0 was not recomputed
    assert "seed 0: already done" in stdout
    assert {name: (out / "seed-0" / name).read_bytes() for name in RUN_FILES} == seed_0
    captions = {json.loads((out / f"seed-{s}" / "record.json").read_text())["caption"]["text"] for s in (0, 1)}
    assert len(captions) == 1  # one temporal caption for every seed, as in one uninterrupted run
    code, _, err = f2f("edit", cat_path, "A photo of a dog.", *FAST, "--seeds", "0", "1", "--out", out)
    assert_one_line_error(code, err, "another edit", "target")  # a different edit is not mixed in
    assert "models ready" not in err


# -- cause 3: an unwritable --out is refused before loading; a failed save keeps the edit -------

@pytest.fixture
def read_only_folder(tmp_path, monkeypatch):
    """A folder nothing can be written into: chmod 555, or (as root, who writes anyway) EACCES injected at the write check."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    real = tempfile.mkstemp

    def refuse(*args, dir=None, **kwargs):
        if dir is not None and Path(dir).resolve() == folder.resolve():
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(dir))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(records.tempfile, "mkstemp", refuse)
    yield folder


def unwritable_outs(tmp_path, read_only_folder):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    return {"under a file": (a_file / "run", "a file"), "read-only": (read_only_folder / "run", "cannot be written")}


@pytest.mark.parametrize("case", ["under a file", "read-only"])
def test_an_unwritable_out_is_refused_before_any_model_loads(cat_path, tmp_path, read_only_folder, case):
    out, fragment = unwritable_outs(tmp_path, read_only_folder)[case]
    commands = {
        "edit": ["edit", cat_path, TARGET, *FAST, "--out", out],
        "compare": ["compare", cat_path, TARGET, "--preset", "tiny", "--methods", "kontext", "--out", out, "--no-progress"],
        "bench speed": ["bench", "speed", "--preset", "tiny", "--frames", "9", "--steps", "1", "--repeat", "1",
                        "--json", out / "speed.json"],
        "toy train": ["toy", "train", "--out", out, "--steps", "1", "--batch", "2", "--which", "video"],
        "bench tedbench": ["bench", "tedbench", "--data", Path(__file__).resolve().parent.parent / "data" / "samples" /
                           "tedbench_sample", *FAST, "--limit", "1", "--seeds", "1", "--light", "--out", out],
    }
    for name, argv in commands.items():
        code, stdout, err = f2f(*argv)
        assert_one_line_error(code, err, fragment)
        assert "models ready" not in err and "Traceback" not in err, (name, err)


def test_a_full_disk_at_save_keeps_the_edit_in_a_recovery_folder(cat_path, tmp_path, monkeypatch):
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    out = tmp_path / "disk" / "run"
    real = results.save_image

    def disk_full(image, path, *args, **kwargs):
        if str(tmp_path / "disk") in str(path):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(image, path, *args, **kwargs)

    monkeypatch.setattr(results, "save_image", disk_full)
    code, _, err = f2f("edit", cat_path, TARGET, *FAST, "--out", out)
    assert_one_line_error(code, err, "No space left on device", str(system_tmp / "f2f-recovered"))
    kept = [p for p in (system_tmp / "f2f-recovered").iterdir()]
    assert len(kept) == 1 and all((kept[0] / name).is_file() for name in RUN_FILES)
    assert f"'{kept[0]}'" in err
    assert not (out.parent.exists() and hidden(out.parent))  # nothing half-written beside --out


# -- cause 8: --overwrite deletes only what a recorded run wrote --------------------------------

def test_overwrite_never_deletes_a_users_own_file(cat_path, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    Image.new("RGB", (8, 8), "red").save(out / "chosen.png")
    (out / "notes.txt").write_text("mine")
    before = (out / "chosen.png").read_bytes()
    for extra in ([], ["--overwrite"]):
        code, _, err = f2f("edit", cat_path, TARGET, *FAST, "--out", out, *extra)
        assert_one_line_error(code, err, "chosen.png", "no recorded run")
        assert "models ready" not in err
    assert (out / "chosen.png").read_bytes() == before and (out / "notes.txt").read_text() == "mine"


def test_overwrite_replaces_an_earlier_run_but_not_a_file_added_to_it(cat_path, tmp_path):
    out = tmp_path / "run"
    assert f2f("edit", cat_path, TARGET, *FAST, "--out", out)[0] == 0
    record = json.loads((out / "record.json").read_text())
    assert set(record["files"]) == set(RUN_FILES)  # what it wrote: what a later --overwrite may replace
    Image.new("RGB", (8, 8), "red").save(out / "refined.png")  # the user's, beside an unrefined run
    code, _, err = f2f("edit", cat_path, TARGET, *FAST, "--out", out, "--overwrite")
    assert_one_line_error(code, err, "refined.png")
    assert (out / "record.json").read_bytes() == json.dumps(record, indent=2).encode() + b"\n"  # untouched


# -- cause 12: a damaged finished compare item is recomputed -----------------------------------

def test_a_damaged_compare_item_is_recomputed_not_a_dead_end(cat_path, tmp_path, capsys):
    out, scorer = tmp_path / "cmp", Scorer.from_preset("tiny", size=64)
    compare(cat_path, TARGET, ["kontext", "chronoedit"], preset="tiny", out=out, scorer=scorer, progress=False)
    (out / "kontext" / "edited.png").write_bytes(b"")  # 0 bytes: a crash of the disk, a bad copy
    chronoedit = (out / "chronoedit" / "record.json").read_bytes()
    capsys.readouterr()
    again = compare(cat_path, TARGET, ["kontext", "chronoedit"], preset="tiny", out=out, scorer=scorer, progress=False)
    err = capsys.readouterr().err
    assert "kontext" in err and "unreadable" in err and "again" in err
    Image.open(out / "kontext" / "edited.png").load()
    assert not again.runs["kontext"].reused and again.runs["chronoedit"].reused
    assert (out / "chronoedit" / "record.json").read_bytes() == chronoedit  # the whole one was read back


# -- cause 13: what a SIGKILLed writer leaves is cleaned up; a lone earlier run is put back ------

HOLD_IN_ATOMIC_FOLDER = """
import sys
from f2f_lab.records import atomic_folder
with atomic_folder(sys.argv[1], replace=True) as tmp:
    (tmp / "edited.png").write_bytes(b"half")
    print("inside", flush=True)
    sys.stdin.read()  # held here until the test kills it
"""


def killed_writer(path: Path) -> int:
    """A process killed (SIGKILL) inside `atomic_folder(path)`: its pid, its temporary folder left beside `path`."""
    child = subprocess.Popen([sys.executable, "-c", HOLD_IN_ATOMIC_FOLDER, str(path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert child.stdout.readline().strip() == "inside"
    child.send_signal(signal.SIGKILL)
    child.wait()
    return child.pid


def test_a_killed_writers_temporaries_are_removed_and_a_lone_earlier_run_put_back(cat_path, tmp_path):
    out = tmp_path / "run"
    out.mkdir()  # an earlier run (its files are not looked into before the refusal)
    for name in RUN_FILES:
        (out / name).write_bytes(b"earlier")
    (out / "record.json").write_text(json.dumps({"files": list(RUN_FILES)}))
    earlier = (out / "record.json").read_bytes()
    pid = killed_writer(out)
    left = hidden(tmp_path)
    assert len(left) == 1 and left[0].endswith(".tmp")
    # Killed between a replace's two renames: the earlier run only under the hidden .old name.
    owner = left[0][: -len(".tmp")].rsplit(".", 1)[0]  # .run.HOST-PID
    os.replace(out, tmp_path / f"{owner}.x1y2z3w4.old")
    assert not out.exists()

    code, _, err = f2f("edit", cat_path, TARGET, *FAST, "--out", out)  # the rerun finds the earlier run again
    assert_one_line_error(code, err, "already holds a run")
    assert (out / "record.json").read_bytes() == earlier
    assert hidden(tmp_path) == [], f"pid {pid} left {hidden(tmp_path)}"


def test_a_live_writers_temporary_is_left_alone(tmp_path):
    path = tmp_path / "item"
    with records.atomic_folder(path) as tmp:
        records.recover_folder(path)  # another writer's cleanup, while this one writes
        assert tmp.is_dir()
        (tmp / "x").write_text("x")
    assert (path / "x").read_text() == "x" and hidden(tmp_path) == []
