"""Benchmarks: TEdBench and PosEdit loaders, the resumable seed sweep, its split, Tables 1 and 2."""

import csv
import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image, ImageOps

from f2f_lab.bench import posedit, runner, tables, tedbench
from f2f_lab.bench.runner import ProcessSlot, plan_items, process_slot, run_benchmark, split_items
from f2f_lab.cli import main
from f2f_lab.editors import make_editor
from f2f_lab.errors import F2FError
from f2f_lab.metrics import Scorer
from utd_mhad import write_clip

REPO = Path(__file__).resolve().parent.parent
TINY_FAST = ["--frames", "9", "--steps", "2"]  # the tiny preset, shorter: 9 frames, 2 steps


@pytest.fixture(scope="module")
def scorer():
    """The tiny scorer as the CLI builds it (LPIPS at the paper's 512x512)."""
    return Scorer.from_preset("tiny")


@pytest.fixture(scope="module")
def small_scorer():
    """The tiny scorer at 64x64 LPIPS: the same code, a fraction of the CPU time, for plumbing tests."""
    return Scorer.from_preset("tiny", size=64)


@pytest.fixture(scope="module")
def fast_tiny_editor():
    return make_editor("f2f", "tiny", num_frames=9, num_inference_steps=2, progress=False)


@pytest.fixture
def tedbench_dir(tmp_path):
    """A folder in TEdBench's public layout: two images, three tasks."""
    root = tmp_path / "tedbench"
    (root / "originals").mkdir(parents=True)
    rng = np.random.default_rng(1)
    for name in ("dog.png", "cat.jpeg"):
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(root / "originals" / name)
    entries = [{"img_name": "dog.png", "target_text": "A photo of a sitting dog."},
               {"img_name": "cat.jpeg", "target_text": "A photo of a cat wearing a hat."},
               {"img_name": "dog.png", "target_text": "A photo of a jumping dog."}]
    (root / "input_list.json").write_text(json.dumps(entries))
    return root


class MirrorEditor:
    """A stand-in single-step editor (mirror, brighter with the seed): cheap, to test the runner's plumbing."""

    def __init__(self):
        self.calls = 0

    def edit(self, image, target, seed=0):
        self.calls += 1
        edited = ImageOps.mirror(image).point(lambda v: min(255, v + 20 * seed))
        return SimpleNamespace(image=edited, seed=seed, record={"method": "mirror"})


def interrupt_while_saving_item(patch, after: int) -> list[Path]:
    """Ctrl-C while the runner writes the record of item number `after` (from 0) into its hidden folder.

    By then the item is edited and scored and its hidden folder (`.seed-<s>.*.tmp`) holds the
    editor's files, so only the runner's cleanup keeps it or a half item from staying behind.
    Returns the partial folders seen at the interrupt.
    """
    real, count, seen = runner.write_json_atomic, [0], []

    def write(path, data):
        path = Path(path)
        if path.name == "record.json" and path.parent.name.startswith(".seed-") and path.parent.name.endswith(".tmp"):
            if count[0] == after:
                seen.append(path.parent)
                assert (path.parent / "edited.png").is_file()  # the item is half written right now
                raise KeyboardInterrupt
            count[0] += 1
        return real(path, data)

    patch.setattr(runner, "write_json_atomic", write)
    return seen


# -- data -----------------------------------------------------------------------------------


def test_tedbench_load_reads_the_public_layout(tedbench_dir):
    tasks = tedbench.load(tedbench_dir)
    assert [t.id for t in tasks] == ["000_dog", "001_cat", "002_dog"]
    assert tasks[1].source == tedbench_dir / "originals" / "cat.jpeg"
    assert tasks[2].target_text == "A photo of a jumping dog." and tasks[2].target_image is None


def test_tedbench_missing_image_is_named(tedbench_dir):
    (tedbench_dir / "originals" / "cat.jpeg").unlink()
    with pytest.raises(F2FError, match="cat.jpeg"):
        tedbench.load(tedbench_dir)
    with pytest.raises(F2FError, match="input_list.json"):
        tedbench.load(tedbench_dir / "originals")


def test_task_lists_shipped_in_data():
    captions = tedbench.target_captions()
    assert len(captions) == 100 and all(isinstance(c, str) and c.strip() for c in captions)
    assert "A photo of a cat yawning." in captions  # the paper's Figure S11 example is a TEdBench task
    categories = json.loads(posedit.CATEGORIES_FILE.read_text())
    assert len(categories) == 8 and len({c["utd_mhad_action"] for c in categories}) == 8
    texts = {c["target_text"] for c in categories}
    assert {"A person performing a squat.", "A person jogging.", "A person making a basketball shooting posture."} <= texts
    assert all(c["temporal_caption"].strip() for c in categories)


@pytest.fixture
def utd_mhad_dir(tmp_path):
    root = tmp_path / "UTD-MHAD" / "RGB"
    root.mkdir(parents=True)
    write_clip(root / "a27_s1_t2_color.avi", peak=4, person_x=40)  # squat, subject 1: trial 2 ...
    write_clip(root / "a27_s1_t1_color.avi", peak=5, person_x=40)  # ... and trial 1, the one to use
    write_clip(root / "a22_s2_t1_color.avi", peak=6, person_x=56)  # jogging, subject 2
    (root / "a5_s1_t1_color.avi").write_bytes(b"")  # an action PosEdit does not use: never read
    return root.parent


def test_posedit_build_picks_frames_as_documented(utd_mhad_dir, tmp_path):
    out = tmp_path / "posedit"
    tasks = posedit.build(utd_mhad_dir, out, progress=False)
    assert sorted(t.id for t in tasks) == ["jogging_s2", "squat_s1"]
    by_id = {t.id: t for t in tasks}
    squat, jog = by_id["squat_s1"], by_id["jogging_s2"]
    assert squat.meta["trial"] == 1 and squat.meta["video"] == "a27_s1_t1_color.avi"
    # source = frame 0; target = the frame farthest from it, the arm's peak
    assert (squat.meta["source_frame"], squat.meta["target_frame"]) == (0, 5)
    assert jog.meta["target_frame"] == 6 and jog.meta["num_frames"] == 14
    # square crop, video-high, around the motion (person + arm), inside the frame
    left, top, right, bottom = jog.meta["crop"]
    assert (right - left, bottom - top) == (64, 64) and 0 <= left and right <= 96 and left <= 56 - 5
    assert squat.target_text == "A person performing a squat." and squat.temporal_caption
    # the saved images are those frames, cropped and resized to 512
    frames = posedit.read_frames(utd_mhad_dir / "RGB" / "a27_s1_t1_color.avi")
    expected = Image.fromarray(frames[5]).crop(tuple(squat.meta["crop"])).resize((512, 512), Image.Resampling.LANCZOS)
    saved = Image.open(squat.target_image)
    assert saved.size == (512, 512)
    assert np.abs(np.asarray(saved, np.int16) - np.asarray(expected, np.int16)).mean() < 1.0
    loaded = posedit.load(out)
    assert [t.to_dict() for t in loaded] == [t.to_dict() for t in tasks]
    with pytest.raises(F2FError, match="already holds"):
        posedit.build(utd_mhad_dir, out, progress=False)


def test_posedit_errors_name_the_problem(tmp_path):
    with pytest.raises(F2FError, match="No UTD-MHAD RGB videos"):
        posedit.build(tmp_path, tmp_path / "out", progress=False)
    with pytest.raises(F2FError, match="tasks.json"):
        posedit.load(tmp_path)


# -- the sweep ------------------------------------------------------------------------------


def test_split_covers_every_item_exactly_once(tedbench_dir):
    items = plan_items(tedbench.load(tedbench_dir), range(5))
    assert len(items) == 15
    for count in (1, 2, 3, 4, 16):
        shares = [split_items(items, index, count) for index in range(count)]
        keys = [item.key for share in shares for item in share]
        assert sorted(keys) == sorted(item.key for item in items) and len(keys) == len(set(keys))
        assert max(map(len, shares)) - min(map(len, shares)) <= 1  # balanced
    assert process_slot() == ProcessSlot(0, 1, 0)  # one process without a launcher
    with pytest.raises(F2FError):
        split_items(items, 2, 2)


def test_process_slots_come_from_accelerate_under_torchrun(tmp_path):
    """Two processes started by torchrun each get their own slot from accelerate's PartialState."""
    import subprocess
    import sys

    script = tmp_path / "slot.py"
    script.write_text("from f2f_lab.bench.runner import process_slot\ns = process_slot()\n"
                      "print(f'SLOT {s.index} {s.count} {s.local_index}', flush=True)\n")
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29517",
                           str(script)], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    slots = sorted(re.findall(r"SLOT \d \d \d", done.stdout))  # the two processes' lines may interleave
    assert slots == ["SLOT 0 2 0", "SLOT 1 2 1"]


def test_interrupted_tiny_run_resumes_without_recomputing(tedbench_dir, tmp_path, fast_tiny_editor, scorer, capsys,
                                                          monkeypatch):
    out = tmp_path / "run"
    tasks = tedbench.load(tedbench_dir)
    with monkeypatch.context() as patch:
        interrupted = interrupt_while_saving_item(patch, after=2)  # the third item, 001_cat seed 0
        with pytest.raises(KeyboardInterrupt):
            run_benchmark(tasks, out, benchmark="tedbench", preset="tiny", seeds=[0, 1],
                          editor=fast_tiny_editor, scorer=scorer, slot=ProcessSlot(), progress=False)
    assert len(interrupted) == 1 and interrupted[0].parent == out / "001_cat" and interrupted[0].name.startswith(".seed-0.")
    done = sorted(p.parent.relative_to(out).as_posix() for p in out.glob("*/seed-*/record.json"))
    assert done == ["000_dog/seed-0", "000_dog/seed-1"]
    assert not [p for p in out.rglob("*") if ".partial" in p.name or p.name.endswith(".tmp")]  # nothing half-written
    assert not (out / "001_cat" / "seed-0").exists()  # and no half item
    first = {key: ((out / key / "record.json").stat().st_mtime_ns, (out / key / "record.json").read_text()) for key in done}
    # a folder that looks started but was never finished must not be trusted
    half = out / "002_dog" / "seed-1"
    half.mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(half / "edited.png")

    code = main(["bench", "tedbench", "--data", str(tedbench_dir), "--out", str(out), "--preset", "tiny",
                 "--seeds", "2", "--no-progress", "--light", *TINY_FAST])
    assert code == 0
    assert "4 items computed, 2 already done" in capsys.readouterr().out
    for key, (mtime, text) in first.items():  # finished items untouched
        assert (out / key / "record.json").stat().st_mtime_ns == mtime and (out / key / "record.json").read_text() == text
    records = runner.collect_records(out)
    assert {t: sorted(s) for t, s in records.items()} == {"000_dog": [0, 1], "001_cat": [0, 1], "002_dog": [0, 1]}
    rec = records["002_dog"][1]
    assert rec["bench"]["task_id"] == "002_dog" and rec["preset"]["name"] == "tiny"
    assert set(rec["metrics"]) >= {"source_lpips", "source_clip_i", "clip_score"}
    assert Image.open(out / "002_dog" / "seed-1" / "edited.png").size == (512, 512)
    assert (out / "000_dog" / "seed-0" / "video.mp4").is_file()  # the editor's full output ...
    assert sorted(p.name for p in (out / "002_dog" / "seed-1").iterdir()) == ["edited.png", "record.json"]  # ... or --light
    # seeds of one task share one temporal caption
    assert records["001_cat"][0]["caption"]["text"] == records["001_cat"][1]["caption"]["text"]

    # Table 1: the paper's rows, quoted, and ours, the mean of the picked seeds
    assert main(["bench", "table", str(out)]) == 0
    with open(out / "table.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    clip = "Target CLIP (2.5·max(cos,0)) ↑"  # the CLIPScore convention, the default, named in the header
    assert list(rows[0]) == ["Model", "Source LPIPS ↓", "Source CLIP-I ↑", clip, "Tasks", "Seeds", "Kept source", "Pick rule", "Origin"]
    assert json.loads((out / "run.json").read_text())["scorer"]["clip_score"] == "clipscore_w2.5"
    paper_f2f = next(r for r in rows if r["Model"] == "F2F" and r["Origin"].startswith("quoted from the paper"))
    assert (paper_f2f["Source LPIPS ↓"], paper_f2f["Source CLIP-I ↑"], paper_f2f[clip]) == ("0.22", "0.89", "0.63")
    assert len([r for r in rows if r["Origin"].startswith("quoted")]) == 6
    ours = next(r for r in rows if r["Origin"].startswith("measured"))
    assert "TINY" in ours["Origin"] and ours["Tasks"] == "3" and ours["Seeds"] == "2"
    # the documented default rule, applied by hand: keep the source when no seed beats its CLIP score; else the best
    # CLIP among the seeds that do with source LPIPS <= 0.4, else the lowest LPIPS of them
    picked, kept = [], 0
    for task_id, by_seed in records.items():
        source = json.loads((out / task_id / "reference.json").read_text())["source_kept"]
        improving = [m for m in (r["metrics"] for r in by_seed.values()) if m["clip_score"] > source["clip_score"]]
        faithful = [m for m in improving if m["source_lpips"] <= 0.4]
        kept += not improving
        picked.append(source if not improving else max(faithful, key=lambda m: m["clip_score"]) if faithful
                      else min(improving, key=lambda m: m["source_lpips"]))
    assert ours["Kept source"] == str(kept)
    for column, key in (("Source LPIPS ↓", "source_lpips"), ("Source CLIP-I ↑", "source_clip_i"), (clip, "clip_score")):
        assert float(ours[column]) == pytest.approx(np.mean([m[key] for m in picked]), abs=1e-4)
    assert (out / "table.md").read_text(encoding="utf-8").count("quoted from the paper (Table 1)") == 6


def test_two_processes_each_do_their_own_items(tedbench_dir, tmp_path, small_scorer):
    out, tasks, editor = tmp_path / "run", tedbench.load(tedbench_dir), MirrorEditor()
    common = dict(benchmark="tedbench", method="mirror", preset="tiny", seeds=[0, 1], editor=editor, scorer=small_scorer, progress=False)
    first = run_benchmark(tasks, out, slot=ProcessSlot(0, 2), **common)
    assert (first.process_items, first.computed, first.all_done) == (3, 3, False)
    second = run_benchmark(tasks, out, slot=ProcessSlot(1, 2), **common)
    assert (second.computed, second.all_done) == (3, True) and editor.calls == 6
    items = plan_items(tasks, [0, 1])
    records = runner.collect_records(out)
    for index in (0, 1):
        for item in split_items(items, index, 2):
            assert records[item.task.id][item.seed]["bench"]["process_index"] == index
    assert sum(len(s) for s in records.values()) == 6
    assert run_benchmark(tasks, out, slot=ProcessSlot(0, 1), **common).computed == 0 and editor.calls == 6


def test_best_of_seeds_rules_and_manual_choices(tedbench_dir, tmp_path, small_scorer):
    out, tasks = tmp_path / "run", tedbench.load(tedbench_dir)
    run_benchmark(tasks, out, benchmark="tedbench", method="mirror", preset="tiny", seeds=[0, 1, 2],
                  editor=MirrorEditor(), scorer=small_scorer, progress=False, slot=ProcessSlot())
    records = runner.collect_records(out)
    by_clip = runner.pick_best(out, "clip")["picks"]
    by_lpips = runner.pick_best(out, "lpips")["picks"]
    for task_id, by_seed in records.items():
        assert by_clip[task_id]["seed"] == max(by_seed, key=lambda s: by_seed[s]["metrics"]["clip_score"])
        assert by_lpips[task_id]["seed"] == min(by_seed, key=lambda s: by_seed[s]["metrics"]["source_lpips"])
    strict = runner.pick_best(out, lpips_bound=-1.0)["picks"]  # no seed is under the bound
    for task_id, by_seed in records.items():
        source = json.loads((out / task_id / "reference.json").read_text())["source_kept"]
        improving = [s for s in by_seed if by_seed[s]["metrics"]["clip_score"] > source["clip_score"]]
        expected = min(improving, key=lambda s: by_seed[s]["metrics"]["source_lpips"]) if improving else None
        assert strict[task_id]["seed"] == expected
        assert strict[task_id]["rule"] == ("fallback_lowest_lpips" if improving else "keep_source")

    choices = tmp_path / "choices.json"
    runner.write_choices(choices, {"000_dog": 2, "001_cat": None})
    picks = runner.pick_best(out, choices=choices)
    assert picks["picks"]["000_dog"] == {"seed": 2, "rule": "manual", "metrics": records["000_dog"][2]["metrics"]}
    kept = picks["picks"]["001_cat"]
    assert kept["seed"] is None and kept["metrics"]["source_lpips"] == pytest.approx(0.0, abs=1e-6)
    assert picks["picks"]["002_dog"] == runner.pick_best(out, write=False)["picks"]["002_dog"]  # unnamed: the rule's pick
    assert picks["picks"]["002_dog"]["rule"].startswith("clip_under_lpips") or picks["picks"]["002_dog"]["rule"] in (
        "keep_source", "fallback_lowest_lpips")
    assert json.loads((out / "picks.json").read_text())["picks"]["000_dog"]["rule"] == "manual"
    with pytest.raises(F2FError, match="no results"):
        runner.pick_best(out, choices={"999_nothing": 1})
    with pytest.raises(F2FError, match="seed 7"):
        runner.pick_best(out, choices={"000_dog": 7})
    (tmp_path / "bad.json").write_text('{"000_dog": "three"}')
    with pytest.raises(F2FError, match="seed"):
        runner.load_choices(tmp_path / "bad.json")
    with pytest.raises(F2FError, match="different run"):  # one folder never mixes presets or methods
        run_benchmark(tasks, out, benchmark="tedbench", method="other", preset="tiny", seeds=[0],
                      editor=MirrorEditor(), scorer=small_scorer, progress=False, slot=ProcessSlot())


class BrightnessScorer:
    """A stand-in scorer with known answers. CLIP score: the edit's mean brightness for "sitting" targets, its
    darkness otherwise; source LPIPS: the brightness gap. MirrorEditor's seed 0 keeps the brightness and later
    seeds add to it, so only the "sitting" task has seeds that beat the unedited source."""

    def config(self):
        return {"clip_score": "clipscore_w2.5", "clip_score_scale": 2.5, "stand_in": "brightness"}

    def score_batch(self, sources, edits, texts, targets=None):
        rows = []
        for source, edit, text in zip(sources, edits, texts):
            before, after = (np.asarray(im.convert("RGB"), dtype=np.float64).mean() / 255 for im in (source, edit))
            clip = after if "sitting" in text else 1 - after
            rows.append({"source_lpips": abs(after - before), "source_clip_i": 1 - abs(after - before),
                         "clip_score": clip, "clip_score_cosine": clip / 2.5})
        return rows

    def score(self, source, edited, text, target=None):
        return self.score_batch([source], [edited], [text])[0]


def test_best_of_seeds_keeps_the_source_when_no_seed_beats_it(tedbench_dir, tmp_path):
    out, tasks = tmp_path / "run", tedbench.load(tedbench_dir)
    run_benchmark(tasks, out, benchmark="tedbench", method="mirror", preset="tiny", seeds=[0, 1, 2],
                  editor=MirrorEditor(), scorer=BrightnessScorer(), progress=False, slot=ProcessSlot())
    records = runner.collect_records(out)
    source = {t.id: json.loads((out / t.id / "reference.json").read_text())["source_kept"] for t in tasks}
    picks = runner.pick_best(out)
    assert picks["picks"]["000_dog"]["seed"] == 2 and picks["picks"]["000_dog"]["rule"] == "clip_under_lpips(0.4)"
    for task_id in ("001_cat", "002_dog"):  # no seed's CLIP score exceeds the source's own: the source is kept
        assert picks["picks"][task_id] == {"seed": None, "rule": "keep_source", "metrics": source[task_id]}
    assert picks["kept_source"] == ["001_cat", "002_dog"]
    assert all(p["seed"] is not None for p in runner.pick_best(out, "clip", write=False)["picks"].values())

    # The table counts the kept sources, and its means use the source's metrics for them (as the paper counts).
    clip = "Target CLIP (2.5·max(cos,0)) ↑"
    table = tables.build_table([out])
    ours = next(r for r in table.rows if r["Model"] == "mirror")
    assert ours["Kept source"] == 2 and ours["Tasks"] == 3
    chosen = [records["000_dog"][2]["metrics"], source["001_cat"], source["002_dog"]]
    for key, header in (("source_lpips", "Source LPIPS ↓"), ("source_clip_i", "Source CLIP-I ↑"), ("clip_score", clip)):
        assert ours[header] == pytest.approx(np.mean([m[key] for m in chosen]))
    assert any("kept the source on 2 of 3 tasks (0 by hand, 2 by rule" in note for note in table.notes)
    assert "| 2 |" in table.to_markdown() and "Kept source" in table.to_csv().splitlines()[0]

    # A manual null reports exactly as the rule's keep-source does: seed None, the source's metrics, counted.
    manual = runner.pick_best(out, choices={"001_cat": None}, write=False)
    assert manual["picks"]["001_cat"] == {"seed": None, "rule": "manual: keep the source", "metrics": source["001_cat"]}
    assert manual["kept_source"] == picks["kept_source"]
    by_hand = next(r for r in tables.build_table([out], choices={"001_cat": None}).rows if r["Model"] == "mirror")
    assert by_hand["Kept source"] == 2 and by_hand[clip] == pytest.approx(ours[clip])

    # A raw-cosine run is labelled so, and one column never mixes conventions.
    raw = tmp_path / "raw"
    raw.mkdir()
    for path in out.rglob("*"):
        if path.is_file():
            (raw / path.relative_to(out)).parent.mkdir(parents=True, exist_ok=True)
            (raw / path.relative_to(out)).write_bytes(path.read_bytes())
    run = json.loads((raw / "run.json").read_text())
    run["scorer"] = {"clip_score": "raw_cosine", "clip_score_scale": 1.0}
    (raw / "run.json").write_text(json.dumps(run))
    assert "Target CLIP (cos) ↑" in tables.build_table([raw]).columns
    with pytest.raises(F2FError, match="score CLIP differently"):
        tables.build_table([out, raw])


def test_posedit_run_gives_table_2_with_target_metrics_and_gt_row(utd_mhad_dir, tmp_path, small_scorer):
    tasks = posedit.build(utd_mhad_dir, tmp_path / "posedit", progress=False)
    out = tmp_path / "run"
    run_benchmark(tasks, out, benchmark="posedit", method="mirror", preset="tiny", seeds=[0],
                  editor=MirrorEditor(), scorer=small_scorer, progress=False, slot=ProcessSlot())
    record = runner.collect_records(out)["squat_s1"][0]
    assert {"target_lpips", "target_clip_i"} <= set(record["metrics"])
    table = tables.build_table([out])
    clip = "Target CLIP (2.5·max(cos,0)) ↑"
    assert table.columns[:6] == ["Model", "Source LPIPS ↓", "Source CLIP-I ↑", "Target LPIPS ↓", "Target CLIP-I ↑", clip]
    gt_rows = [r for r in table.rows if r["Model"] == "GT (Reference)"]
    assert [r["Origin"].split(" (")[0] for r in gt_rows] == ["quoted from the paper", "measured here, TINY preset: noise, not a result"]
    assert gt_rows[1]["Target LPIPS ↓"] == pytest.approx(0.0, abs=1e-6) and gt_rows[1]["Target CLIP-I ↑"] == pytest.approx(1.0, abs=1e-5)
    paper_f2f = next(r for r in table.rows if r["Model"] == "F2F")
    assert (paper_f2f["Source LPIPS ↓"], paper_f2f["Target LPIPS ↓"], paper_f2f[clip]) == (0.14, 0.15, 0.64)
    ours = next(r for r in table.rows if r["Model"] == "mirror")
    picks = runner.pick_best(out, write=False)["picks"]  # one seed: it, or the source when it does not beat the source
    expected = [json.loads((out / t / "reference.json").read_text())["source_kept"] if picks[t]["seed"] is None else r[0]["metrics"]
                for t, r in runner.collect_records(out).items()]
    assert ours["Target LPIPS ↓"] == pytest.approx(np.mean([m["target_lpips"] for m in expected]))
    assert ours["Kept source"] == sum(p["seed"] is None for p in picks.values())
    csv_path, md_path = tables.write_table(table, out)
    assert "Table 2: PosEdit" in md_path.read_text(encoding="utf-8") and csv_path.is_file()


def test_malformed_task_lists_are_user_errors(tedbench_dir, tmp_path):
    (tedbench_dir / "input_list.json").write_text(json.dumps([{"img_name": "dog.png", "target_text": None}]))
    with pytest.raises(F2FError, match="needs 'img_name' and 'target_text'"):
        tedbench.load(tedbench_dir)
    root = tmp_path / "posedit"
    (root / "images").mkdir(parents=True)
    for bad in ({"id": 5}, {"target_text": None}):
        entry = {"id": "squat_s1", "source": "images/a.png", "target_image": "images/b.png", "target_text": "A squat.", **bad}
        (root / "tasks.json").write_text(json.dumps({"tasks": [entry]}))
        with pytest.raises(F2FError, match="Task 0 of"):
            posedit.load(root)


def test_a_changed_task_list_is_refused_not_resumed_with_stale_results(tedbench_dir, tmp_path, small_scorer):
    out = tmp_path / "run"
    run_benchmark(tedbench.load(tedbench_dir)[:1], out, benchmark="tedbench", method="mirror", preset="tiny", seeds=[0],
                  editor=MirrorEditor(), scorer=small_scorer, slot=ProcessSlot(), progress=False)
    entries = json.loads((tedbench_dir / "input_list.json").read_text())
    entries[0]["target_text"] = "A photo of a dog yawning."
    (tedbench_dir / "input_list.json").write_text(json.dumps(entries))
    editor = MirrorEditor()
    with pytest.raises(F2FError, match="task list changed"):
        run_benchmark(tedbench.load(tedbench_dir)[:1], out, benchmark="tedbench", method="mirror", preset="tiny", seeds=[0],
                      editor=editor, scorer=small_scorer, slot=ProcessSlot(), progress=False)
    assert editor.calls == 0


def test_zero_steps_is_a_user_error(tedbench_dir, tmp_path, capsys):
    assert main(["bench", "tedbench", "--data", str(tedbench_dir), "--out", str(tmp_path / "run"), "--preset", "tiny",
                 "--steps", "0", "--no-progress"]) == 2
    assert "--steps 0" in capsys.readouterr().err
