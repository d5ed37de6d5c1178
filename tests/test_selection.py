"""Frame selection: the paper's C.1 request and collage, parsing, retry, fallbacks, and the CLIP selector."""

import numpy as np
import pytest
import torch
from PIL import Image

from f2f_lab.errors import F2FError
from f2f_lab.imaging import collage
from f2f_lab.selection import (
    C1_INSTRUCTION, ChoiceError, ClipSelector, LastFrameSelector, VLMSelector, c1_instruction, choose_by_clip,
    make_selector, parse_choice, tile_frames,
)
from openai_server import error, openai_server, stall
from f2f_lab.vlm import VLMClient

# Appendix C.1 of arXiv 2411.16819, copied from the paper.
PAPER_C1 = (
    "The image displays the source photo at the top, with a collage of 12 edited versions beneath it. The target "
    "edit image caption was: “CAPTION”. Your task is to choose the image from 1 to 12 that best follows this edit "
    "fully and naturally. If none of the images follows the edit, select image 0. If multiple images follow the "
    "edit equally, prioritize the one with the lowest number possible. Avoid selecting images that appear to follow "
    "the edit but are not edits of the original image. Additionally, avoid images where camera motion, zoom, or "
    "image quality differs significantly, or where the content does not appear stable relative to the original "
    "source. Respond with: “The selected edit is:x” where x is the number of your chosen edit."
)
TARGET = "A photo of a cat yawning."
TINY_CLIP = {"model_name": "tiny", "pretrained": None, "device": None}


def frame_colour(i):
    return (5 * i, 250 - 5 * i, (37 * i) % 256)


@pytest.fixture
def frames():
    """49 flat frames, each with its own colour, so a tile tells which frame it shows."""
    return [Image.new("RGB", (96, 64), frame_colour(i)) for i in range(49)]


@pytest.fixture
def source():
    return Image.new("RGB", (96, 64), (0, 0, 255))


def vlm_selector(server, **options):
    return VLMSelector(base_url=server.base_url, max_retries=0, **{"fallback": "last", **options})


# --- which frames are shown ---------------------------------------------------------------

def test_the_paper_shows_frames_4_to_48_as_tiles_1_to_12():
    assert tile_frames(49) == [4 * k for k in range(1, 13)]
    assert tile_frames(17, 4) == [4, 8, 12, 16]
    assert tile_frames(33, 4) == [8, 16, 24, 32]
    assert tile_frames(1) == []


@pytest.mark.parametrize("num_frames", [49, 81, 121])
def test_twelve_tiles_are_evenly_spaced_and_end_at_the_last_frame(num_frames):
    tiles = tile_frames(num_frames)
    assert len(tiles) == len(set(tiles)) == 12
    assert tiles[-1] == num_frames - 1
    step = (num_frames - 1) / 12
    assert all(abs(frame - k * step) <= 0.5 for k, frame in enumerate(tiles, 1))
    gaps = {b - a for a, b in zip([0] + tiles, tiles)}
    assert max(gaps) - min(gaps) <= 1


def test_the_tile_frames_of_81_and_121_frames():
    assert tile_frames(121) == [10 * k for k in range(1, 13)]
    # 80/12 = 6.67 frames apart, rounded half up
    assert tile_frames(81) == [7, 13, 20, 27, 33, 40, 47, 53, 60, 67, 73, 80]


def test_a_video_shorter_than_twelve_tiles_shows_each_frame():
    assert tile_frames(9) == list(range(1, 9))


def test_instruction_is_the_papers_with_the_target_in_place_of_caption():
    assert C1_INSTRUCTION == PAPER_C1
    assert c1_instruction(TARGET) == PAPER_C1.replace("CAPTION", TARGET)
    four = c1_instruction(TARGET, 4)
    assert "collage of 4 edited versions" in four and "from 1 to 4 " in four and "12" not in four


# --- parsing -------------------------------------------------------------------------------

@pytest.mark.parametrize("answer, choice", [
    ("The selected edit is:5", 5),
    ("The selected edit is: 5", 5),
    ("the selected edit is 5.", 5),
    ("The selected edit is:  7 .", 7),
    ("**The selected edit is:** 7", 7),
    ("**The selected edit is**: 7", 7),
    ("The selected edit is: **3**.", 3),
    ("“The selected edit is:0”", 0),
    ("The selected edit is: image 11", 11),
    ("The selected edit is: #6", 6),
    ("The Selected Edit Is : [3]", 3),
    ("The selected edit is:\n12", 12),
    ("Tiles 4 and 6 both show it.\nThe selected edit is:4\nIt is the earliest.", 4),
    ("The selected edit is:2. On reflection, the selected edit is: 9", 9),  # the last statement wins
    ("8", 8),
    ("**8**.", 8),
])
def test_choices_are_read_however_they_are_decorated(answer, choice):
    assert parse_choice(answer, 12) == choice


@pytest.mark.parametrize("answer, n", [
    ("", 12),
    ("I like image 5 best.", 12),
    ("The selected edit is:x", 12),
    ("The selected edit is: 13", 12),
    ("The selected edit is: -1", 12),
    ("The selected edit is: 5", 4),
    ("The selected edit is: 5.5", 12),
])
def test_no_choice_or_one_out_of_range_raises(answer, n):
    with pytest.raises(ChoiceError):
        parse_choice(answer, n)


# --- the request and the mapping of tiles to frames ---------------------------------------

@pytest.mark.parametrize("tile", [1, 5, 12])
def test_tile_k_is_frame_4k_and_the_collage_shows_it(source, frames, tile):
    with openai_server(f"The selected edit is: {tile}") as server:
        selection = vlm_selector(server)(source, frames, TARGET)
    assert (selection.index, selection.tile, selection.selector) == (4 * tile, tile, "vlm")

    (request,) = server.requests
    assert request.model == "gpt-4o"
    assert request.roles == ["user"]
    assert request.texts() == [PAPER_C1.replace("CAPTION", TARGET)]
    (board,) = request.images()
    expected = collage(source, [frames[i] for i in tile_frames(49)], tile_size=256)
    assert board.size == expected.size
    # the middle of tile k (below its number) is the colour of frame 4k
    row, col = divmod(tile - 1, 4)
    top = 256 + 2 * 8  # the 96x64 source contained in 384x384 is 384x256; tiles start two gaps below it
    thumb_h = 256 * 64 // 96  # a 96x64 frame contained in a 256x256 tile
    x = 8 + col * (256 + 8) + 128
    y = top + row * (256 + 8) + (256 - thumb_h) // 2 + thumb_h * 3 // 4
    pixel = np.asarray(board.convert("RGB"))[y, x].astype(int)
    nearest = min(range(49), key=lambda i: np.abs(pixel - frame_colour(i)).sum())
    assert nearest == 4 * tile


def test_zero_keeps_the_source(source, frames):
    with openai_server("The selected edit is:0") as server:
        selection = vlm_selector(server)(source, frames, TARGET)
    assert (selection.index, selection.tile) == (0, 0)


def test_shorter_videos_show_fewer_tiles_and_say_so(source, frames):
    with openai_server("The selected edit is: 4") as server:
        selection = vlm_selector(server)(source, frames[:17], TARGET, tiles=tile_frames(17, 4))
    assert (selection.index, selection.tile) == (16, 4)
    text = server.requests[0].texts()[0]
    assert "collage of 4 edited versions" in text and "from 1 to 4" in text
    assert "12 -> 4" in selection.record["instruction"]


# --- retry and fallbacks ------------------------------------------------------------------

def test_an_unusable_answer_gets_one_retry_with_a_reminder(source, frames):
    with openai_server("I think the third one looks best.", "The selected edit is: 3") as server:
        selection = vlm_selector(server)(source, frames, TARGET)
    assert (selection.index, selection.tile, selection.selector) == (12, 3, "vlm")
    assert selection.record["retried"] is True and selection.record["fallback"] is None
    first, retry = server.requests
    assert retry.roles == ["user", "assistant", "user"]
    assert retry.messages[:1] == first.messages  # the same request, collage included
    assert retry.messages[1]["content"] == "I think the third one looks best."
    reminder = retry.texts(2)[0]
    assert "The selected edit is:x" in reminder and "0 to 12" in reminder


def test_an_out_of_range_answer_is_retried_too(source, frames):
    with openai_server("The selected edit is: 13", "The selected edit is: 0") as server:
        selection = vlm_selector(server)(source, frames, TARGET)
    assert (selection.index, selection.tile) == (0, 0)
    assert "outside 0..12" in server.requests[1].texts(2)[0]


def test_garbage_twice_falls_back_and_the_record_says_so(source, frames):
    with openai_server("no idea", "still no idea") as server:
        with pytest.warns(UserWarning, match="fell back"):
            selection = vlm_selector(server)(source, frames, TARGET)
    assert len(server.requests) == 2  # exactly one retry
    assert (selection.index, selection.selector) == (48, "last")
    assert selection.record["fallback"]["selector"] == "last"
    assert "after one retry" in selection.record["fallback"]["reason"]
    assert selection.record["answers"] == ["no idea", "still no idea"]


def test_an_http_500_falls_back(source, frames):
    with openai_server(error(500, "GPU on fire")) as server:
        with pytest.warns(UserWarning):
            selection = vlm_selector(server)(source, frames, TARGET)
    assert len(server.requests) == 1
    assert selection.selector == "last" and "HTTP 500" in selection.record["fallback"]["reason"]


def test_a_timeout_falls_back(source, frames):
    with openai_server(stall(10.0, "The selected edit is: 1")) as server:
        selector = VLMSelector(base_url=server.base_url, timeout=0.3, max_retries=0, fallback="last")
        with pytest.warns(UserWarning):
            selection = selector(source, frames, TARGET)
    assert selection.index == 48 and "did not answer" in selection.record["fallback"]["reason"]


def test_the_default_fallback_is_the_clip_selector(source, frames):
    with openai_server(error(500)) as server:
        selector = make_selector("vlm", base_url=server.base_url, max_retries=0, clip=TINY_CLIP)
        with pytest.warns(UserWarning):
            selection = selector(source, frames, TARGET)
    assert selection.selector == "clip"
    fallback = selection.record["fallback"]
    assert fallback["selector"] == "clip" and len(fallback["edit_scores"]) == 12 and fallback["note"] is None


def test_when_clip_cannot_load_the_fallback_is_the_last_frame(source, frames):
    with openai_server(error(500)) as server:
        selector = VLMSelector(base_url=server.base_url, max_retries=0, clip_options={"model_name": "no-such-clip"})
        with pytest.warns(UserWarning):
            selection = selector(source, frames, TARGET)
    assert selection.index == 48 and "CLIP unavailable" in selection.record["fallback"]["note"]


# --- the CLIP selector --------------------------------------------------------------------

@pytest.mark.parametrize("edit, keep, source_edit, margin, floor, tile", [
    ([0.20, 0.21, 0.22], [0.9, 0.9, 0.9], 0.25, 0.01, 0.75, 0),   # nothing beats the source: keep it
    ([0.26, 0.30, 0.31], [0.9, 0.9, 0.9], 0.25, 0.01, 0.75, 2),   # earliest within 0.01 of the best
    ([0.26, 0.30, 0.31], [0.9, 0.9, 0.9], 0.25, 0.10, 0.75, 1),   # a wider margin takes an earlier frame
    ([0.26, 0.30, 0.31], [0.9, 0.9, 0.9], 0.25, 0.00, 0.75, 3),   # no margin: the best
    ([0.26, 0.30, 0.40], [0.9, 0.9, 0.5], 0.25, 0.01, 0.75, 2),   # the best drifted from the source
    ([0.30, 0.30, 0.30], [0.7, 0.7, 0.7], 0.25, 0.01, 0.75, 0),   # all drifted: keep the source
    ([0.31, 0.26, 0.31], [0.9, 0.9, 0.9], 0.25, 0.00, 0.75, 1),   # ties go to the earliest
])
def test_clip_rule(edit, keep, source_edit, margin, floor, tile):
    assert choose_by_clip(edit, keep, source_edit, margin=margin, source_floor=floor) == tile


class ColourEncoder:
    """A stand-in for CLIP whose embedding is an image's mean colour: "red" is (1, 0, 0)."""

    words = {"red": [1.0, 0.0, 0.0], "green": [0.0, 1.0, 0.0], "blue": [0.0, 0.0, 1.0]}

    def encode_images(self, images):
        means = torch.from_numpy(np.stack([np.asarray(im, dtype=np.float32).mean(axis=(0, 1)) + 1.0 for im in images]))
        return torch.nn.functional.normalize(means, dim=-1)

    def encode_texts(self, texts):
        return torch.tensor([self.words[t] for t in texts])


@pytest.fixture
def blue_to_red():
    """Frames turning from blue to red by frame 24, then red to the end."""
    def mix(i):
        t = min(i / 24, 1.0)
        return (round(255 * t), 0, round(255 * (1 - t)))
    return [Image.new("RGB", (32, 32), mix(i)) for i in range(49)]


def test_clip_selector_picks_the_first_frame_that_completes_the_edit(blue_to_red):
    selector = ClipSelector(encoder=ColourEncoder(), margin=1e-6, source_floor=0.0)
    selection = selector(blue_to_red[0], blue_to_red, "red")
    assert (selection.index, selection.tile, selection.selector) == (24, 6, "clip")
    assert selection.record["tiles"] == tile_frames(49)


def test_clip_selector_keeps_the_source_when_nothing_moves_toward_the_target(blue_to_red):
    # the source is pure blue: every later frame is less blue than the source itself
    selection = ClipSelector(encoder=ColourEncoder(), source_floor=0.0)(blue_to_red[0], blue_to_red, "blue")
    assert (selection.index, selection.tile) == (0, 0)


def test_clip_selector_floor_rejects_frames_that_left_the_source(blue_to_red):
    # red is far from the blue source: with a high floor only the early, still bluish frames qualify
    selection = ClipSelector(encoder=ColourEncoder(), margin=1e-6, source_floor=0.9)(blue_to_red[0], blue_to_red, "red")
    scores = ClipSelector(encoder=ColourEncoder()).scores(blue_to_red[0], blue_to_red, "red")
    assert 0 < selection.index < 24
    assert scores["source_scores"][selection.tile - 1] >= 0.9 > scores["source_scores"][selection.tile]


# Scores for 12 tiles against a source whose own edit score is 0.22 (margin 0.01, floor 0.75):
# tile 1 does not beat the source; tile 2 has the best edit score but left the source (CLIP-I
# 0.70); tile 5 is the best candidate (0.315); tile 3 (0.300) is more than the margin below it,
# tile 4 (0.307) within it: tile 4, frame 16, is the earliest frame that completes the edit.
FIXED_SCORES = {
    "edit_scores": [0.20, 0.35, 0.300, 0.307, 0.315, 0.31, 0.25, 0.24, 0.23, 0.21, 0.20, 0.19],
    "source_scores": [0.95, 0.70, 0.90, 0.88, 0.86, 0.85, 0.84, 0.83, 0.82, 0.81, 0.80, 0.79],
    "source_edit_score": 0.22,
}


def test_clip_rule_on_fixed_scores_picks_the_earliest_tile_within_the_margin():
    rule = dict(edit_scores=FIXED_SCORES["edit_scores"], source_scores=FIXED_SCORES["source_scores"],
                source_edit_score=FIXED_SCORES["source_edit_score"])
    assert choose_by_clip(**rule) == 4
    assert choose_by_clip(**rule, margin=0.0) == 5  # no margin: the best candidate itself
    assert choose_by_clip(**rule, source_floor=0.0) == 2  # no floor: the frame that left the source wins
    assert choose_by_clip(**{**rule, "source_edit_score": 0.40}) == 0  # nothing beats the source: keep it


def test_clip_selector_with_tiny_clip_works_offline(source, frames, monkeypatch):
    selector = make_selector("clip", clip=TINY_CLIP)  # the random-weight CLIP, loaded without the hub
    scores = selector.scores(source, frames, TARGET)
    assert scores["tiles"] == tile_frames(49)
    assert len(scores["edit_scores"]) == len(scores["source_scores"]) == 12
    assert all(-1.0 <= x <= 1.0 for x in scores["edit_scores"] + scores["source_scores"])
    # What the selector makes of scores is stated here, not recomputed through its own rule.
    monkeypatch.setattr(selector, "scores", lambda *args, **kwargs: {"tiles": scores["tiles"], **FIXED_SCORES})
    selection = selector(source, frames, TARGET)
    assert (selection.tile, selection.index, selection.selector) == (4, 16, "clip")
    assert selection.record["edit_scores"] == FIXED_SCORES["edit_scores"] and selection.record["tiles"] == scores["tiles"]


def test_make_selector(source):
    assert isinstance(make_selector("last", clip=TINY_CLIP), LastFrameSelector)
    with pytest.raises(F2FError, match="takes no options"):
        make_selector("last", tile_size=128)
    with openai_server() as server:
        selector = make_selector("vlm", base_url=server.base_url, model="m", tile_size=128)
        assert isinstance(selector, VLMSelector) and selector.client.model == "m" and selector.tile_size == 128
        shared = VLMClient("m", base_url=server.base_url)
        assert make_selector("vlm", client=shared).client is shared
    with pytest.raises(F2FError, match="Unknown selector"):
        make_selector("best")
    with pytest.raises(F2FError, match="Could not load CLIP"):
        make_selector("clip", clip={"model_name": "no-such-clip"})


# --- through the pipeline -----------------------------------------------------------------

def test_pipeline_with_both_vlm_stages_and_zero_returns_the_source(cat_path):
    from f2f_lab import Frame2Frame

    with openai_server("The cat slowly yawns.", "The selected edit is:0") as server:
        editor = Frame2Frame.from_preset(
            "tiny", captioner="vlm", selector="vlm", progress=False, num_frames=9, num_inference_steps=1,
            vlm_options={"base_url": server.base_url, "max_retries": 0},
        )
        result = editor.edit(cat_path, TARGET)
    assert result.caption == "The cat slowly yawns."
    assert result.index == 0 and result.image is result.source_output
    assert result.record["selection"]["tile"] == 0 and result.record["selection"]["selector"] == "vlm"
    assert len(server.requests) == 2
