"""Temporal captions: the paper's B.1 conversation with in-context examples, answer cleaning, the examples file."""

import json
import re

import pytest
from PIL import Image

from f2f_lab.captions import (
    B1_INSTRUCTION, ICLExample, VLMCaptioner, b1_instruction, clean_caption, load_icl_examples,
    make_captioner,
)
from f2f_lab.errors import F2FError
from f2f_lab.resources import data_path
from openai_server import Reply, openai_server

DATA = data_path()  # data/ (f2f_lab/data in a wheel), the bundled data

# Appendix B.1 of arXiv 2411.16819, copied from the paper.
PAPER_B1 = (
    "Write a one-sentence description of a short video that begins with the provided image and smoothly "
    "transitions into a scene of a “CAPTION”, highlighting how elements in the image undergo changes or movement "
    "over time. Keep the description simple, concise and short, focusing only on essential changes and actions "
    "without altering unnecessary details. Avoid mentioning elements that do not contribute to the main change "
    "needed, and focus the description on the main transitions. Do not add objects that are not in the original "
    "image or described in the final scene. The camera should remain static unless movement is absolutely "
    "necessary. Ensure all transitions happen within a few second duration without mentioning the length or "
    "using the word “video”."
)

FIGURE_S10 = {
    "A photo of domes in the Grand Canyon under the golden sunrise.": "The sun rises slowly in the early morning.",
    "Two red Campari shots": "Red-colored Campari is poured into shot glasses until they are filled.",
    "A photo of a magician holding a hat with a rabbit in it.":
        "A magician slowly pulls a rabbit from his hat and reveals it gradually.",
}

TARGET = "A photo of a cat yawning."


@pytest.fixture
def source():
    return Image.new("RGB", (300, 200), (120, 90, 60))


def test_instruction_is_the_papers_with_the_target_in_place_of_caption():
    assert B1_INSTRUCTION == PAPER_B1
    text = b1_instruction(TARGET)
    assert text == PAPER_B1.replace("CAPTION", TARGET)
    assert "“A photo of a cat yawning.”" in text and "CAPTION" not in text


def test_request_is_the_papers_in_context_conversation(source):
    examples = load_icl_examples()
    with openai_server("The cat slowly opens its mouth in a wide yawn.") as server:
        captioner = VLMCaptioner(base_url=server.base_url)
        caption = captioner(source, TARGET)
    assert caption.text == "The cat slowly opens its mouth in a wide yawn." and caption.captioner == "vlm"

    (request,) = server.requests
    assert request.model == "gpt-4o"
    assert len(examples) == 9 and caption.record["icl_examples"] == 9  # appendix B.1: nine examples
    assert request.roles == ["user", "assistant"] * 9 + ["user"]
    for k, example in enumerate(examples):
        user, answer = 2 * k, 2 * k + 1
        assert request.texts(user) == [PAPER_B1.replace("CAPTION", example.target)]
        assert request.messages[answer]["content"] == example.temporal
        (image,) = request.images(user)
        assert image.size == Image.open(example.image).size
    assert request.texts(-1) == [PAPER_B1.replace("CAPTION", TARGET)]
    assert [im.size for im in request.images(-1)] == [(300, 200)]
    # the text comes before the image in each user turn
    assert [part["type"] for part in request.messages[-1]["content"]] == ["text", "image_url"]


def test_large_sources_are_shrunk_and_the_model_is_configurable():
    big = Image.new("RGB", (2000, 1000), (10, 200, 30))
    examples = [ICLExample(target="A lit lamp.", temporal="The lamp slowly lights up.")]  # text-only example
    with openai_server("The field slowly turns yellow.") as server:
        VLMCaptioner(base_url=server.base_url, model="qwen2.5-vl", icl_examples=examples)(big, "A yellow field.")
    (request,) = server.requests
    assert request.model == "qwen2.5-vl"
    assert request.roles == ["user", "assistant", "user"]
    assert request.messages[0]["content"] == PAPER_B1.replace("CAPTION", "A lit lamp.")  # no image: plain text
    assert [im.size for im in request.images(-1)] == [(768, 384)]


@pytest.mark.parametrize("answer, expected", [
    ("The cat slowly yawns.", "The cat slowly yawns."),
    ('"The cat slowly yawns."', "The cat slowly yawns."),
    ("“The cat slowly yawns”.", "The cat slowly yawns."),
    ("Caption: The cat slowly yawns.", "The cat slowly yawns."),
    ("**Temporal editing caption:** The cat slowly yawns.", "The cat slowly yawns."),
    ("Here is the description:\n\nThe cat slowly yawns.", "The cat slowly yawns."),
    ("Sure! Here's a description: The cat slowly yawns.", "The cat slowly yawns."),
    ("Okay, the cat slowly yawns.", "Okay, the cat slowly yawns."),
    ("The cat slowly\nyawns.\n", "The cat slowly yawns."),
    ("The cat slowly yawns. The camera stays still.", "The cat slowly yawns."),
    ("*The cat slowly yawns.*", "The cat slowly yawns."),
    ("Mr. Whiskers slowly yawns. Then he sleeps.", "Mr. Whiskers slowly yawns."),
    ('A sign slowly changes to read "OPEN".', 'A sign slowly changes to read "OPEN".'),
])
def test_answers_are_cleaned_to_one_sentence(answer, expected):
    assert clean_caption(answer) == expected


def test_cleaning_happens_on_the_real_answer(source):
    examples = [ICLExample(target="A lit lamp.", temporal="The lamp slowly lights up.")]
    with openai_server(Reply('Caption: "The cat slowly yawns."\nI hope this helps!', prompt_tokens=50, completion_tokens=9)) as server:
        caption = VLMCaptioner(base_url=server.base_url, icl_examples=examples)(source, TARGET)
    assert caption.text == "The cat slowly yawns."
    assert caption.record["answer"].startswith('Caption: "The cat')
    assert caption.record["call"]["usage"] == {"prompt": 50, "completion": 9, "total": 59}
    assert caption.record["vlm"]["model"] == "gpt-4o"


@pytest.mark.parametrize("answer", ["", "   \n ", '""', "Caption:", "**Caption:**"])
def test_an_empty_answer_is_retried_then_the_template_caption_with_a_warning(source, answer):
    examples = [ICLExample(target="A lit lamp.", temporal="The lamp slowly lights up.")]
    with openai_server(answer, answer) as server:
        captioner = VLMCaptioner(base_url=server.base_url, icl_examples=examples)
        with pytest.warns(UserWarning, match="fell back to the 'template' caption"):
            caption = captioner(source, TARGET)
    assert caption.captioner == "template" and "empty" in caption.record["fallback"]["reason"]
    assert len(server.requests) == 2


def test_both_vlm_stages_share_one_client_and_keep_their_own_options(source):
    from f2f_lab import Frame2Frame

    with openai_server("The cat slowly yawns.") as server:
        editor = Frame2Frame.from_preset(
            "tiny", captioner="vlm", selector="vlm", progress=False, vlm_options={"base_url": server.base_url, "timeout": 7},
            captioner_options={"image_max_side": 256}, selector_options={"fallback": "last", "tile_size": 128},
        )
    assert editor.vlm is not None and editor.captioner.client is editor.vlm and editor.selector.client is editor.vlm
    assert editor.vlm.timeout == 7 and editor.vlm.model == editor.preset.vlm_model
    assert editor.captioner.image_max_side == 256 and (editor.selector.fallback, editor.selector.tile_size) == ("last", 128)
    with pytest.raises(F2FError, match="takes no options"):
        make_captioner("template", image_max_side=256)
    with pytest.raises(F2FError, match="Unknown captioner"):
        make_captioner("gpt")


# --- the examples file --------------------------------------------------------------------

def _normalise(text):
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower()).split())


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_nine_examples_by_default_the_papers_three_first_and_a_tenth_on_request():
    examples = load_icl_examples()
    assert len(examples) == 9  # appendix B.1
    assert {e.target: e.temporal for e in examples[:3]} == FIGURE_S10  # Figure S10's three lead
    every = load_icl_examples(count=None)
    assert len(every) == 10 and every[:9] == examples
    assert len({e.target for e in every}) == len(every)
    with pytest.raises(F2FError, match="at least one"):
        load_icl_examples(count=0)


def test_example_images_load_and_their_licences_are_stated():
    licences = (DATA / "icl" / "LICENSES.md").read_text()
    for example in load_icl_examples():
        assert example.image is not None and example.image.parent == DATA / "icl"
        with Image.open(example.image) as image:
            assert min(image.size) >= 64
        assert f"`{example.image.name}`" in licences


def test_no_example_repeats_a_benchmark_target():
    """An in-context example equal to a TEdBench or PosEdit target would leak the evaluation."""
    benchmark_files = [DATA / "tasks" / "tedbench_targets.json", DATA / "tasks" / "posedit_tasks.json"]
    missing = [str(path) for path in benchmark_files if not path.is_file()]
    assert not missing, f"benchmark task lists missing: {missing}"
    tedbench = json.loads(benchmark_files[0].read_text())
    assert len(tedbench) == 100
    # every string of both files: target captions, whatever the schema calls them
    benchmark = {_normalise(s) for path in benchmark_files for s in _strings(json.loads(path.read_text()))}
    leaks = [e.target for e in load_icl_examples() if _normalise(e.target) in benchmark]
    assert not leaks, f"in-context examples repeat benchmark targets: {leaks}"


def test_a_broken_examples_file_is_a_clear_error(tmp_path):
    with pytest.raises(F2FError, match="No in-context examples"):
        load_icl_examples(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text(json.dumps({"examples": [{"target": "A cat.", "temporal": ""}]}))
    with pytest.raises(F2FError, match="temporal"):
        load_icl_examples(tmp_path / "bad.json")
    (tmp_path / "noimage.json").write_text(json.dumps({"examples": [{"target": "A", "temporal": "B", "image": "x.png"}]}))
    with pytest.raises(F2FError, match="does not exist"):
        load_icl_examples(tmp_path / "noimage.json")


@pytest.mark.parametrize("target, subject", [
    ("A photo of a cat yawning.", "a cat yawning"),
    ("A happy person making a heart shape with their hands", "a happy person making a heart shape with their hands"),
    ("AI robots dancing.", "AI robots dancing"),  # an acronym keeps its capitals
])
def test_template_caption_lowercases_the_subject_but_not_an_acronym(target, subject):
    from f2f_lab.captions import TemplateCaptioner

    caption = TemplateCaptioner()(None, target)
    assert caption.text == f"The scene slowly and smoothly changes until it shows {subject}. The camera remains static."
