"""Appendix H (f2f_lab.generalization): the paper's prompts and captions, and a tiny run end to end."""

import json

import pytest

from f2f_lab import generalization as gh

# The paper's text (appendix H), pinned here word for word: the seeds file lies outside the
# repository, so a clean clone has no copy of it to read.
PAPER_LOCATIONS = [
    "colorful amusement park", "sandy beach", "magical fairy tale forest", "futuristic cityscape", "old library",
    "snowy mountain peak", "bustling train station", "quaint village square",
]
PAPER_TEMPLATES = ["A small brown teddy bear sitting in LOCATION.", "A tennis ball lies in LOCATION."]
PAPER_TEMPORAL_CAPTIONS = [
    "The teddy bear slowly rips, revealing stuffing coming out.",
    "The tennis ball gradually transforms into a ripe red tomato.",
]


def test_locations_templates_and_captions_are_the_papers_verbatim():
    assert list(gh.LOCATIONS) == PAPER_LOCATIONS
    assert list(gh.TEMPLATES.values()) == PAPER_TEMPLATES
    assert list(gh.TEMPORAL_CAPTIONS.values()) == PAPER_TEMPORAL_CAPTIONS
    assert set(gh.TARGETS) == set(gh.TEMPLATES) == set(gh.TEMPORAL_CAPTIONS)


def test_eight_locations_times_two_templates_make_sixteen_prompts():
    prompts = gh.appendix_h_prompts()
    assert len(prompts) == 16 == len({p for _, _, p in prompts})
    assert prompts[0] == ("teddy_bear", "colorful amusement park", "A small brown teddy bear sitting in colorful amusement park.")
    assert prompts[-1] == ("tennis_ball", "quaint village square", "A tennis ball lies in quaint village square.")
    assert {(o, loc) for o, loc, _ in prompts} == {(o, loc) for o in gh.OBJECTS for loc in PAPER_LOCATIONS}
    assert gh.appendix_h_prompts(2) == [p for p in prompts if p[1] in PAPER_LOCATIONS[:2]]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from f2f_lab.pipeline import Frame2Frame

    root = tmp_path_factory.mktemp("appendix_h")
    backgrounds = gh.generate_backgrounds(root / "bg", model="tiny", n_locations=2, progress=False)
    editor = Frame2Frame.from_preset("tiny", captioner="template", selector="last", progress=False)
    rows = gh.run_appendix_h(editor, backgrounds, root / "edits", seeds=(0,), progress=False)
    return root, backgrounds, editor, rows


def test_tiny_backgrounds_are_the_prompts_images_with_their_records(tiny_run):
    root, backgrounds, _, _ = tiny_run
    assert [(b.object, b.location, b.prompt) for b in backgrounds] == gh.appendix_h_prompts(2)
    seeds = set()
    for b in backgrounds:
        record = json.loads(b.path.with_suffix(".json").read_text())
        assert b.path.is_file() and record["prompt"] == b.prompt and record["model"] == "tiny"
        seeds.add(record["seed"])
    assert len(seeds) == 4
    assert gh.load_backgrounds(root / "bg") == backgrounds


def test_tiny_run_edits_every_background_with_the_papers_temporal_caption(tiny_run):
    root, backgrounds, _, rows = tiny_run
    assert len(rows) == 4
    for b, row in zip(backgrounds, rows):
        folder = root / "edits" / b.object / gh.slug(b.location) / "seed-0"
        assert row["folder"] == folder and (folder / "edited.png").is_file()
        record = json.loads((folder / "record.json").read_text())
        assert record["caption"]["text"] == gh.TEMPORAL_CAPTIONS[b.object] == row["caption"]
        assert record["caption"]["captioner"] == "given"  # no captioner ran
        assert record["inputs"]["target"] == gh.TARGETS[b.object]  # ours, for the selector and metrics
        assert row["frame"] == record["selection"]["index"]
    grid = gh.appendix_h_grid(root / "edits")
    assert grid.size == gh.appendix_h_grid(rows, height=128).size
    assert grid.height > 4 * 128  # two objects, each a row of sources above a row of edits


def test_a_rerun_makes_nothing_new(tiny_run, monkeypatch):
    from f2f_lab.manifold import sets

    root, backgrounds, editor, rows = tiny_run
    stamps = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}

    def refuse(*args, **kwargs):
        raise AssertionError("nothing should be computed again")

    monkeypatch.setattr(sets, "_load_flux", refuse)
    monkeypatch.setattr(editor, "edit", refuse)
    assert gh.generate_backgrounds(root / "bg", model="tiny", n_locations=2, progress=False) == backgrounds
    assert gh.run_appendix_h(editor, root / "bg", root / "edits", progress=False) == rows
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()} == stamps


def test_backgrounds_made_with_other_settings_are_refused(tiny_run):
    from f2f_lab.errors import F2FError

    root = tiny_run[0]
    with pytest.raises(F2FError, match="seed"):
        gh.generate_backgrounds(root / "bg", model="tiny", n_locations=1, seed=5, progress=False)
