"""`f2f compare` and `f2f_lab.compare.compare`: every method on one photo, one grid, one table, one page,
methods loaded one at a time, finished methods read back instead of recomputed."""

import csv
import gc
import json
import weakref
from pathlib import Path

import pytest
import torch
from PIL import Image

from f2f_lab import compare as compare_module
from f2f_lab import editors
from f2f_lab.cli import main
from f2f_lab.compare import COMPARE_FILES, DEFAULT_COMPARE_METHODS, compare, summarize
from f2f_lab.errors import F2FError
from f2f_lab.metrics import Scorer

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
CAT = SAMPLES / "cat.jpg"
TARGET = "A photo of a cat yawning."
ALL = ["f2f", "chronoedit", "kontext", "qwen-edit", "ledits"]
CHEAP = ["chronoedit", "kontext"]  # the quickest tiny editors, for the plumbing tests


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def small_scorer():
    """The tiny scorer at 64x64 LPIPS: the same code as the CLI's, a fraction of the CPU time."""
    return Scorer.from_preset("tiny", size=64)


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """The issue's command, once: every method on the cat, in tiny mode."""
    out = tmp_path_factory.mktemp("compare") / "cmp"
    code = main(["compare", str(CAT), TARGET, "--preset", "tiny", "--methods", ",".join(ALL), "--out", str(out),
                 "--no-progress"])
    assert code == 0
    return out


def read_rows(out: Path) -> list[dict]:
    with open(out / "metrics.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_default_methods_are_the_issues():
    assert list(DEFAULT_COMPARE_METHODS) == ALL


def test_compare_from_the_cli_writes_the_grid_the_table_and_the_page(cli_run):
    out = cli_run
    for name in COMPARE_FILES:
        assert (out / name).is_file(), name
    for method in ALL:  # each method's own run folder, complete
        record = json.loads((out / method / "record.json").read_text())
        assert record["metrics"] and record["inputs"]["target"] == TARGET and (out / method / "edited.png").is_file()
    assert (out / "f2f" / "video.mp4").is_file()  # Frame2Frame's folder is its usual run folder

    rows = read_rows(out)
    assert [r["method"] for r in rows] == ALL
    assert {r["method"]: r["in_paper"] for r in rows} == {m: str(m not in ("chronoedit", "kontext", "qwen-edit")) for m in ALL}
    for row in rows:
        assert 0 <= float(row["source_lpips"]) and -1 <= float(row["source_clip_i"]) <= 1 and float(row["clip_score"]) >= 0
    assert {r["method"]: r["prompt_kind"] for r in rows}["kontext"] == "instruction (template)"
    assert rows[0]["prompt_kind"].startswith("temporal caption")

    grid = Image.open(out / "grid.png")
    assert grid.height >= 256 and grid.width >= 6 * 256  # the source and five edits side by side, each 256 px high
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'src="grid.png"' in page and 'href="metrics.csv"' in page and "TINY PRESET" in page
    assert "no numbers in the paper" in page
    for method in ALL:
        assert f'href="{method}/record.json"' in page
    assert json.loads((out / "compare.json").read_text())["methods"] == ALL


def test_the_tables_numbers_are_the_benchmarks_scorer_on_the_saved_edits(cli_run):
    scorer = Scorer.from_preset("tiny")  # what the CLI scores with (as `f2f bench` does)
    row = next(r for r in read_rows(cli_run) if r["method"] == "qwen-edit")
    again = scorer.score(Image.open(CAT), Image.open(cli_run / "qwen-edit" / "edited.png"), TARGET)
    for key in ("source_lpips", "source_clip_i", "clip_score"):
        assert float(row[key]) == pytest.approx(again[key], abs=1e-5)


def test_a_rerun_reads_every_finished_method_back(cli_run, capsys):
    stamps = {m: (cli_run / m / "record.json").stat().st_mtime_ns for m in ALL}
    code = main(["compare", str(CAT), TARGET, "--preset", "tiny", "--methods", ",".join(ALL), "--out", str(cli_run),
                 "--no-progress"])
    assert code == 0
    assert f"read back from the earlier run, not recomputed: {', '.join(ALL)}" in capsys.readouterr().out
    assert {m: (cli_run / m / "record.json").stat().st_mtime_ns for m in ALL} == stamps
    assert {r["method"]: r["reused"] for r in read_rows(cli_run)} == {m: "True" for m in ALL}


def test_a_new_method_is_added_and_a_different_comparison_refused(tmp_path, small_scorer):
    out = tmp_path / "cmp"
    first = compare(CAT, TARGET, ["kontext"], preset="tiny", out=out, scorer=small_scorer, progress=False)
    stamp = (out / "kontext" / "record.json").stat().st_mtime_ns
    second = compare(CAT, TARGET, CHEAP, preset="tiny", out=out, scorer=small_scorer, progress=False)
    assert [first.runs["kontext"].reused, second.runs["kontext"].reused, second.runs["chronoedit"].reused] == [False, True, False]
    assert (out / "kontext" / "record.json").stat().st_mtime_ns == stamp
    assert second.runs["kontext"].image.tobytes() == first.runs["kontext"].image.tobytes()
    assert [r["method"] for r in read_rows(out)] == CHEAP

    with pytest.raises(F2FError, match="different caption"):
        compare(CAT, "A photo of a cat sleeping.", CHEAP, preset="tiny", out=out, scorer=small_scorer, progress=False)
    with pytest.raises(F2FError, match="different seed"):
        compare(CAT, TARGET, CHEAP, preset="tiny", seed=1, out=out, scorer=small_scorer, progress=False)
    redone = compare(CAT, TARGET, CHEAP, preset="tiny", seed=1, out=out, scorer=small_scorer, progress=False, overwrite=True)
    assert not any(run.reused for run in redone.runs.values())
    assert json.loads((out / "kontext" / "record.json").read_text())["parameters"]["seed"] == 1


def test_methods_load_one_at_a_time(tmp_path, small_scorer, monkeypatch):
    alive_when_built = []
    built = []
    real = editors.make_editor

    def tracked(method, preset, **options):
        gc.collect()
        alive_when_built.append([ref() is not None for ref in built])
        editor = real(method, preset, **options)
        built.append(weakref.ref(editor))
        return editor

    monkeypatch.setattr(compare_module, "make_editor", tracked)  # observes the real factory; every editor is real
    result = compare(CAT, TARGET, ["kontext", "chronoedit", "kontext"], preset="tiny", out=tmp_path / "cmp",
                     scorer=small_scorer, progress=False)
    assert list(result.runs) == CHEAP[::-1]  # a repeated method runs once
    assert alive_when_built == [[], [False]]  # the first editor was gone before the second loaded
    gc.collect()
    assert [ref() is None for ref in built] == [True, True]  # and none outlives the comparison


def test_the_notebook_view_shows_the_notice_the_grid_and_every_row(tmp_path, small_scorer):
    result = compare(CAT, TARGET, CHEAP, preset="tiny", out=tmp_path / "cmp", scorer=small_scorer, progress=False,
                     method_options={"chronoedit": {"temporal_reasoning": True}})
    html = result._repr_html_()
    assert "TINY PRESET" in html and 'src="data:image/png;base64,' in html
    assert "ChronoEdit *" in html and "FLUX.1 Kontext [dev] *" in html and "not in the paper" in html
    assert result.runs["chronoedit"].record["parameters"]["temporal_reasoning"] is True  # per-method options reach it
    assert "| ChronoEdit |" in result.to_markdown()

    other = compare(SAMPLES / "coffee.jpg", "A photo of a cup of tea.", CHEAP[::-1], preset="tiny", out=tmp_path / "tea",
                    scorer=small_scorer, progress=False)
    summary = summarize([result, other])  # the notebook's last cell: means over a few tasks
    assert [row["method"] for row in summary.rows] == CHEAP and {row["tasks"] for row in summary.rows} == {2}
    for row in summary.rows:
        values = [r.runs[row["method"]].metrics["source_lpips"] for r in (result, other)]
        assert row["source_lpips"] == pytest.approx(sum(values) / 2)
    assert "| ChronoEdit * | 2 |" in summary._repr_markdown_() and "no published numbers" in summary.to_markdown()


def test_bad_input_is_refused_before_any_model_loads(tmp_path, capsys):
    out = tmp_path / "cmp"
    with pytest.raises(F2FError, match="Unknown method sd-edit"):
        compare(CAT, TARGET, ["kontext", "sd-edit"], preset="tiny", out=out)
    with pytest.raises(F2FError, match="target caption is empty"):
        compare(CAT, " ", CHEAP, preset="tiny", out=out)
    with pytest.raises(F2FError, match="not among the methods"):
        compare(CAT, TARGET, ["kontext"], preset="tiny", out=out, method_options={"ledits": {}})
    with pytest.raises(F2FError, match="Unknown instruction mode"):
        compare(CAT, TARGET, CHEAP, preset="tiny", out=out, instruction="gpt")
    assert main(["compare", str(tmp_path / "missing.jpg"), TARGET, "--preset", "tiny", "--out", str(out)]) == 2
    assert "f2f: error:" in capsys.readouterr().err
    assert not out.exists()
