"""The frame-strip player and the best-of-seeds picker, driven the way a notebook drives them."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import f2f_lab as f2f
from f2f_lab.errors import F2FError
from f2f_lab.imaging import load_image
from f2f_lab.presets import TINY_NOTICE
from f2f_lab.bench.runner import load_choices, write_choices
from f2f_lab.samples import sample_tedbench
from f2f_lab.widgets import (CHOSEN_CSS, Banner, FramePlayer, RunPicker, SeedPicker, default_preset, example_grid,
                             grid)

TARGET = "A photo of a cat yawning."


@pytest.fixture(scope="module")
def results(tiny_editor, cat_path):
    return tiny_editor.edit_seeds(cat_path, TARGET, seeds=[0, 1])


@pytest.fixture
def result(results):
    return results[0]


def decoded(view) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(bytes(view.value))).convert("RGB"), dtype=np.float32)


def closest_frame(view, result) -> int:
    """Which frame an Image widget shows (frames differ; JPEG and resizing add small errors); 0 is the source."""
    frames = [result.source_output, *result.frames[1:]]
    shown = decoded(view)
    size = (shown.shape[1], shown.shape[0])
    errors = [np.abs(np.asarray(f.resize(size), dtype=np.float32) - shown).mean() for f in frames]
    return int(np.argmin(errors))


class RecordingScorer:
    """Stands in for metrics.Scorer: records what it was asked to score."""

    def __init__(self):
        self.calls = []

    def score(self, source, edited, text):
        self.calls.append((edited, text))
        return {"clip_score": float(len(self.calls))}


def test_player_opens_on_the_chosen_frame_with_play_linked_to_the_slider(result):
    player = f2f.show(result)
    assert isinstance(player, FramePlayer)
    assert player.slider.value == result.index and player.index == result.index
    assert closest_frame(player.frame_view, result) == result.index
    assert player.link.source == (player.play, "value") and player.link.target == (player.slider, "value")
    assert player.play.max == player.slider.max == len(result.frames) - 1
    assert f"frame {result.index}" in player.chosen_label.value
    assert player.use_button.disabled  # the shown frame is already the chosen one
    assert TINY_NOTICE in "".join(getattr(w, "value", "") for w in player.children if hasattr(w, "value"))


def test_moving_the_slider_shows_that_frame(result):
    player = f2f.show(result)
    for k in (0, 4, len(result.frames) // 2):
        player.slider.value = k
        assert closest_frame(player.frame_view, result) == k
        assert f"Frame {k}</b>" in player.frame_label.value
    assert not player.use_button.disabled


def test_strip_has_source_frame_tiles_and_last_with_the_chosen_one_marked(result):
    player = f2f.show(result)
    expected = sorted({0, *result.tile_indices, result.index, len(result.frames) - 1})
    assert sorted(player._thumbs) == expected
    marked = [k for k, box in player._thumbs.items() if CHOSEN_CSS in box.layout.border]
    assert marked == [result.index]
    player._thumbs[4].children[1].click()  # the number under a thumbnail jumps there
    assert player.slider.value == 4

    odd = next(k for k in range(1, len(result.frames)) if k not in expected)
    player.choose(odd)  # a frame chosen by hand joins the strip, marked
    assert odd in [k for k, box in player._thumbs.items() if box in player.strip.children]
    assert [k for k, box in player._thumbs.items() if CHOSEN_CSS in box.layout.border] == [odd]


def test_use_this_frame_switches_the_result_and_resaves_the_folder(result, tmp_path):
    player = f2f.show(result)
    folder = player.save(tmp_path / "run")
    player.slider.value = 4
    player.use_button.click()
    assert player.result.index == 4 and result.index != 4  # the original result is left alone
    assert "frame 4" in player.chosen_label.value and "by hand" in player.chosen_label.value
    record = json.loads((folder / "record.json").read_text())
    assert record["selection"]["index"] == 4 and record["selection"]["selector"] == "manual"
    saved = np.asarray(Image.open(folder / "edited.png"), dtype=np.float32)
    assert np.abs(saved - np.asarray(result.frames[4], dtype=np.float32)).mean() < 1.0
    assert "saved to" in player.status.value


def test_choosing_frame_zero_keeps_the_source(result):
    player = f2f.show(result)
    chosen = player.choose(0)
    assert chosen.index == 0 and chosen.image is result.source_output
    assert "the source itself" in player.chosen_label.value


def test_metrics_are_rescored_with_a_scorer_and_dropped_without_one(result):
    scorer = RecordingScorer()
    player = f2f.show(result, scorer=scorer)
    assert player.result.metrics == {"clip_score": 1.0} and "target CLIP (2.5&middot;max(cos,0))" in player.metrics_view.value
    player.choose(8)
    assert player.result.metrics == {"clip_score": 2.0}
    assert scorer.calls[-1][0] is result.frames[8] and scorer.calls[-1][1] == TARGET

    plain = f2f.show(player.result)
    plain.choose(4)
    assert plain.result.metrics is None and "dropped" in plain.metrics_view.value


def test_frames_travel_as_small_jpeg_bytes(result):
    player = f2f.show(result)
    images = [player.frame_view, player.source_view] + [box.children[0] for box in player._thumbs.values()]
    for view in images:
        data = bytes(view.value)
        assert view.format == "jpeg" and data[:2] == b"\xff\xd8"
        assert len(data) < 120_000
    thumb_bytes = sum(len(bytes(box.children[0].value)) for box in player._thumbs.values())
    assert thumb_bytes < 25_000 * len(player._thumbs)


def test_a_result_without_frames_is_refused(result):
    with pytest.raises(F2FError, match="no frames"):
        FramePlayer(type("Empty", (), {"frames": []})())


def test_picker_writes_the_choice_in_the_runners_format_and_keeps_other_tasks(results, tmp_path):
    choices = tmp_path / "choices.json"
    write_choices(choices, {"other_task": 7})
    picker = f2f.show(results, task_id="cat", choices_file=choices)
    assert isinstance(picker, SeedPicker) and not picker.decided and picker.result is None
    picker._buttons[1].click()
    assert picker.result is results[1]
    assert load_choices(choices) == {"cat": 1, "other_task": 7}  # what `f2f bench table --choices` reads
    again = SeedPicker(results, task_id="cat", choices_file=choices)  # a reopened notebook shows the pick
    assert again.picked == 1 and CHOSEN_CSS in again._cards[1].layout.border
    assert CHOSEN_CSS not in again._cards[0].layout.border
    again._buttons[None].click()  # no seed does the edit: keep the source (the paper's rule)
    assert again.decided and again.picked is None and again.result is None
    assert load_choices(choices) == {"cat": None, "other_task": 7}


def test_picker_refuses_what_it_cannot_record(results, tmp_path):
    with pytest.raises(F2FError, match="task id"):
        SeedPicker(results, choices_file=tmp_path / "p.json")
    with pytest.raises(F2FError, match="own seed"):
        SeedPicker([results[0], results[0]])
    with pytest.raises(F2FError, match="not among"):
        SeedPicker(results).pick(99)
    broken = tmp_path / "broken.json"
    broken.write_text("[1, 2")
    with pytest.raises(F2FError, match="not valid JSON"):
        SeedPicker(results, task_id="cat", choices_file=broken)


@pytest.fixture(scope="module")
def bench_run(tiny_editor, tmp_path_factory):
    """A tiny benchmark run over the sample TEdBench folder: 2 tasks x 2 seeds."""
    from f2f_lab.bench import runner, tedbench
    from f2f_lab.metrics import Scorer

    root = tmp_path_factory.mktemp("bench")
    tasks = tedbench.load(sample_tedbench(root / "tedbench", limit=2))
    out = root / "run"
    runner.run_benchmark(tasks, out, benchmark="tedbench", preset="tiny", seeds=[0, 1], editor=tiny_editor,
                         scorer=Scorer.from_preset("tiny"), light=False, progress=False)
    return out, tasks


def test_run_picker_choices_change_the_table(bench_run):
    from f2f_lab.bench.tables import METRIC_COLUMNS, build_table

    out, tasks = bench_run
    picker = RunPicker(out)
    assert [p.task_id for p in picker.pickers] == [t.id for t in tasks] and picker.choices == {}
    first = picker.pickers[0]
    assert first.results[0].target == tasks[0].target_text and first.results[0].source_output is not None
    first.pick(1)
    second = picker.pickers[1]
    second.pick(None)
    assert picker.choices == {tasks[0].id: 1, tasks[1].id: None}
    assert load_choices(out / "choices.json") == picker.choices
    table = build_table([out], choices=picker.choices)
    measured = [row for row in table.rows if row["Origin"].startswith("measured")]
    assert len(measured) == 1 and measured[0]["Pick rule"] == "manual + clip_under_lpips"
    assert measured[0]["Kept source"] == 1  # the null choice, counted as the paper counts a kept source
    # Computed here from the run's own files: seed 1's record for the first task, the kept source for the second.
    chosen = [read_json(out / tasks[0].id / "seed-1" / "record.json")["metrics"],
              read_json(out / tasks[1].id / "reference.json")["source_kept"]]
    for key, header in METRIC_COLUMNS["tedbench"]:
        assert measured[0][header] == pytest.approx((chosen[0][key] + chosen[1][key]) / 2), header


def read_json(path):
    return json.loads(path.read_text(encoding="utf-8"))


def fit_height(path, height):
    image = load_image(path)
    return image.resize((max(1, round(image.width * height / image.height)), height), Image.Resampling.LANCZOS)


def cell_error(board, row, x, expected, height):
    """Mean pixel error between `expected` and the cell of `display.grid` at (row, x): 24 px column header, 22 px row titles, gap 8."""
    y = 24 + row * (22 + height + 8) + 22
    cell = board.crop((x, y, x + expected.width, y + expected.height))
    return float(np.abs(np.asarray(cell, dtype=np.float32) - np.asarray(expected, dtype=np.float32)).mean())


def test_example_grid_shows_source_and_picked_edit_per_task(bench_run):
    from f2f_lab.bench.runner import pick_best

    out, tasks = bench_run
    height = 64
    picks = pick_best(out, choices={tasks[0].id: 1, tasks[1].id: None}, write=False)  # a seed, and "keep the source"
    board = example_grid(out, picks, height=height)
    sources = [fit_height(task.source, height) for task in tasks]
    edit_x = 8 + max(s.width for s in sources) + 8  # the second column starts after the widest source
    for row, (task, source, picked) in enumerate(zip(tasks, sources, ["seed 1", "source"])):
        assert cell_error(board, row, 8, source, height) < 2.0
        candidates = {"source": source, **{f"seed {s}": fit_height(out / task.id / f"seed-{s}" / "edited.png", height)
                                           for s in (0, 1)}}
        errors = {name: cell_error(board, row, edit_x, image, height) for name, image in candidates.items()}
        assert errors[picked] < 2.0 and min(errors, key=errors.get) == picked, (task.id, errors)
    with pytest.raises(F2FError):
        grid({})


def test_display_needs_no_ipywidgets():
    code = (
        "import sys\n"
        "sys.modules['ipywidgets'] = None  # any import of it now raises ImportError\n"
        "from PIL import Image\n"
        "from f2f_lab.display import grid, preset_banner\n"
        "from f2f_lab.presets import TINY_NOTICE\n"
        "assert grid({'row': [Image.new('RGB', (32, 32))]}, ['column'], height=32).height > 32\n"
        "assert TINY_NOTICE in preset_banner('tiny')._repr_html_()\n"
        "try:\n"
        "    import f2f_lab.widgets\n"
        "except ImportError:\n"
        "    print('widgets need ipywidgets')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "widgets need ipywidgets" in done.stdout  # the block held: only display imported


def test_sample_tedbench_has_the_public_layout(tmp_path):
    from f2f_lab.bench import tedbench

    tasks = tedbench.load(sample_tedbench(tmp_path / "t"))
    assert len(tasks) == 3 and all(t.source.is_file() for t in tasks)
    assert tasks[0].target_text == "A photo of a cat yawning."


def test_default_preset_follows_the_environment(monkeypatch):
    monkeypatch.setenv("F2F_PRESET", "tiny")
    assert default_preset() == "tiny"
    monkeypatch.delenv("F2F_PRESET")
    import torch

    assert default_preset() == ("paper" if torch.cuda.is_available() else "tiny")


def test_tiny_banner_says_outputs_are_noise():
    assert TINY_NOTICE in repr(Banner("tiny")) and TINY_NOTICE in Banner("tiny")._repr_html_()
    assert TINY_NOTICE not in repr(Banner("paper"))
