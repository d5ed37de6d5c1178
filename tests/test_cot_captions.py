"""The chain-of-thought temporal caption ("cot", after IF-Edit, arXiv 2511.19435 Sec. 4.1), against a real local server."""

import json
import warnings

import pytest
from PIL import Image, ImageStat

from f2f_lab.captions import (
    CAPTIONERS, COT_INSTRUCTION_LABEL, COT_REMINDER, CoTCaptioner, TemplateCaptioner, VLMCaptioner, make_captioner,
)
from f2f_lab.vlm import VLMError
from openai_server import error, openai_server

TARGET = "A photo of a cat yawning."
REASONING = (
    "1. The cat's mouth opens wide and its eyes squint; nothing appears or disappears.\n"
    "2. First the jaw drops, then the tongue curls, then the mouth is wide open.\n"
    "3. The cat's identity, fur colour, the lighting and its sitting pose stay the same."
)
PROMPT = ("The cat slowly drops its jaw, curls its tongue and opens its mouth wide in a big yawn. "
          "Its fur, the soft lighting and its sitting pose stay the same.")
ANSWER = f"Reasoning:\n{REASONING}\n\nFinal prompt: {PROMPT}"


@pytest.fixture
def source():
    return Image.new("RGB", (300, 200), (200, 40, 30))


@pytest.fixture
def no_vlm_env(monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def caption_with(server, source, target=TARGET):
    return CoTCaptioner(base_url=server.base_url, max_retries=0)(source, target)


def test_request_carries_the_source_image_and_the_instruction_with_the_target(source):
    with openai_server(ANSWER) as server:
        caption = caption_with(server, source)
    (request,) = server.requests
    assert request.roles == ["user"]
    assert [part["type"] for part in request.messages[0]["content"]] == ["text", "image_url"]
    (text,) = request.texts(0)
    assert f"“{TARGET}”" in text and "TARGET" not in text
    # what IF-Edit's description asks the VLM for, and the format we parse
    for words in ("step by step", "Reasoning:", "Final prompt:", "what order", "appear or disappear",
                  "identity", "style", "lighting", "pose"):
        assert words in text, words
    (image,) = request.images(0)
    assert image.size == (300, 200)
    assert [round(c) for c in ImageStat.Stat(image.convert("RGB")).mean] == pytest.approx([200, 40, 30], abs=6)
    assert caption.record["instruction"] == COT_INSTRUCTION_LABEL
    assert "not published" in caption.record["instruction"] and "2511.19435" in caption.record["instruction"]


def test_the_final_prompt_is_the_caption_and_the_record_keeps_the_reasoning(source):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a good answer warns of nothing
        with openai_server(ANSWER) as server:
            caption = caption_with(server, source)
    assert caption.captioner == "cot"
    assert caption.text == PROMPT  # all its sentences: the unchanged part too
    record = caption.record
    assert record["reasoning"] == REASONING
    assert record["answer"] == ANSWER and record["answers"] == [ANSWER]
    assert record["retried"] is False and record["fallback"] is None
    assert record["call"]["usage"]["total"] > 0 and record["calls"] == [record["call"]]
    assert record["vlm"]["base_url"] == server.base_url


@pytest.mark.parametrize("final_line", [
    f"**Final prompt:** {PROMPT}",
    f"**Final Prompt**: \"{PROMPT}\"",
    f"Final Prompt - {PROMPT}",
    f"FINAL PROMPT: “{PROMPT}”",
    f"- **Final video prompt:** *{PROMPT}*",
    f"### Final prompt\n\n{PROMPT}\n\nLet me know if you want changes.",
])
def test_decorated_final_prompt_lines_parse(source, final_line):
    with openai_server(f"**Reasoning:**\n{REASONING}\n\n{final_line}") as server:
        caption = caption_with(server, source)
    assert caption.text == PROMPT and caption.captioner == "cot"
    assert caption.record["reasoning"] == REASONING
    assert len(server.requests) == 1


def test_the_last_final_prompt_wins(source):
    draft = "The cat yawns."
    with openai_server(f"Reasoning:\nA first try.\nFinal prompt: {draft}\nBetter:\nFinal prompt: {PROMPT}") as server:
        caption = caption_with(server, source)
    assert caption.text == PROMPT
    assert draft in caption.record["reasoning"]


def test_no_final_prompt_is_retried_once_with_a_reminder_then_falls_back_to_the_template(source):
    first, second = f"Reasoning:\n{REASONING}", "The cat opens its mouth wide."
    with openai_server(first, second) as server:
        with pytest.warns(UserWarning, match="fell back to the 'template' caption"):
            caption = caption_with(server, source)
    assert len(server.requests) == 2
    retry = server.requests[1]
    assert retry.roles == ["user", "assistant", "user"]
    assert retry.messages[1]["content"] == first
    assert retry.texts(2) == [COT_REMINDER] and "Final prompt:" in COT_REMINDER
    assert retry.texts(0) == server.requests[0].texts(0) and len(retry.images(0)) == 1

    template = TemplateCaptioner()(source, TARGET)
    assert caption.text == template.text and caption.captioner == "template"
    fallback = caption.record["fallback"]
    assert fallback["answers"] == [first, second] and "Final prompt" in fallback["reason"]
    assert fallback["captioner"] == "template"
    assert caption.record["retried"] is True and len(caption.record["calls"]) == 2


def test_a_retry_that_succeeds_is_used(source):
    first = f"Reasoning:\n{REASONING}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with openai_server(first, f"Final prompt: {PROMPT}") as server:
            caption = caption_with(server, source)
    assert len(server.requests) == 2 and server.requests[1].texts(2) == [COT_REMINDER]
    assert caption.text == PROMPT and caption.captioner == "cot"
    assert caption.record["retried"] is True and caption.record["fallback"] is None
    assert caption.record["answers"] == [first, f"Final prompt: {PROMPT}"]
    assert caption.record["reasoning"] == REASONING  # the retry gave only the prompt


@pytest.mark.parametrize("kind", [CoTCaptioner, VLMCaptioner])
def test_an_unreachable_vlm_raises_like_the_vlm_captioner(source, kind):
    with openai_server(error(500, "the model crashed")) as server:
        with pytest.raises(VLMError, match="HTTP 500"):
            kind(base_url=server.base_url, max_retries=0)(source, TARGET)
    assert len(server.requests) == 1  # no format retry after a failed call


def test_cot_is_a_captioner_by_name(source):
    assert "cot" in CAPTIONERS
    with openai_server(ANSWER) as server:
        captioner = make_captioner("cot", base_url=server.base_url, image_max_side=100)
        assert isinstance(captioner, CoTCaptioner) and captioner.name == "cot"
        captioner(source, TARGET)
    assert max(server.requests[0].images(0)[0].size) == 100


def test_cli_edit_with_the_cot_captioner_records_the_final_prompt_and_the_reasoning(no_vlm_env, tmp_path, cat_path):
    from f2f_lab.cli import main

    out = tmp_path / "run"
    with openai_server(ANSWER) as server:
        code = main(["edit", str(cat_path), TARGET, "--preset", "tiny", "--captioner", "cot",
                     "--vlm-base-url", server.base_url, "--selector", "last", "--out", str(out)])
    assert code == 0
    (request,) = server.requests  # one caption call; the "last" selector asks nothing
    assert TARGET in request.texts(0)[0] and len(request.images(0)) == 1
    caption = json.loads((out / "record.json").read_text())["caption"]
    assert caption["text"] == PROMPT and caption["captioner"] == "cot"
    assert caption["reasoning"] == REASONING and caption["answer"] == ANSWER
    assert caption["instruction"] == COT_INSTRUCTION_LABEL and caption["fallback"] is None
