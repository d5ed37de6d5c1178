"""Baseline single-step editors: the common call, the CLI, seeds, geometry, and FlowEdit's algorithm."""

import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from f2f_lab.editors import METHODS, ImageEditResult, make_editor
from f2f_lab.editors.baselines import GENERIC_SOURCE_DESCRIPTION, FlowEditEditor, flowedit, source_description
from f2f_lab.errors import F2FError
from f2f_lab.imaging import to_canvas

BASELINES = ["sdedit", "ledits", "flowedit", "pix2pix-zero"]
TARGET = "A photo of a cat yawning."
SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # Tiny models gain nothing from threads; on a shared CPU, spinning threads only slow them down.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def editors():
    loaded = {}

    def get(method):
        if method not in loaded:
            loaded[method] = make_editor(method, preset="tiny", progress=False)
        return loaded[method]

    return get


# -- the common call ------------------------------------------------------------------------


@pytest.mark.parametrize("method", BASELINES)
def test_each_baseline_edits_through_the_common_call(editors, method, tmp_path):
    assert method in METHODS
    result = editors(method).edit(SAMPLES / "cat.jpg", TARGET, seed=0)
    assert isinstance(result, ImageEditResult) and result.method == method and result.seed == 0
    # Square sources come out at 512x512, like Frame2Frame's edits, and so does the source.
    assert result.image.size == result.source_output.size == (512, 512)
    record = result.record
    assert record["method"] == method and record["model"]["id"] == "tiny" and "TINY" in record["notice"]
    assert record["parameters"]["seed"] == 0 and record["inputs"]["target"] == TARGET
    assert "torch" in record["versions"] and record["timings"]

    folder = result.save(tmp_path / method)
    assert {p.name for p in folder.iterdir()} >= {"source.png", "edited.png", "record.json"}
    assert Image.open(folder / "edited.png").size == (512, 512)
    assert json.loads((folder / "record.json").read_text())["method"] == method
    with pytest.raises(F2FError, match="already holds a run"):
        result.save(folder)


@pytest.mark.parametrize("method", BASELINES)
def test_a_seed_reproduces_its_edit(editors, method):
    editor = editors(method)
    first = editor.edit(SAMPLES / "cat.jpg", TARGET, seed=3)
    again = editor.edit(SAMPLES / "cat.jpg", TARGET, seed=3)
    assert first.image.tobytes() == again.image.tobytes()


@pytest.mark.parametrize("method", ["sdedit", "ledits", "flowedit"])  # Pix2Pix-Zero's DDIM path is deterministic
def test_another_seed_gives_another_edit(editors, method):
    editor = editors(method)
    assert editor.edit(SAMPLES / "cat.jpg", TARGET, seed=0).image.tobytes() != \
        editor.edit(SAMPLES / "cat.jpg", TARGET, seed=1).image.tobytes()


def test_output_geometry_matches_frame2frame_for_other_aspect_ratios(editors):
    source = Image.open(SAMPLES / "coffee.jpg")  # 600x400
    result = editors("flowedit").edit(source, TARGET, seed=0)
    _, placement = to_canvas(source, (720, 480))  # the paper's canvas and crop-back
    assert result.image.size == result.source_output.size == placement.output_size(512)


def test_the_source_description_comes_from_the_target_and_is_recorded(editors):
    result = editors("pix2pix-zero").edit(SAMPLES / "cat.jpg", TARGET, seed=0)
    assert result.prompts["source_prompt"] == "A photo of a cat"
    given = editors("flowedit").edit(SAMPLES / "cat.jpg", TARGET, seed=0, source_prompt="A cat on a sofa")
    assert given.record["prompts"] == {"target": TARGET, "source_prompt": "A cat on a sofa", "rule": "given"}


def test_ledits_uses_the_target_as_its_edit_concept(editors):
    result = editors("ledits").edit(SAMPLES / "cat.jpg", TARGET, seed=0)
    assert result.prompts["edit_concepts"] == [TARGET] and result.prompts["source_prompt"] == ""


def test_ledits_refuses_images_too_thin_for_its_masks(editors):
    with pytest.raises(F2FError, match="aspect ratio is too extreme"):
        editors("ledits").edit(Image.new("RGB", (400, 40), (90, 120, 150)), TARGET)


def test_unknown_options_and_empty_targets_are_user_errors(editors):
    with pytest.raises(F2FError, match="sdedit editor has no option num_frames"):
        make_editor("sdedit", preset="tiny", num_frames=17)
    with pytest.raises(F2FError, match="target caption is empty"):
        editors("sdedit").edit(SAMPLES / "cat.jpg", "  ")


@pytest.mark.parametrize("target, subject", [
    ("A photo of a cat yawning.", "A photo of a cat"),
    ("A person is raising their hands", "A person"),
    ("A dog sitting in front of a building.", "A dog"),
    ("A building in the morning light", GENERIC_SOURCE_DESCRIPTION),  # -ing nouns are not actions
    ("A red car.", GENERIC_SOURCE_DESCRIPTION),
])
def test_source_description_keeps_the_subject_before_the_action(target, subject):
    assert source_description(target) == subject


# -- FlowEdit's algorithm -------------------------------------------------------------------


def point_mass_velocity(means):
    """The exact velocity of a rectified flow whose data is one point mu_c: V(z, t) = (z - mu_c) / t."""
    return lambda z, t, which: (z - means[which]) / t


@pytest.mark.parametrize("n_max, n_avg", [(1, 1), (5, 1), (8, 3)])
def test_flowedit_moves_a_point_mass_by_the_difference_of_the_means(n_max, n_avg):
    # With point-mass source and target distributions FlowEdit's ODE has a closed form: the
    # edit is x_src + (mu_tar - mu_src), whatever the noise, the step count and n_avg.
    generator = torch.Generator().manual_seed(0)
    x_src, mu_src, mu_tar = torch.randn(3, 2, 4, 4, generator=generator)
    sigmas = torch.linspace(1, 0, 9).tolist()
    edited = flowedit(point_mass_velocity({"source": mu_src, "target": mu_tar}), x_src, sigmas,
                      n_max=n_max, n_avg=n_avg, generator=generator)
    torch.testing.assert_close(edited, x_src + mu_tar - mu_src, atol=1e-5, rtol=1e-5)


def test_flowedit_final_sampling_steps_land_on_the_target():
    # The last n_min steps sample from the target alone: for a point mass they end on it.
    generator = torch.Generator().manual_seed(1)
    x_src, mu_src, mu_tar = torch.randn(3, 2, 4, 4, generator=generator)
    edited = flowedit(point_mass_velocity({"source": mu_src, "target": mu_tar}), x_src,
                      torch.linspace(1, 0, 9).tolist(), n_max=6, n_min=2, generator=generator)
    torch.testing.assert_close(edited, mu_tar, atol=1e-5, rtol=1e-5)


def test_flowedit_runs_only_the_last_n_max_steps():
    calls = []

    def velocity(z, t, which):
        calls.append((round(t, 6), which))
        return torch.zeros_like(z)

    sigmas = torch.linspace(1, 0, 11).tolist()
    flowedit(velocity, torch.zeros(1, 4), sigmas, n_max=4, n_min=1, n_avg=2)
    # 3 FlowEdit steps x 2 draws x (target, source), then 1 plain target step.
    assert len(calls) == 3 * 2 * 2 + 1
    assert sorted({t for t, _ in calls}, reverse=True) == [round(s, 6) for s in sigmas[6:10]]
    with pytest.raises(F2FError):
        flowedit(velocity, torch.zeros(1, 4), sigmas, n_max=11)


def test_flowedit_with_equal_prompts_returns_the_source_latents(editors):
    # Same text and guidance on both sides: z_tar = z_src at every step, the velocity
    # difference is zero, and the edit is the source itself (through the real tiny FLUX).
    editor: FlowEditEditor = editors("flowedit")
    image = Image.open(SAMPLES / "cat.jpg").convert("RGB").resize((64, 64))
    with torch.inference_mode():
        x_src = editor.encode_image(image)
        sigmas = editor.sigmas(4, x_src.shape[1])

        def edit(source_text, target_text):
            velocity = editor.velocity_field({"source": source_text, "target": target_text},
                                             {"source": 3.0, "target": 3.0}, image.size, 32)
            return flowedit(velocity, x_src, sigmas, n_max=3, generator=torch.Generator().manual_seed(0))

        same = edit(TARGET, TARGET)
        different = edit("A photo of a cat", TARGET)
    torch.testing.assert_close(same, x_src, atol=1e-5, rtol=1e-5)
    assert (different - x_src).abs().max() > 1e-3  # the identity is not vacuous: texts do move the image


# -- the CLI --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", BASELINES)
def test_each_baseline_runs_from_the_cli(method, tmp_path, capsys, one_torch_thread):
    from f2f_lab.cli import main

    # The CLI's entry point in this process (tests/test_cli.py runs the command as a subprocess).
    out = tmp_path / "run"
    code = main(["edit", str(SAMPLES / "cat.jpg"), TARGET, "--preset", "tiny", "--method", method, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "TINY PRESET" in captured.err and f"{method} -> {out}" in captured.out
    assert json.loads((out / "record.json").read_text())["method"] == method
    assert Image.open(out / "edited.png").size == (512, 512)


def test_frame2frame_options_are_refused_for_a_baseline(tmp_path, capsys):
    from f2f_lab.cli import main

    code = main(["edit", str(SAMPLES / "cat.jpg"), TARGET, "--preset", "tiny", "--method", "sdedit", "--frames", "9",
                 "--out", str(tmp_path / "run")])
    assert code == 2 and "--frames only apply to --method f2f" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
