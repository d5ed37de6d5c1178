"""The local VLM backend (issue 13): a transformers model in this process behind the VLM client's interface.

The tiny Qwen2.5-VL (random weights, `stand_ins.tiny_vlm.tiny_qwen2_5_vl`) answers gibberish, so these
tests check the plumbing: the paper's instructions and images reach the model, the answers
and their costs are recorded, gibberish falls back as it does over the OpenAI protocol, and
the VLM is off the GPU while the video model runs.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from f2f_lab.captions import b1_instruction, load_icl_examples
from f2f_lab.errors import F2FError
from f2f_lab.selection import VLMSelector, c1_instruction
from f2f_lab.vlm import NO_VLM_MESSAGE, VLMError, make_vlm_client
from f2f_lab.vlm.local import DEFAULT_LOCAL_MODEL, LocalVLM, local_model_id
from openai_server import openai_server

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest: the big models run on one thread here

TARGET = "A photo of a cat yawning."


@pytest.fixture(scope="module")
def tiny_vlm():
    return make_vlm_client("local", "tiny", device="cpu")


class ProcessorSpy:
    """The processor, recording the prompt text and images of every call."""

    def __init__(self, processor):
        self._processor, self.calls = processor, []

    def __getattr__(self, name):
        return getattr(self._processor, name)

    def __call__(self, *, text, images=None, **options):
        self.calls.append({"text": text[0], "images": list(images or [])})
        return self._processor(text=text, images=images, **options)


def square(color=(200, 120, 40), size=64):
    return Image.new("RGB", (size, size), color)


def test_cli_edit_with_the_tiny_local_vlm_runs_both_steps_offline(tmp_path, cat_path):
    f2f = Path(sys.executable).with_name("f2f")
    command = [str(f2f)] if f2f.exists() else [sys.executable, "-m", "f2f_lab.cli"]
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env["HF_HUB_OFFLINE"] = "1"
    proc = subprocess.run(command + ["edit", str(cat_path), TARGET, "--preset", "tiny", "--vlm", "local", "--frames", "9",
                                     "--steps", "1", "--out", str(tmp_path / "run")],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    record = json.loads((tmp_path / "run" / "record.json").read_text())
    caption, selection = record["caption"], record["selection"]
    assert caption["captioner"] == "vlm" and caption["text"] and caption["answer"]
    for client in (caption["vlm"], selection["vlm"]):
        assert (client["backend"], client["model"], client["class"]) == ("local", "tiny", "Qwen2_5_VLForConditionalGeneration")
        assert client["generation"]["do_sample"] is False  # greedy, and recorded
    call = caption["call"]
    assert call["backend"] == "local" and call["model"] == "tiny" and call["answer"] == caption["answer"]
    assert call["images"] == 10 and call["usage"]["prompt"] > 0 and call["usage"]["completion"] > 0  # counts survive
    assert call["latency_s"] >= 0 and call["generation"]["max_new_tokens"] == 32
    # Gibberish names no frame: one retry, then the CLIP fallback, recorded as over the OpenAI protocol.
    assert selection["retried"] and len(selection["answers"]) == len(selection["calls"]) == 2
    assert selection["selector"] == "clip" and "no valid answer after one retry" in selection["fallback"]["reason"]
    assert record["preset"]["vlm_backend"] == "local"


def test_the_model_gets_the_verbatim_instructions_and_the_right_images(tiny_vlm, monkeypatch):
    from f2f_lab.captions import VLMCaptioner
    from f2f_lab.imaging import collage

    spy = ProcessorSpy(tiny_vlm.processor)
    monkeypatch.setattr(tiny_vlm, "processor", spy)
    VLMCaptioner(tiny_vlm)(square(), TARGET)
    frames = [square((i * 20, 0, 0)) for i in range(9)]
    with pytest.warns(UserWarning, match="fell back"):  # gibberish (the next test checks how)
        selection = VLMSelector(tiny_vlm, fallback="last")(square(), frames, TARGET)

    caption_call, first_selection = spy.calls[0], spy.calls[1]
    examples = load_icl_examples()
    assert len(caption_call["images"]) == 10  # nine in-context images, then the source
    assert caption_call["text"].count("<|image_pad|>") == 10 and b1_instruction(TARGET) in caption_call["text"]
    for example in examples:  # each example: its B.1 request, then its temporal caption as the assistant's turn
        turn = f"{b1_instruction(example.target)}<|vision_start|><|image_pad|><|vision_end|><|im_end|>\n"
        assert turn + f"<|im_start|>assistant\n{example.temporal}<|im_end|>" in caption_call["text"]
    assert caption_call["text"].endswith("<|im_start|>assistant\n")
    # 9 frames and the default 12 tiles: each frame after the first is a tile (1..8)
    assert len(first_selection["images"]) == 1 and c1_instruction(TARGET, 8) in first_selection["text"]
    assert first_selection["images"][0].size == collage(square(), frames[1:]).size
    assert selection.record["calls"][0]["images"] == 1


def test_an_unparsable_answer_falls_back_as_over_the_openai_protocol(tiny_vlm):
    frames = [square((i * 20, 0, 0)) for i in range(9)]
    local = VLMSelector(tiny_vlm, fallback="last")
    with pytest.warns(UserWarning, match="fell back"):
        chosen = local(square(), frames, TARGET)
    record = chosen.record
    assert chosen.selector == "last" and chosen.index == 8
    assert record["retried"] and record["answers"] == [c["answer"] for c in record["calls"]]
    assert record["fallback"]["reason"].startswith("no valid answer after one retry")
    gibberish = record["answers"][0]
    with openai_server(default=gibberish) as server:
        remote = VLMSelector(make_vlm_client("openai", "any", base_url=server.base_url), fallback="last")
        with pytest.warns(UserWarning, match="fell back"):
            same = remote(square(), frames, TARGET)
    assert (same.index, same.selector, same.record["retried"]) == (chosen.index, chosen.selector, True)
    assert same.record.keys() == record.keys()
    assert same.record["fallback"]["reason"].split(":")[0] == record["fallback"]["reason"].split(":")[0]


def test_gibberish_captions_are_judged_and_an_empty_answer_falls_back_to_the_template(tiny_vlm, monkeypatch):
    from f2f_lab.captions import VLMCaptioner

    caption = VLMCaptioner(tiny_vlm, icl_count=1)(square(), TARGET)
    assert caption.text and caption.record["answer"] and caption.record["vlm"]["backend"] == "local"

    def only_the_end(**inputs):  # a model that stops at once: nothing to caption with
        end = tiny_vlm.network.generation_config.eos_token_id[0]
        import torch

        return torch.cat([inputs["input_ids"], torch.tensor([[end]])], dim=1)

    monkeypatch.setattr(tiny_vlm.network, "generate", lambda generation_config, **inputs: only_the_end(**inputs))
    with pytest.warns(UserWarning, match="fell back to the 'template' caption: the VLM's answer was empty"):
        caption = VLMCaptioner(tiny_vlm, icl_count=1)(square(), TARGET)  # retried once, then the template
    assert caption.captioner == "template" and caption.record["answers"] == ["", ""]


def test_the_vlm_is_off_the_gpu_while_the_video_model_runs(cat_path):
    import torch

    from f2f_lab import Frame2Frame

    vlm = LocalVLM("tiny", device="cuda", torch_dtype=torch.float32)  # "swap": its default on a GPU
    assert vlm.placement == "swap"
    events, state = [], {"vlm": "cpu"}

    def move(device):  # records the move; the weights stay on this CPU so the test runs anywhere
        state["vlm"] = str(device)
        events.append(("vlm to", str(device)))
        return vlm.network

    vlm.network.to = move
    editor = Frame2Frame.from_preset("tiny", captioner="vlm", selector="vlm", vlm=vlm, num_inference_steps=1, progress=False, selector_options={"fallback": "last"})
    generator = editor.generator

    class Recording:
        def __getattr__(self, name):
            return getattr(generator, name)

        def __call__(self, *args, **kwargs):
            events.append(("video with the vlm on", state["vlm"]))
            return generator(*args, **kwargs)

    editor.generator = Recording()
    with pytest.warns(UserWarning, match="fell back"):
        result = editor.edit(cat_path, TARGET)
    assert events == [("vlm to", "cuda"), ("vlm to", "cpu"), ("video with the vlm on", "cpu"),
                      ("vlm to", "cuda"), ("vlm to", "cpu"), ("vlm to", "cuda"), ("vlm to", "cpu")]  # caption, video, 2 selection tries
    assert result.record["caption"]["call"]["placement"] == "swap"


def test_backends_presets_and_model_names():
    from f2f_lab.presets import get_preset

    assert local_model_id(None) == local_model_id("gpt-4o") == DEFAULT_LOCAL_MODEL
    assert local_model_id("gpt-4o", tiny=True) == "tiny" and local_model_id("my/vlm", tiny=True) == "my/vlm"
    with pytest.raises(F2FError, match="openai, local"):
        make_vlm_client("vllm")
    with pytest.raises(F2FError, match="placement='cpu'"):
        LocalVLM("tiny", device="cpu", placement="swap")
    paper, open_ = get_preset("paper"), get_preset("open")
    assert (open_.vlm_backend, open_.vlm_model) == ("local", "Qwen/Qwen2.5-VL-7B-Instruct")
    assert (paper.vlm_backend, paper.vlm_model) == ("openai", "gpt-4o")  # the paper's setting stays GPT-4o
    assert {k: v for k, v in open_.to_dict().items() if v != paper.to_dict()[k]} == {
        "name": "open", "vlm_backend": "local", "vlm_model": "Qwen/Qwen2.5-VL-7B-Instruct"}
    assert "--preset open" in NO_VLM_MESSAGE and "\n" not in NO_VLM_MESSAGE


def test_cli_refuses_a_server_url_for_the_local_vlm(capsys, cat_path, tmp_path):
    from f2f_lab.cli import main

    assert main(["edit", str(cat_path), TARGET, "--preset", "open", "--vlm-base-url", "http://127.0.0.1:1/v1",
                 "--out", str(tmp_path / "run")]) == 2
    assert "--vlm-base-url" in capsys.readouterr().err


class GenerateSpy:
    """The network's generate, recording the generation config of every call (it still runs)."""

    def __init__(self, network):
        self.network, self.generate, self.configs = network, network.generate, []

    def __call__(self, **inputs):
        self.configs.append(inputs["generation_config"])
        return self.generate(**inputs)


def test_a_chain_of_thought_caption_gets_a_longer_cap_than_one_sentence(tiny_vlm, monkeypatch):
    from f2f_lab.captions import CoTCaptioner, VLMCaptioner

    spy = GenerateSpy(tiny_vlm.network)
    monkeypatch.setattr(tiny_vlm.network, "generate", spy)
    with pytest.warns(UserWarning, match="fell back"):  # gibberish has no "Final prompt:" line
        cot = CoTCaptioner(tiny_vlm)(square(), TARGET)
    VLMCaptioner(tiny_vlm, icl_count=1)(square(), TARGET)
    cot_caps = [config.max_new_tokens for config in spy.configs[:2]]  # the answer and its retry
    assert cot_caps == [1024, 1024] and spy.configs[2].max_new_tokens == 32  # B.1 keeps the client's cap
    calls = cot.record["calls"]
    assert [call["generation"]["max_new_tokens"] for call in calls] == [1024, 1024]  # recorded as run
    # The random tiny model rarely stops by itself: it ran past the old 32-token cap.
    assert max(call["usage"]["completion"] for call in calls) > 32
    assert tiny_vlm.generation["max_new_tokens"] == 32  # the request's cap is not kept for the next one


def test_sampling_is_set_in_full_so_the_models_top_k_1_cannot_make_it_greedy(monkeypatch):
    import torch

    vlm = LocalVLM("tiny", device="cpu", do_sample=True, temperature=0.7, max_new_tokens=8)
    own = vlm.network.generation_config
    own.top_k, own.top_p, own.temperature = 1, 0.001, 0.1  # Qwen2.5-VL-7B-Instruct's generation_config
    used = []
    original = vlm.network._prepare_generation_config

    def prepared(*args, **kwargs):  # what transformers' generate runs with, after filling unset fields
        config, model_kwargs = original(*args, **kwargs)
        used.append(config)
        return config, model_kwargs

    monkeypatch.setattr(vlm.network, "_prepare_generation_config", prepared)
    answers = set()
    for seed in range(3):
        torch.manual_seed(seed)
        answers.add(vlm.chat([{"role": "user", "content": "hello"}]).text)
    config = used[0]
    assert (config.do_sample, config.temperature, config.top_k, config.top_p) == (True, 0.7, 0, 1.0)
    assert len(answers) > 1  # it samples: three seeds, more than one answer
    assert vlm.describe()["generation"]["top_k"] == 0  # recorded
    greedy = LocalVLM("tiny", device="cpu")
    assert "top_k" not in greedy.generation and greedy.generation["do_sample"] is False
