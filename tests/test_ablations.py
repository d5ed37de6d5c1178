"""Ablation variants share the video model, share runs when they do the same thing, and tabulate."""

import json

import pytest

from f2f_lab import ablations
from f2f_lab.bench import tedbench
from f2f_lab.errors import F2FError
from f2f_lab.metrics import Scorer
from f2f_lab.samples import sample_tedbench


def test_variant_shares_the_video_model_and_changes_only_what_is_asked(tiny_editor):
    target = ablations.variant(tiny_editor, captioner="target")
    assert target.generator is tiny_editor.generator and target.selector is tiny_editor.selector
    assert target.preset.captioner == "target" and target.captioner.name == "target"
    shorter = ablations.variant(tiny_editor, num_frames=9)
    assert shorter.preset.num_frames == 9 and shorter.captioner is tiny_editor.captioner
    with pytest.raises(F2FError):
        ablations.variant(tiny_editor, num_frames=10)  # CogVideoX needs 8k+1 frames
    with pytest.raises(F2FError, match="shares the video model"):
        ablations.variant(tiny_editor, canvas=(64, 64))


def test_run_ablation_runs_each_distinct_variant_once_and_tabulates(tiny_editor, tmp_path):
    tasks = tedbench.load(sample_tedbench(tmp_path / "tedbench", limit=1))
    editor = ablations.variant(tiny_editor, selector="clip")  # the tiny preset's selector
    runs = ablations.run_ablation(
        editor, tasks, tmp_path / "out",
        {"Last Frame": {"selector": "last"}, "Selected Frame": {}, f"{editor.preset.num_frames} frames":
         {"num_frames": editor.preset.num_frames}, "9 frames": {"num_frames": 9}},
        seeds=[0], scorer=Scorer.from_preset("tiny"), progress=False,
    )
    assert runs["Selected Frame"] == runs[f"{editor.preset.num_frames} frames"] == tmp_path / "out" / "base"
    assert len(set(runs.values())) == 3
    last = json.loads(next((runs["Last Frame"]).glob("*/seed-0/record.json")).read_text())
    assert last["selection"]["selector"] == "last" and last["selection"]["index"] == editor.preset.num_frames - 1
    nine = json.loads(next((runs["9 frames"]).glob("*/seed-0/record.json")).read_text())
    assert nine["video"]["num_frames"] == 9
    base = json.loads(next((runs["Selected Frame"]).glob("*/seed-0/record.json")).read_text())
    assert base["selection"]["selector"] == "clip"

    table = ablations.ablation_table({k: runs[k] for k in ("Last Frame", "Selected Frame")}, ablations.PAPER_TABLE_S5)
    models = [row["Model"] for row in table.rows]
    assert models == ["Last Frame", "Selected Frame", "Last Frame", "Selected Frame"]
    assert table.rows[0]["Origin"] == "quoted from the paper" and "TINY" in table.rows[2]["Origin"]
    clip = "Target CLIP (2.5·max(cos,0)) ↑"  # labelled as Table 1 labels it: the CLIPScore convention
    assert table.columns[:4] == ["Model", "Source LPIPS ↓", "Source CLIP-I ↑", clip] and table.rows[1][clip] == 0.63
    timed = ablations.ablation_table({"9 frames": runs["9 frames"]}, timing=True)
    assert timed.rows[0]["Frames"] == 9 and timed.rows[0]["Video s/item"] > 0


def test_the_video_model_axis_runs_each_backend_on_the_same_tasks_and_seeds(tmp_path):
    tasks = tedbench.load(sample_tedbench(tmp_path / "tedbench", limit=1))
    runs = ablations.run_video_models(tasks, tmp_path / "models", ["cogvideox", "ltx"], preset="tiny", seeds=[0],
                                      scorer=Scorer.from_preset("tiny"), progress=False, num_inference_steps=2)
    assert list(runs) == ["cogvideox", "ltx"]
    records = {key: json.loads(next(folder.glob("*/seed-0/record.json")).read_text()) for key, folder in runs.items()}
    assert {key: r["video"]["backend"] for key, r in records.items()} == {"cogvideox": "cogvideox", "ltx": "ltx"}
    assert len({r["inputs"]["image_sha256"] for r in records.values()}) == 1  # the same task
    assert records["cogvideox"]["caption"]["text"] == records["ltx"]["caption"]["text"]
    assert records["ltx"]["video"]["num_frames"] == 9 and records["cogvideox"]["video"]["num_frames"] == 17
    table = ablations.ablation_table(runs)
    assert [row["Model"] for row in table.rows] == ["cogvideox", "ltx"]
    assert all("TINY" in row["Origin"] for row in table.rows)
