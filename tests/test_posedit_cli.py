"""`f2f bench posedit` as a user runs it: the missing rebuild, the rebuild from UTD-MHAD, captions, bad numbers."""

import json

import pytest

from f2f_lab.bench import posedit
from f2f_lab.cli import main
from openai_server import openai_server
from utd_mhad import write_clip

TINY = ["--preset", "tiny", "--frames", "9", "--steps", "1", "--light", "--no-progress"]
TINY_RUN = [*TINY, "--seeds", "1"]


@pytest.fixture
def utd_mhad(tmp_path):
    """UTD-MHAD's RGB layout, tiny: a squat (action 27) of subject 1 in trials 1 and 2, jogging (22) of subject 2 in trial 1."""
    root = tmp_path / "UTD-MHAD" / "RGB"
    root.mkdir(parents=True)
    write_clip(root / "a27_s1_t1_color.avi", peak=5, person_x=40, frames=10)
    write_clip(root / "a27_s1_t2_color.avi", peak=3, person_x=40, frames=10)
    write_clip(root / "a22_s2_t1_color.avi", peak=4, person_x=56, frames=10)
    return root.parent


def error_lines(err: str) -> list[str]:
    assert "Traceback" not in err
    return [line for line in err.splitlines() if "error" in line]


def test_a_missing_rebuild_says_how_to_make_it(tmp_path, capsys):
    data = tmp_path / "posedit"
    assert main(["bench", "posedit", "--data", str(data), "--out", str(tmp_path / "run"), *TINY_RUN]) == 2
    errors = error_lines(capsys.readouterr().err)
    assert len(errors) == 1 and f"No PosEdit rebuild at '{data}'" in errors[0] and "--utd-mhad" in errors[0]
    assert not data.exists() and not (tmp_path / "run").exists()


def test_rebuild_from_utd_mhad_with_a_trial_then_run_with_the_category_captions(utd_mhad, tmp_path, capsys):
    data, out = tmp_path / "posedit", tmp_path / "run"
    assert main(["bench", "posedit", "--data", str(data), "--utd-mhad", str(utd_mhad), "--trial", "2",
                 "--out", str(out), *TINY_RUN]) == 0
    assert "posedit: 1 items computed, 0 already done" in capsys.readouterr().out
    # the rebuild: trial 2 only, so jogging (trial 1 only) is left out; the squat's peak of trial 2 is frame 3
    tasks = posedit.load(data)
    assert [t.id for t in tasks] == ["squat_s1"]
    meta = tasks[0].meta
    assert (meta["trial"], meta["video"], meta["source_frame"], meta["target_frame"]) == (2, "a27_s1_t2_color.avi", 0, 3)
    assert tasks[0].source.is_file() and tasks[0].target_image.is_file()
    # the run: the category's own temporal caption, the ground truth's metrics in every record
    squat = next(c for c in posedit.categories() if c.name == "squat")
    caption = json.loads((out / "squat_s1" / "caption.json").read_text())
    assert (caption["text"], caption["captioner"]) == (squat.temporal_caption, "task")
    record = json.loads((out / "squat_s1" / "seed-0" / "record.json").read_text())
    assert record["caption"]["text"] == squat.temporal_caption and record["bench"]["target_text"] == squat.target_text
    assert {"target_lpips", "target_clip_i", "source_lpips", "clip_score"} <= set(record["metrics"])
    run = json.loads((out / "run.json").read_text())
    assert run["benchmark"] == "posedit" and run["task_captions"] is True and run["seeds"] == [0]


def test_without_a_trial_the_lowest_on_disk_is_used_and_vlm_captions_ask_the_captioner(utd_mhad, tmp_path, capsys):
    data, out = tmp_path / "posedit", tmp_path / "run"
    answer = "The person very slowly bends their knees into a deep squat."
    with openai_server(answer) as server:
        code = main(["bench", "posedit", "--data", str(data), "--utd-mhad", str(utd_mhad), "--vlm-captions",
                     "--captioner", "vlm", "--vlm-base-url", server.base_url, "--limit", "1", "--out", str(out),
                     *TINY_RUN])
    assert code == 0, capsys.readouterr().err
    by_id = {t.id: t for t in posedit.load(data)}
    assert sorted(by_id) == ["jogging_s2", "squat_s1"] and by_id["squat_s1"].meta["trial"] == 1
    assert by_id["squat_s1"].meta["target_frame"] == 5
    # --limit 1: the first task only; its caption came from the VLM, not from the category
    (task_dir,) = [p for p in out.iterdir() if p.is_dir()]
    caption = json.loads((task_dir / "caption.json").read_text())
    assert (caption["text"], caption["captioner"]) == (answer, "vlm")
    assert len(server.requests) == 1 and server.requests[0].images()  # one caption request, with the source
    assert json.loads((out / "run.json").read_text())["task_captions"] is False


@pytest.mark.parametrize("args, fragment", [
    (["--seeds", "0"], "--seeds and --limit must be at least 1"),
    (["--limit", "0"], "--seeds and --limit must be at least 1"),
])
def test_zero_seeds_or_tasks_are_refused(utd_mhad, tmp_path, capsys, args, fragment):
    data, out = tmp_path / "posedit", tmp_path / "run"
    posedit.build(utd_mhad, data, progress=False)
    assert main(["bench", "posedit", "--data", str(data), "--out", str(out), *TINY, *args]) == 2
    errors = error_lines(capsys.readouterr().err)
    assert len(errors) == 1 and fragment in errors[0]
    assert not out.exists()  # refused before any work


@pytest.mark.parametrize("method, expected", [
    ("pix2pix-zero", "A person standing naturally with his arms relaxed at his sides."),  # Sec. 5.3, verbatim
    ("flowedit", "A person standing naturally with his arms relaxed at his sides."),
    ("sdedit", None),
])
def test_posedit_baselines_get_the_papers_fixed_source_description(utd_mhad, tmp_path, method, expected):
    data, out = tmp_path / "posedit", tmp_path / "run"
    argv = ["bench", "posedit", "--data", str(data), "--utd-mhad", str(utd_mhad), "--trial", "2", "--out", str(out),
            "--method", method, "--preset", "tiny", "--light", "--no-progress", "--seeds", "1"]
    assert main(argv) == 0
    record = json.loads((out / "squat_s1" / "seed-0" / "record.json").read_text())
    assert record["prompts"].get("source_prompt") == expected
    run = json.loads((out / "run.json").read_text())
    assert run["editor_options"].get("source_prompt") == expected
