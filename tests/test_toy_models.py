"""The learned toy models (f2f_lab.toy, issue 18's second step): trained, shipped, measured, run by the pipeline.

Every figure is recomputed here from the shipped weights or a fresh training run; the
committed table is checked against a few of its own seeds, not copied.
"""

import json

import numpy as np
import pytest
from PIL import Image

from f2f_lab import toy
from f2f_lab.captions import TemplateCaptioner
from f2f_lab.errors import F2FError
from f2f_lab.manifold.study import PAPER_TARGET
from f2f_lab.pipeline import Frame2Frame
from f2f_lab.toy import evaluate as toy_eval
from f2f_lab.toy import text

CHECKED_SEEDS = (0, 1, 2)


def toy_cli(argv):
    from f2f_lab.cli import main

    return main(argv)


@pytest.fixture(scope="module")
def editor():
    return toy.ToyVideoGenerator.from_pretrained("toy"), toy.ToySDEdit.from_pretrained("toy")


def test_short_training_run_lowers_the_loss(tmp_path):
    assert toy_cli(["toy", "train", "--out", str(tmp_path), "--steps", "30", "--batch", "4", "--which", "video"]) == 0
    log = [json.loads(line) for line in (tmp_path / "video" / "train_log.jsonl").read_text().splitlines()]
    assert [row["step"] for row in log] == [10, 20, 30] and all(row["seconds"] > 0 for row in log)
    assert log[-1]["loss"] < 0.6 * log[0]["loss"]
    record = json.loads((tmp_path / "video" / "toy.json").read_text())
    assert record["seed"] == 0 and record["steps"] == 30
    # What it wrote loads as a generator.
    toy.ToyVideoGenerator.from_pretrained(tmp_path / "video")


def test_shipped_weights_are_small_and_recorded():
    data = toy_eval.TABLE.parent
    for kind in ("video", "image"):
        weights = data / kind / "diffusion_pytorch_model.safetensors"
        assert weights.stat().st_size < 2_000_000
        record = json.loads((data / kind / "toy.json").read_text())
        assert record["seed"] == 0 and record["last_loss"] < record["first_loss"]
        assert (data / kind / "train_log.jsonl").read_text().count("\n") >= record["steps"] // 10


def test_shipped_weights_reproduce_the_committed_table(editor):
    video, image = editor
    committed = toy.load_table()
    f2f = Frame2Frame(video, TemplateCaptioner(), toy.ToyFactorSelector(), toy.TOY_PRESET)
    strengths = (0.5, 0.9)
    table = toy.evaluate_edits((f2f, image), seeds=CHECKED_SEEDS, strengths=strengths, exact=False)
    for method, rows in table["per_seed"].items():
        before = [committed["per_seed"][method][committed["seeds"].index(s)] for s in CHECKED_SEEDS]
        for now, then in zip(rows, before):
            assert now["arms"] == pytest.approx(then["arms"], abs=0.02), method
            assert now["path_distance"] == pytest.approx(then["path_distance"], rel=0.05, abs=1e-3), method
            assert now["ai"] == then["ai"], method
        assert np.mean([r["success"] for r in rows]) == pytest.approx(np.mean([r["success"] for r in before]), abs=0.34)


def test_frame2frame_runs_the_toy_generator_end_to_end(editor, tmp_path):
    video, _ = editor
    source = toy.render(toy_eval.eval_source(7), 32)
    f2f = Frame2Frame(video, TemplateCaptioner(), toy.ToyFactorSelector(), toy.TOY_PRESET)
    result = f2f.edit(source, PAPER_TARGET, seed=7)
    assert len(result.frames) == 9 and all(f.size == (32, 32) for f in result.frames)
    assert np.array_equal(np.asarray(result.frames[0]), np.asarray(source))  # frame 0 is the source, exactly
    assert 0 <= result.index < 9
    assert result.record["selection"]["selector"] == "toy" and len(result.record["selection"]["arms"]) == 8
    assert result.record["video"]["caption_words"] == ["heart"]  # the template caption names the heart
    # The video moves the arms: the last frame's fitted pose is well above the source's.
    arms = result.record["selection"]["arms"]
    assert arms[-1] > toy_eval.eval_source(7).arms + 0.3
    result.save(tmp_path / "edit")
    assert (tmp_path / "edit").exists()


def test_a_toy_image_of_another_size_is_refused_with_the_fix_not_shrunk(editor):
    video, _ = editor
    f2f = Frame2Frame(video, TemplateCaptioner(), toy.ToyFactorSelector(), toy.TOY_PRESET)
    with pytest.raises(F2FError, match="f2f toy source") as refused:
        f2f.edit(toy.render(toy_eval.eval_source(7), 64), PAPER_TARGET, seed=7)
    assert "64x64" in str(refused.value)


def test_f2f_toy_source_writes_the_evaluation_source_at_the_models_size(tmp_path, capsys):
    out = tmp_path / "person.png"
    assert toy_cli(["toy", "source", "--out", str(out), "--seed", "7"]) == 0
    written = Image.open(out)
    assert written.size == (toy.ToyVideoGenerator.from_pretrained("toy").canvas)  # 32 x 32
    assert np.array_equal(np.asarray(written.convert("RGB")), np.asarray(toy.render(toy_eval.eval_source(7), 32)))
    assert "--preset toy" in capsys.readouterr().out  # it says how to edit it
    assert toy_cli(["toy", "source", "--out", str(out), "--seed", "8"]) == 2  # an existing file is kept...
    assert np.array_equal(np.asarray(Image.open(out).convert("RGB")), np.asarray(written.convert("RGB")))
    assert toy_cli(["toy", "source", "--out", str(out), "--seed", "8", "--set", "heart", "--overwrite"]) == 0  # ...unless told
    heart = toy.ExactManifold(size=32).fit().project([Image.open(out).convert("RGB")])[0].factors
    assert heart.arms >= 0.9 and not heart.ai


def test_the_selector_takes_the_first_frame_with_the_heart():
    path = toy.video_path(toy_eval.eval_source(0), num_frames=9, size=32)
    selection = toy.ToyFactorSelector()(path.frames[0], path.frames, PAPER_TARGET)
    poses = [f.arms for f in toy.frames_factors(path)]
    assert selection.index == next(i for i, a in enumerate(poses) if a >= 0.9)
    still = [path.frames[0]] * 9
    assert toy.ToyFactorSelector()(still[0], still, PAPER_TARGET).index == 0


def test_captions_are_read_as_a_bag_of_words():
    assert text.caption_motion(TemplateCaptioner()(None, PAPER_TARGET).text) == "raise"
    assert text.caption_motion("A happy person very slowly lowering their hands down to their sides") == "lower"
    assert text.caption_motion("A happy person standing still") == "still"
    assert not text.encode(None).any() and text.encode("HEART!")[text.VOCABULARY.index("heart")] == 1


def test_the_generator_refuses_what_it_cannot_make(editor):
    video, _ = editor
    with pytest.raises(F2FError):
        video(Image.new("RGB", (32, 32)), "x", num_frames=17)
    with pytest.raises(F2FError):
        toy.ToyVideoGenerator.from_pretrained("toy", canvas=(720, 480))


def test_f2f_edit_with_the_toy_preset_makes_a_real_toy_edit_offline(tmp_path, capsys):
    from f2f_lab.cli import main
    from f2f_lab.toy.fit import ExactManifold

    source = tmp_path / "person.png"
    toy.render(toy.sample_set("ai", np.random.default_rng(3)), 32).save(source)
    out = tmp_path / "run"
    # The CLI's entry point in this process (tests/test_cli.py runs the command as a subprocess).
    code = main(["edit", str(source), "A happy person making a heart shape with their hands", "--preset", "toy",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "TINY" not in err  # real (toy) models, not noise
    record = json.loads((out / "record.json").read_text())
    assert record["preset"]["name"] == "toy" and record["video"]["model"] == "toy"
    assert record["selection"]["selector"] == "toy" and record["selection"]["index"] > 0
    fit = ExactManifold(size=32).fit().project([Image.open(out / "edited.png").convert("RGB")])[0]
    assert fit.factors.arms >= 0.9 and fit.factors.ai  # the heart is made and the letters are kept


def test_the_demo_writes_a_real_toy_run_with_the_exact_path_beside_it(tmp_path, capsys):
    from f2f_lab.cli.toy import run_toy_demo
    from f2f_lab.toy.demo import ToyDemoResult

    out = run_toy_demo(tmp_path / "toy", seed=0)
    printed = capsys.readouterr().out
    assert "temporal caption" in printed and "exact_path.png" in printed
    assert all((out / name).is_file() for name in ToyDemoResult.files)
    record = json.loads((out / "record.json").read_text())
    assert record["preset"]["name"] == "toy" and record["video"]["model"] == "toy" and record["notice"] is None
    assert record["caption"]["captioner"] == "template" and "heart" in record["caption"]["text"]
    assert "exact_path.png" in record["files"] and record["toy_demo"]["exact_path"]["index"] == 8
    assert record["selection"]["index"] > 0  # the learned video makes the heart for seed 0
    # The strips: the source and the 8 made frames, each 128 px high, the kept one outlined in orange.
    for name in ("strip.png", "exact_path.png"):
        pixels = np.asarray(Image.open(out / name).convert("RGB"))
        assert pixels.shape[1] > 9 * 128 and np.all(pixels == (255, 140, 0), axis=-1).any(), name
    with pytest.raises(F2FError, match="--overwrite"):  # an earlier run is kept...
        run_toy_demo(out, seed=0)
    run_toy_demo(out, seed=1, overwrite=True)  # ...unless told: `make demo` passes --overwrite, so it reruns
    assert json.loads((out / "record.json").read_text())["toy_demo"]["source"]["seed"] == 1
