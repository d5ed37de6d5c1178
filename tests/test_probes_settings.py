"""Probes of issue 26, part 3 (settings): bad preset values, a toy edit of a real photo, toy commands with nothing to do.

Each runs the `f2f` command in this process (`f2f_lab.cli.main`) and asserts exit code 2 and one line
that names the setting, before any model loads (no "models ready", no run folder).
"""

import io
from contextlib import redirect_stderr, redirect_stdout

import pytest
from PIL import Image

from f2f_lab.samples import SAMPLES_DIR


def f2f(*args):
    from f2f_lab.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(map(str, args)))
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def assert_one_line_error(code, err, *fragments):
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("TINY PRESET:")]  # a notice
    assert len(lines) == 1 and lines[0].startswith("f2f: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], err


# Cause 5: every value the issue lists, and its neighbours, refused by the one settings check.
BAD_SPECS = [
    ("num_inference_steps=abc", "num_inference_steps"),
    ("num_inference_steps=0", "num_inference_steps"),
    ("num_inference_steps=-3", "num_inference_steps"),
    ("fuse_qkv=no", "fuse_qkv must be true or false"),
    ("fuse_qkv=1", "fuse_qkv must be true or false"),
    ("output_size=0", "output_size"),
    ("fps=0", "fps"),
    ("canvas=5", "canvas"),
    ("canvas=720xabc", "canvas"),
    ("canvas=100x64", "canvas"),
    ("num_tiles=0", "num_tiles"),
    ("guidance_scale=high", "guidance_scale"),
    ("guidance_scale=nan", "guidance_scale"),
    ("latent_dropout=0", "latent_dropout"),
    ("latent_dropout=-2", "latent_dropout"),
    ("latent_dropout_at=2", "latent_dropout_at"),
    ("vlm_backend=bogus", "vlm_backend"),
    ("cache=bogus", "cache"),
]


@pytest.mark.parametrize("change, fragment", BAD_SPECS, ids=[c for c, _ in BAD_SPECS])
def test_bad_preset_value_is_one_line_before_any_load(change, fragment, tmp_path):
    out = tmp_path / "run"
    code, _, err = f2f("edit", SAMPLES_DIR / "cat.jpg", "a cat", "--preset", f"tiny:{change}", "--out", out)
    assert_one_line_error(code, err, fragment)
    assert "models ready" not in err
    assert not out.exists()


def test_bad_value_through_the_python_api_names_the_field():
    from f2f_lab import F2FError, Frame2Frame

    with pytest.raises(F2FError, match="fps"):
        Frame2Frame.from_preset("tiny", fps=0)
    with pytest.raises(F2FError, match="offload=.yes.: offload must be true or false"):
        Frame2Frame.from_preset("tiny", offload="yes")


# Cause 11: toy commands that would write untrained models, an empty table, or crash on a batch of 0.
@pytest.mark.parametrize("args, fragment", [
    (["--steps", "0"], "steps"), (["--steps", "-1"], "steps"), (["--batch", "0"], "batch"), (["--seed", "-1"], "seed"),
], ids=["steps0", "steps-1", "batch0", "seed-1"])
def test_toy_train_with_nothing_to_do_is_refused_before_writing(args, fragment, tmp_path):
    out = tmp_path / "models"
    code, _, err = f2f("toy", "train", "--out", out, *args)
    assert_one_line_error(code, err, fragment)
    assert not out.exists()


@pytest.mark.parametrize("seeds", ["0", "-3"])
def test_toy_evaluate_without_seeds_is_refused(seeds, tmp_path):
    out = tmp_path / "table"
    code, stdout, err = f2f("toy", "evaluate", "--seeds", seeds, "--out", out)
    assert_one_line_error(code, err, "seeds")
    assert not out.exists() and not stdout


# Cause 9: the toy models edit toy-world images only; a photo is refused by its distance to the toy manifold.
def test_toy_preset_refuses_a_real_photo(tmp_path):
    out = tmp_path / "run"
    code, _, err = f2f("edit", SAMPLES_DIR / "cat.jpg", "A happy person making a heart shape with their hands",
                       "--preset", "toy", "--out", out)
    # Refused by the toy video model before it generates (after its small load: the core never names the toy):
    # by its size first (the toy models take 32x32 images only), saying what a photo needs.
    err = "\n".join(line for line in err.splitlines() if not line.startswith("models ready"))
    assert_one_line_error(code, err, "32x32 toy-world images only", "--preset paper")
    assert not out.exists()
    # A photo at the toy models' size is refused by its distance to the toy manifold.
    small = tmp_path / "cat32.png"
    Image.open(SAMPLES_DIR / "cat.jpg").convert("RGB").resize((32, 32), Image.Resampling.LANCZOS).save(small)
    code, _, err = f2f("edit", small, "A happy person making a heart shape with their hands", "--preset", "toy",
                       "--out", out)
    err = "\n".join(line for line in err.splitlines() if not line.startswith("models ready"))
    assert_one_line_error(code, err, "not a toy-world image")
    assert not out.exists()


def test_toy_preset_still_edits_a_recompressed_toy_image(tmp_path):
    import numpy as np

    from f2f_lab import toy

    source = tmp_path / "person.jpg"  # a toy image as a user might have it: JPEG at quality 30
    toy.render(toy.sample_set("ai", np.random.default_rng(3)), 32).save(source, quality=30)
    out = tmp_path / "run"
    code, _, err = f2f("edit", source, "A happy person making a heart shape with their hands", "--preset", "toy",
                       "--out", out)
    assert code == 0, err
    record = __import__("json").loads((out / "record.json").read_text())
    assert record["video"]["source_distance"] < 0.1
