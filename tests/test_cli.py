"""The `f2f` command as a user runs it: exit codes, one-line errors, files.

Most commands run through the CLI's entry point in this process (`f2f_lab.cli.main`, the
same parser and error handling, one interpreter start saved); those that need their own
environment, and the complete run and Ctrl-C tests, run `python -m f2f_lab.cli` as a subprocess.
"""

import io
import os
import signal
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest
from PIL import Image

from f2f_lab.results import RUN_FILES

FAST = ["--preset", "tiny", "--frames", "9", "--steps", "1"]


def f2f_process(*args, cwd=None, env=None):
    """`python -m f2f_lab.cli ARGS` in a subprocess: its exit code, stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "f2f_lab.cli", *map(str, args)],
        capture_output=True, text=True, timeout=300, cwd=cwd, env={**os.environ, **(env or {})},
    )


def f2f(*args, cwd=None, env=None):
    """`f2f ARGS`: in this process through `main`, or in a subprocess when it needs its own folder or environment."""
    if cwd is not None or env is not None:
        return f2f_process(*args, cwd=cwd, env=env)
    from f2f_lab.cli import main

    argv, out, err = list(map(str, args)), io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def no_hub_cache(tmp_path) -> dict:
    """An empty Hugging Face cache: the paper's CogVideoX-5B cannot load from it (the hub is off in tests),
    so a run that reached the model load would fail there, with another message."""
    return {"HF_HOME": str(tmp_path / "empty-hf-home"), "HF_HUB_CACHE": str(tmp_path / "empty-hf-home" / "hub")}


def assert_nothing_loaded(proc, out):
    assert "models ready" not in proc.stderr, proc.stderr
    assert not out.exists()


def assert_user_error(proc, fragment):
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and fragment in errors[0], proc.stderr


def test_edit_writes_a_complete_run(cat_path, tmp_path):
    proc = f2f_process("edit", cat_path, "A photo of a cat yawning.", *FAST, "--out", tmp_path / "run")
    assert proc.returncode == 0, proc.stderr
    assert all((tmp_path / "run" / name).exists() for name in RUN_FILES)
    assert "TINY PRESET" in proc.stderr


def test_demo_writes_the_report_and_says_it_is_noise(tmp_path):
    proc = f2f("demo", "--out", tmp_path / "demo", "--frames", "9", "--steps", "1")
    assert proc.returncode == 0, proc.stderr
    assert "report.html" in proc.stdout and "random weights" in proc.stdout
    assert (tmp_path / "demo" / "report.html").exists()
    # Then one real toy edit beside it (tests/test_toy_models.py checks its files), and where to go next.
    assert (tmp_path / "demo" / "toy" / "exact_path.png").exists() and "toy edit" in proc.stdout
    assert "--preset paper" in proc.stdout


def _odd_images(folder):
    ramp = np.linspace(0, 255, 64 * 48).reshape(48, 64).astype(np.uint8)
    rgb = Image.fromarray(np.stack([ramp, ramp[::-1], ramp], axis=-1))
    made = {
        "rgba.png": rgb.convert("RGBA"),
        "la.png": rgb.convert("LA"),
        "palette.png": rgb.convert("P"),
        "cmyk.tiff": rgb.convert("CMYK"),
        "deep16.png": Image.fromarray((ramp.astype(np.uint16) * 257)),
        "small16.png": rgb.resize((16, 16)),
        "huge.jpg": rgb.resize((6000, 4000)),
    }
    for name, image in made.items():
        image.save(folder / name)
    return sorted(made)


@pytest.fixture(scope="module")
def odd_images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("odd")
    _odd_images(folder)
    return folder


@pytest.mark.parametrize("name", ["rgba.png", "la.png", "palette.png", "cmyk.tiff", "deep16.png", "small16.png", "huge.jpg"])
def test_odd_images_are_edited(name, odd_images, tmp_path, capsys):
    from f2f_lab.cli import main

    # The CLI's entry point in this process: the image handling is the same, one interpreter start is saved.
    code = main(["edit", str(odd_images / name), "A colourful gradient.", *FAST, "--out", str(tmp_path / "run")])
    assert code == 0, capsys.readouterr().err
    with Image.open(tmp_path / "run" / "edited.png") as edited:
        assert edited.mode == "RGB" and max(edited.size) == 512


def test_missing_image(tmp_path):
    assert_user_error(f2f("edit", tmp_path / "nope.jpg", "A cat.", *FAST), "No image file")


def test_unreadable_image(tmp_path):
    bad = tmp_path / "notes.jpg"
    bad.write_text("this is text")
    assert_user_error(f2f("edit", bad, "A cat.", *FAST), "Cannot read")


def test_too_small_image(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "dot.png")
    assert_user_error(f2f("edit", tmp_path / "dot.png", "A cat.", *FAST), "at least 16")


@pytest.mark.parametrize("preset", [
    FAST,  # loads in seconds, so only the missing "models ready" tells
    ["--preset", "paper", "--captioner", "template", "--selector", "last"],  # cannot load here: the error would differ
], ids=["tiny", "paper-unloadable"])
def test_extreme_aspect_ratio_is_refused_before_loading(tmp_path, preset):
    Image.new("RGB", (3000, 20)).save(tmp_path / "sliver.png")
    proc = f2f("edit", tmp_path / "sliver.png", "A cat.", *preset, "--out", tmp_path / "run", env=no_hub_cache(tmp_path))
    assert_user_error(proc, "aspect ratio")
    assert_nothing_loaded(proc, tmp_path / "run")


def test_empty_caption(cat_path):
    assert_user_error(f2f("edit", cat_path, "  ", *FAST), "empty")


def test_unknown_preset(cat_path):
    proc = f2f("edit", cat_path, "A cat.", "--preset", "huge")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == ["f2f: error: Unknown preset 'huge'. Choose one of: paper, tiny, open, fast, turbo, lowvram, cogvideox1.5, wan2.1-480p, wan2.2-5b, wan2.2-a14b, hunyuan1.5, ltx, ifedit, tiny-ifedit, toy."]


def test_paper_preset_without_a_vlm_says_what_to_do(cat_path, tmp_path):
    from f2f_lab.vlm import NO_VLM_MESSAGE

    # conftest removed OPENAI_API_KEY and OPENAI_BASE_URL from the environment the CLI inherits
    proc = f2f("edit", cat_path, "A cat.", "--preset", "paper", "--out", tmp_path / "run", env=no_hub_cache(tmp_path))
    assert_user_error(proc, "OPENAI_API_KEY")
    error_line = next(line for line in proc.stderr.splitlines() if "error" in line)
    assert error_line == f"f2f: error: {NO_VLM_MESSAGE}"  # the whole hint, on one line
    for way_out in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "--vlm-base-url", "--captioner template --selector clip"):
        assert way_out in error_line
    assert_nothing_loaded(proc, tmp_path / "run")


def test_existing_run_is_kept_unless_overwrite(cat_path, tmp_path):
    out = tmp_path / "run"
    assert f2f("edit", cat_path, "A photo of a cat yawning.", *FAST, "--out", out).returncode == 0
    before = {name: (out / name).read_bytes() for name in RUN_FILES}
    assert_user_error(f2f("edit", cat_path, "A dog.", *FAST, "--seed", "7", "--out", out), "--overwrite")
    assert {name: (out / name).read_bytes() for name in RUN_FILES} == before
    proc = f2f("edit", cat_path, "A dog.", *FAST, "--seed", "7", "--out", out, "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert (out / "record.json").read_bytes() != before["record.json"]


def test_several_seeds_get_a_folder_each(cat_path, tmp_path):
    proc = f2f("edit", cat_path, "A photo of a cat yawning.", *FAST, "--seeds", "0", "1", "--out", tmp_path / "run")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "run" / "seed-0" / "edited.png").exists() and (tmp_path / "run" / "seed-1" / "edited.png").exists()


@pytest.mark.parametrize("args, fragment", [
    (["--steps", "0"], "--steps 0"),
    (["--seeds", "1", "1"], "repeats a seed"),
    (["--seed", "99999999999999999999"], "2**63"),
    (["--caption", " "], "--caption"),
])
def test_bad_numbers_and_captions_fail_before_loading_models(cat_path, tmp_path, args, fragment):
    proc = f2f("edit", cat_path, "A cat.", "--preset", "tiny", "--frames", "9", *args, "--out", tmp_path / "run")
    assert_user_error(proc, fragment)
    assert "models ready" not in proc.stderr and not (tmp_path / "run").exists()


def test_ctrl_c_exits_130_and_writes_no_half_run(cat_path, tmp_path):
    # The edit holds at its first denoising step (the CLI's test hook, F2F_TEST_HOLD_AT_STEP): the
    # signal arrives mid-edit however fast or slow the machine is.
    runs, held, log = tmp_path / "runs", tmp_path / "held", tmp_path / "stderr.txt"
    runs.mkdir()
    out = runs / "run"
    with open(log, "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "f2f_lab.cli", "edit", str(cat_path), "A photo of a cat yawning.",
             "--preset", "tiny", "--frames", "9", "--steps", "2", "--out", str(out)],
            stdout=subprocess.PIPE, stderr=stderr, text=True, env={**os.environ, "F2F_TEST_HOLD_AT_STEP": str(held)},
        )
    try:
        deadline = time.monotonic() + 600  # model loading on a loaded machine; a bound, not a race
        while not held.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert held.exists(), f"the edit never reached its first step (exit {proc.poll()}): {log.read_text()}"
        proc.send_signal(signal.SIGINT)  # what Ctrl-C in a terminal sends
        proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = log.read_text()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    message = [line for line in err.splitlines() if line.startswith("f2f: interrupted")]
    assert len(message) == 1 and "not written" in message[0], err
    assert list(runs.iterdir()) == []  # true: no run folder, no temporary folder beside it


def test_ctrl_c_in_a_benchmark_says_how_far_it_got_and_how_to_resume(tmp_path, monkeypatch, capsys):
    from f2f_lab.bench import runner
    from f2f_lab.cli import main
    from f2f_lab.samples import sample_tedbench

    data, out = sample_tedbench(tmp_path / "tedbench", limit=2), tmp_path / "run"
    real, calls = runner._run_item, []

    def stop_at_the_second_item(*args, **kwargs):
        if calls:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "_run_item", stop_at_the_second_item)
    argv = ["bench", "tedbench", "--data", str(data), "--out", str(out), "--preset", "tiny", "--seeds", "2",
            "--frames", "9", "--steps", "1", "--light", "--no-progress"]
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert f"stopped: 1 of 4 items are done in {out}" in err
    assert "Resume with: f2f bench tedbench --data" in err and f"--out {out}" in err
