"""Issue 26's VLM probes (causes 1, 4, 6, 10, 14), against the real 127.0.0.1 test server in its misbehaving modes.

1: a reply that is no chat completion is one VLMError, and the selector falls back on it; a
   choice of thousands of digits is "outside 0..n". 4: the B.1 captioner retries a refusal,
   then takes the template caption, warned and recorded; --vlm openai keeps tiny-ifedit's CoT
   captioner. 6: a server that echoes the Authorization header gets the key written nowhere.
   10: --vlm-timeout and --vlm-retries reach the client and the message says the real total.
   14: answers are capped in records and stripped of control characters.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from f2f_lab.captions import ICLExample, VLMCaptioner
from f2f_lab.cli import main
from f2f_lab.selection import ChoiceError, VLMSelector, parse_choice
from f2f_lab.testing.openai_server import (
    control_characters, echo_authorization, hang, html_page, huge_answer, json_list, no_message, not_json,
    openai_server, text_page,
)
from f2f_lab.vlm import VLMClient, VLMError, user_turn

TARGET = "A photo of a cat yawning."
SECRET = "-".join(("test", "key", "never", "real", "PROBE"))  # a made-up key, built so that it reads as none
EXAMPLES = [ICLExample(target="A lit lamp.", temporal="The lamp slowly lights up.")]
MAX_KEPT_ANSWER = 2000  # f2f_lab.vlm.MAX_KEPT_ANSWER
CONTROL = ("\x00", "\u202e", "\x1b", "\x07")


@pytest.fixture
def no_vlm_env(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


@pytest.fixture
def source():
    return Image.fromarray(np.full((64, 64, 3), 120, np.uint8))


def frames(count=9):
    return [Image.fromarray(np.full((32, 32, 3), 10 * i, np.uint8)) for i in range(count)]


def tiny_edit(cat_path, out, server, *extra):
    return main(["edit", str(cat_path), TARGET, "--preset", "tiny", "--frames", "9", "--steps", "1",
                 "--vlm-base-url", server.base_url, "--out", str(out), *extra])


# --- cause 1: malformed replies ----------------------------------------------------------

@pytest.mark.parametrize("mode, said", [
    (not_json, "not JSON (application/json"), (html_page, "not JSON (text/html"), (text_page, "not JSON (text/plain"),
    (json_list, "a JSON list"), (no_message, "a choice without a message"),
])
def test_a_reply_that_is_no_chat_completion_is_one_vlm_error_naming_it_and_the_fix(no_vlm_env, mode, said):
    with openai_server(mode()) as server:
        with pytest.raises(VLMError) as caught:
            VLMClient(base_url=server.base_url, max_retries=0).chat([user_turn("hi")])
    message = str(caught.value)
    assert said in message and "/v1" in message and "\n" not in message


@pytest.mark.parametrize("mode", [not_json, html_page, text_page, json_list, no_message])
def test_the_selector_falls_back_on_a_reply_that_is_no_chat_completion(no_vlm_env, source, mode):
    with openai_server(mode()) as server:
        with pytest.warns(UserWarning, match="fell back to the 'last' selector"):
            selection = VLMSelector(VLMClient(base_url=server.base_url, max_retries=0), fallback="last")(
                source, frames(), TARGET)
    assert selection.index == 8 and "instead of a chat completion" in selection.record["fallback"]["reason"]


def test_tiny_ifedit_with_vlm_openai_keeps_cot_and_a_server_that_is_no_vlm_stops_it_in_one_line(no_vlm_env, tmp_path, cat_path, capsys):
    with openai_server(not_json()) as server:
        code = main(["edit", str(cat_path), TARGET, "--preset", "tiny-ifedit", "--steps", "1", "--vlm", "openai",
                     "--vlm-base-url", server.base_url, "--vlm-retries", "0", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    (line,) = [line for line in err.splitlines() if "not JSON" in line]
    assert "/v1" in line
    # cause 4: --vlm openai kept the preset's chain-of-thought captioner (it asked for a "Final prompt", not B.1)
    (request,) = server.requests
    assert "Final prompt" in request.texts()[0] and len(request.messages) == 1


@pytest.mark.parametrize("answer", ["The selected edit is:" + "7" * 5000, "9" * 5000, "The selected edit is: -" + "1" * 4400])
def test_a_choice_of_thousands_of_digits_is_outside_the_tiles(answer):
    with pytest.raises(ChoiceError, match="outside 0..12"):
        parse_choice(answer, 12)


# --- cause 4: refusals and garbage as the B.1 caption -------------------------------------

@pytest.mark.parametrize("bad", ["I'm sorry, but I can't help with that request.", "%%%% 1234 #### !!!!", ""])
def test_a_refused_b1_caption_is_retried_with_a_reminder_then_the_template_warned_and_recorded(no_vlm_env, source, bad):
    with openai_server(bad, bad) as server:
        with pytest.warns(UserWarning, match="fell back to the 'template' caption"):
            caption = VLMCaptioner(base_url=server.base_url, icl_examples=EXAMPLES)(source, TARGET)
    assert caption.captioner == "template" and caption.text.startswith("The scene slowly and smoothly changes")
    assert caption.record["fallback"]["captioner"] == "template" and caption.record["retried"]
    assert caption.record["answers"] == [bad, bad]
    retry = server.requests[1]
    assert retry.roles[-2:] == ["assistant", "user"] and "could not be used" in retry.texts()[-1]


def test_a_refusal_then_a_caption_uses_the_caption(no_vlm_env, source):
    with openai_server("I cannot help with that.", "The cat slowly yawns.") as server:
        caption = VLMCaptioner(base_url=server.base_url, icl_examples=EXAMPLES)(source, TARGET)
    assert (caption.text, caption.captioner, caption.record["retried"]) == ("The cat slowly yawns.", "vlm", True)
    assert caption.record["fallback"] is None


# --- cause 6: a server that echoes the key ------------------------------------------------

def test_a_server_echoing_the_authorization_header_gets_the_key_written_and_printed_nowhere(
        no_vlm_env, monkeypatch, tmp_path, cat_path, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    out, failed = tmp_path / "run", tmp_path / "failed"
    with pytest.warns(UserWarning) as warned:
        # the caption is the echo, the selection's error message too (its fallback reason)
        with openai_server(echo_authorization(), echo_authorization(500)) as server:
            assert tiny_edit(cat_path, out, server, "--captioner", "vlm", "--selector", "vlm", "--vlm-retries", "0") == 0
        # the caption call's error message is the echo: a one-line error
        with openai_server(echo_authorization(500)) as server:
            assert tiny_edit(cat_path, failed, server, "--captioner", "vlm", "--vlm-retries", "0") == 2
    assert {r.headers["authorization"] for r in server.requests} == {f"Bearer {SECRET}"}  # the key was sent
    printed = capsys.readouterr()
    record = json.loads((out / "record.json").read_text())
    assert "[redacted]" in record["selection"]["fallback"]["reason"] and "[redacted]" in printed.err
    texts = [printed.out, printed.err] + [str(w.message) for w in warned]
    texts += [p.read_bytes().decode("latin-1") for p in tmp_path.rglob("*") if p.is_file()]
    assert not [t for t in texts if SECRET in t or SECRET[5:] in t]


# --- cause 10: a VLM that never answers ---------------------------------------------------

def test_vlm_timeout_and_retries_reach_the_client_and_the_message_says_the_total(no_vlm_env, tmp_path, cat_path, capsys):
    with openai_server(hang()) as server:
        code = tiny_edit(cat_path, tmp_path / "run", server, "--captioner", "vlm", "--vlm-timeout", "0.2",
                         "--vlm-retries", "0")
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(server.requests) == 1
    (line,) = [line for line in err.splitlines() if "did not answer" in line]
    assert "within 0.2 s (1 attempt," in line and "s in all" in line and "--vlm-timeout" in line


@pytest.mark.parametrize("flags, said", [(["--vlm-timeout", "0"], "--vlm-timeout"), (["--vlm-timeout", "nan"], "--vlm-timeout"),
                                         (["--vlm-retries", "-1"], "--vlm-retries")])
def test_bad_vlm_timeouts_and_retries_are_refused_before_loading(no_vlm_env, tmp_path, cat_path, capsys, flags, said):
    code = main(["edit", str(cat_path), TARGET, "--preset", "tiny", "--vlm-base-url", "http://127.0.0.1:9/v1",
                 "--out", str(tmp_path / "run"), *flags])
    err = capsys.readouterr().err
    assert code == 2 and said in err and "models ready" not in err


def test_compare_takes_the_vlm_timeout_and_refuses_a_bad_one_before_loading(no_vlm_env, tmp_path, cat_path, capsys):
    code = main(["compare", str(cat_path), TARGET, "--preset", "tiny", "--methods", "f2f", "--vlm-timeout", "0",
                 "--out", str(tmp_path / "cmp")])
    err = capsys.readouterr().err
    assert code == 2 and "--vlm-timeout" in err and not (tmp_path / "cmp").exists()


# --- cause 14: huge answers and control characters ----------------------------------------

def test_a_huge_answer_is_capped_in_the_records_and_not_a_caption(no_vlm_env, source):
    with openai_server(huge_answer(3_000_000), huge_answer(3_000_000), huge_answer(3_000_000)) as server:
        with pytest.warns(UserWarning, match="longer than"):
            caption = VLMCaptioner(base_url=server.base_url, icl_examples=EXAMPLES)(source, TARGET)
        with pytest.warns(UserWarning, match="fell back"):
            selection = VLMSelector(VLMClient(base_url=server.base_url), fallback="last")(source, frames(), TARGET)
    assert caption.captioner == "template"
    assert len(json.dumps(caption.record)) < 4 * MAX_KEPT_ANSWER + 5000
    assert len(json.dumps(selection.record)) < 2 * MAX_KEPT_ANSWER + 5000
    assert "characters]" in caption.record["answers"][0]


def test_control_characters_never_reach_a_caption_or_a_record(no_vlm_env, source):
    with openai_server(control_characters(), control_characters("The selected edit is:\x00\u202e2")) as server:
        caption = VLMCaptioner(base_url=server.base_url, icl_examples=EXAMPLES)(source, TARGET)
        selection = VLMSelector(VLMClient(base_url=server.base_url), fallback="last")(source, frames(), TARGET)
    kept = json.dumps(caption.record, ensure_ascii=False) + caption.text + json.dumps(selection.record, ensure_ascii=False)
    assert not [c for c in CONTROL if c in kept]
    assert caption.text == "The cat slowly yawns wide." and selection.tile == 2
