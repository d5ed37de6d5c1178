"""IF-Edit's Self-Consistent Post-Refinement (`Preset.refine`): the sharpness score, the late-frame rule, the pipeline."""

import json

import numpy as np
import pytest
from PIL import Image, ImageFilter

from f2f_lab import Frame2Frame
from f2f_lab.errors import F2FError
from f2f_lab.presets import get_preset
from f2f_lab.refine import (STILL_PROMPT, SHARPNESS_MEASURE, default_num_frames, laplacian_sharpness,
                            sharpest_late_frame)
from f2f_lab.results import REFINED_FILES, RUN_FILES
from f2f_lab.selection import Selection

TARGET = "A photo of a cat yawning."
FAST = {"num_frames": 9, "num_inference_steps": 1}


def noise(seed: int, size=(64, 48)) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def blurred(image: Image.Image, radius: float) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius))


# -- the score and the late-frame rule ----------------------------------------------------------


def test_sharpness_orders_sharp_above_blurred_and_is_zero_when_flat():
    sharp = noise(0)
    assert laplacian_sharpness(sharp) > laplacian_sharpness(blurred(sharp, 1)) > laplacian_sharpness(blurred(sharp, 3))
    assert laplacian_sharpness(Image.new("RGB", (64, 48), (120, 30, 200))) == pytest.approx(0.0, abs=1e-9)
    # On 0..255 grayscale: a one-pixel checkerboard of 0/255 has Laplacian +-1020 everywhere, variance 1020^2.
    checker = Image.fromarray(((np.indices((16, 16)).sum(0) % 2) * 255).astype(np.uint8))
    assert laplacian_sharpness(checker) == pytest.approx(1020.0 ** 2)


def test_sharpest_late_frame_picks_the_sharpest_late_frame_and_ignores_a_sharper_early_one():
    base = noise(1)
    frames = [blurred(base, 4) for _ in range(12)]
    frames[2] = base  # sharper than any late frame, but early
    frames[10] = blurred(base, 1)
    frames[9] = blurred(base, 2)
    assert sharpest_late_frame(frames) == 10  # default: the last quarter, at least 4 frames (8..11)
    assert sharpest_late_frame(frames, late=12) == 2  # all frames but the source: the early one wins
    assert sharpest_late_frame(frames, late=1) == 11


def test_sharpest_late_frame_breaks_ties_toward_the_earliest_late_frame():
    frames = [noise(0)] + [noise(2)] * 16  # frame 0 (the source) is sharp too, but never a late candidate
    assert sharpest_late_frame(frames) == 12  # a 17-frame video: its last ceil(17/4) = 5 frames, 12..16; ties to 12
    frames = [noise(0)] + [noise(2)] * 48
    assert sharpest_late_frame(frames) == 49 - 13  # a 49-frame video: its last 13 frames (ceil(49/4))


def test_the_still_video_has_the_fewest_frames_the_model_runs_as_published():
    from types import SimpleNamespace

    from f2f_lab.video.backends import get_backend

    assert default_num_frames(SimpleNamespace(backend=get_backend("cogvideox"))) == 9  # 8k+1
    assert default_num_frames(SimpleNamespace(backend=SimpleNamespace(frame_multiple=4))) == 5  # Wan: 4k+1
    assert default_num_frames(object()) == 9  # no backend data (the toy model makes 9)
    learned = SimpleNamespace(transformer=SimpleNamespace(config={"use_learned_positional_embeddings": True, "sample_frames": 49}))
    assert default_num_frames(SimpleNamespace(backend=get_backend("cogvideox"), pipe=learned)) == 49  # CogVideoX-5B I2V


def test_defaults_are_off_in_the_paper_preset_and_a_wrong_mode_fails_before_loading():
    assert get_preset("paper").refine is None and get_preset("tiny").refine is None
    assert STILL_PROMPT.startswith("A perfectly still video with enhanced clarity")
    with pytest.raises(F2FError, match="refine mode"):
        Frame2Frame.from_preset("tiny", refine="blurry", generator=object())


# -- in the pipeline -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def portrait(cat_path, tmp_path_factory):
    """A 2:3 source, letterboxed on the tiny 3:2 canvas: the crop back has to find it again."""
    path = tmp_path_factory.mktemp("src") / "portrait.png"
    Image.open(cat_path).convert("RGB").crop((50, 0, 250, 300)).save(path)
    return path


@pytest.fixture(scope="module")
def refined(tiny_editor, portrait):
    editor = Frame2Frame.from_preset("tiny", selector="last", captioner="template", refine="sharpest",
                                     generator=tiny_editor.generator, progress=False)
    return editor.edit(portrait, TARGET, seed=0, **FAST)


def test_a_refined_edit_is_the_refined_image_at_the_output_geometry(refined, tiny_editor, portrait):
    plain = tiny_editor.edit(portrait, TARGET, seed=0, **FAST)
    assert plain.refined is None and "refine" not in plain.record
    assert refined.refined is not None and refined.image is refined.refined
    width, height = refined.image.size
    assert refined.image.size == plain.image.size and height == 512  # 512 on the longer side
    assert abs(width - 512 * 2 / 3) <= 512 / 64  # the source's 2:3, up to one pixel of the 64-high tiny canvas
    assert refined.index == plain.index == 8  # the selector's choice is unchanged ("last")
    np.testing.assert_array_equal(np.asarray(refined.frames[8]), np.asarray(plain.frames[8]))  # same video, same seed
    assert not np.array_equal(np.asarray(refined.image), np.asarray(plain.image))


def test_a_refined_edit_records_the_frame_it_refined_and_the_still_run(refined, tiny_editor):
    record = refined.record["refine"]
    late = [laplacian_sharpness(refined.frames[i]) for i in range(5, 9)]  # 9 frames: the last 4
    assert record["mode"] == "sharpest" and record["refined"] is True
    assert record["index"] == refined.refined_from == 5 + int(np.argmax(late))
    assert record["sharpness_measure"] == SHARPNESS_MEASURE == "variance of the 3x3 Laplacian (grayscale)"
    frame = record["frame"]
    assert frame["prompt"] == STILL_PROMPT and frame["num_frames"] == default_num_frames(tiny_editor.generator) == 17  # its learned embedding's count
    assert frame["num_inference_steps"] == 1 and len(frame["sharpness"]) == 17
    assert frame["sharpness_after"] == max(frame["sharpness"]) == pytest.approx(laplacian_sharpness(refined.image))
    assert frame["sharpness_before"] == pytest.approx(laplacian_sharpness(refined.frames[refined.refined_from]))
    assert refined.timings["refine"] == frame["seconds"] > 0


def test_save_writes_refined_and_chosen_and_with_index_drops_the_refinement(refined, tmp_path):
    out = refined.save(tmp_path / "run")
    assert sorted(p.name for p in out.iterdir()) == sorted(RUN_FILES + REFINED_FILES)
    assert np.array_equal(np.asarray(Image.open(out / "refined.png")), np.asarray(Image.open(out / "edited.png")))
    assert np.array_equal(np.asarray(Image.open(out / "chosen.png")), np.asarray(refined.frames[refined.refined_from]))
    assert json.loads((out / "record.json").read_text())["refine"]["index"] == refined.refined_from

    manual = refined.with_index(3)
    assert manual.refined is None and manual.refined_from is None and manual.image is manual.frames[3]
    assert manual.record["refine"]["dropped"] is True and "frame 3" in manual.record["refine"]["reason"]
    assert refined.refined is not None  # the original keeps its refinement
    manual.save(out, overwrite=True)  # no refined.png of the earlier run stays
    assert sorted(p.name for p in out.iterdir()) == sorted(RUN_FILES)

    (out / "notes.txt").write_text("mine")  # a folder with other files: the files are moved in one by one
    refined.save(out, overwrite=True)
    manual.save(out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == sorted([*RUN_FILES, "notes.txt"])


class KeepSource:
    """A selector that finds no frame doing the edit (index 0), as the paper's VLM may answer."""

    def __call__(self, source, frames, target, *, tiles=None):
        return Selection(index=0, selector="keep-source")


def test_refine_selected_does_not_refine_the_source_and_says_why(tiny_editor, cat_path):
    editor = Frame2Frame.from_preset("tiny", selector=KeepSource(), captioner="template", refine="selected",
                                     generator=tiny_editor.generator, progress=False)
    result = editor.edit(cat_path, TARGET, seed=0, **FAST)
    assert result.index == 0 and result.refined is None and result.image is result.source_output
    record = result.record["refine"]
    assert record["mode"] == "selected" and record["refined"] is False and "kept the source" in record["reason"]
    assert "refine" not in result.timings


def test_refine_selected_refines_the_selectors_frame(tiny_editor, cat_path):
    editor = Frame2Frame.from_preset("tiny", selector="last", captioner="template", refine="selected",
                                     generator=tiny_editor.generator, progress=False)
    result = editor.edit(cat_path, TARGET, seed=0, **FAST)
    assert result.refined_from == result.index == 8 == result.record["refine"]["index"]
    assert result.image.size == (512, 512)


def test_the_player_shows_the_chosen_frame_and_the_refined_image(refined):
    from f2f_lab.widgets import FramePlayer

    player = FramePlayer(refined)
    labels = " ".join(w.value for w in player.refinement.children[1].children[0].children[:1]
                      + player.refinement.children[1].children[1].children[:1])
    assert f"Frame {refined.refined_from}" in labels and "Refined" in labels
    assert player.refinement in player.children[-4].children  # beside the frame view
    player.choose(3)  # a frame chosen by hand drops the refinement, and the pair goes
    assert player.result.refined is None and player.refinement.children == ()


def test_cli_edit_with_refine_writes_the_refined_run(cat_path, tmp_path):
    from f2f_lab.cli import main

    out = tmp_path / "run"
    code = main(["edit", str(cat_path), TARGET, "--preset", "tiny", "--frames", "9", "--steps", "1", "--selector", "last",
                 "--refine", "sharpest", "--out", str(out)])
    assert code == 0
    assert all((out / name).exists() for name in RUN_FILES + REFINED_FILES)
    record = json.loads((out / "record.json").read_text())
    assert record["refine"]["mode"] == "sharpest" and record["preset"]["refine"] == "sharpest"
    assert Image.open(out / "edited.png").size == (512, 512)


def test_refine_is_a_frame2frame_option_only():
    from f2f_lab.cli import build_parser
    from f2f_lab.cli.options import editor_options, resolve_preset

    args = build_parser().parse_args(["edit", "x.png", TARGET, "--preset", "tiny", "--refine", "selected"])
    resolve_preset(args)
    assert editor_options(args)["refine"] == "selected"
    args = build_parser().parse_args(["edit", "x.png", TARGET, "--preset", "tiny", "--method", "sdedit", "--refine", "selected"])
    resolve_preset(args)
    with pytest.raises(F2FError, match="--refine only apply to --method f2f"):
        editor_options(args)
