"""The peer instruction editors (ChronoEdit, FLUX.1 Kontext, Qwen-Image-Edit): tiny stand-ins, the CLI,
their documented defaults and modes, the instruction derivation (template and a real VLM server), and a
resumed benchmark run with one of them beside the paper's table."""

import csv
import inspect
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from f2f_lab.cli import main
from f2f_lab.editors import EDITORS, METHODS, PEER_METHODS, ImageEditResult, make_editor, output_size
from f2f_lab.editors.peers import ChronoEditEditor, KontextEditor, QwenImageEditEditor, fuse_lora
from f2f_lab.errors import F2FError
from f2f_lab.instructions import (
    INSTRUCTION_TEMPLATE,
    MAX_INSTRUCTION_WORDS,
    VLMInstructor,
    caption_subject,
    make_instructor,
    template_instruction,
)
from f2f_lab.vlm import VLMClient, VLMError
from openai_server import error, openai_server

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
TARGET = "A photo of a cat yawning."
PEERS = {"chronoedit": ChronoEditEditor, "kontext": KontextEditor, "qwen-edit": QwenImageEditEditor}


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


@pytest.fixture
def no_vlm_env(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


# -- registration, the CLI, the common call ----------------------------------------------------


def test_the_peers_join_every_method_list_and_keep_the_old_ones():
    assert set(PEER_METHODS) == set(PEERS) and set(PEER_METHODS) <= set(METHODS)
    assert {"f2f", "sdedit", "ledits", "flowedit", "pix2pix-zero"} <= set(METHODS)
    assert {method: EDITORS[method] for method in PEER_METHODS} == PEERS


@pytest.mark.parametrize("method", PEER_METHODS)
def test_each_peer_edits_from_the_cli_with_the_tiny_stand_in(method, tmp_path, capsys):
    out = tmp_path / method
    code = main(["edit", str(SAMPLES / "cat.jpg"), TARGET, "--preset", "tiny", "--method", method, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "TINY PRESET" in captured.err and f"{method} -> {out}" in captured.out
    record = json.loads((out / "record.json").read_text())
    assert record["method"] == method and record["model"]["id"] == "tiny" and "TINY" in record["notice"]
    assert record["model"]["pipeline"] == {"chronoedit": "ChronoEditPipeline", "kontext": "FluxKontextPipeline",
                                           "qwen-edit": "QwenImageEditPlusPipeline"}[method]
    # The instruction is derived from the caption by the template (the default), and recorded as such.
    assert record["prompts"]["instruction_method"] == "template" and record["instructor"]["instruction"] == "template"
    assert caption_subject(TARGET) in record["prompts"]["instruction"] and record["prompts"]["target"] == TARGET
    assert record["parameters"]["num_inference_steps"] == PEERS[method].tiny.num_inference_steps
    assert record["parameters"]["seed"] == 0 and record["parameters"]["instruction"] == "template"
    assert Image.open(out / "edited.png").size == (512, 512)  # a square source: 512x512, like F2F's edits


@pytest.mark.parametrize("method", PEER_METHODS)
def test_each_peer_keeps_the_sources_aspect_ratio_and_geometry(editors, method):
    source = Image.open(SAMPLES / "coffee.jpg")  # 600x400
    result = editors(method).edit(source, "A photo of a cup of tea.", seed=0)
    assert isinstance(result, ImageEditResult)
    assert result.image.size == result.source_output.size == output_size(source.size, 512)
    work_w, work_h = result.record["geometry"]["working_size"]
    assert abs(work_w / work_h - 1.5) < 0.35  # the model ran at the source's shape, not a square
    assert work_w % editors(method).size_multiple == 0 and work_h % editors(method).size_multiple == 0


@pytest.mark.parametrize("method", PEER_METHODS)
def test_a_seed_reproduces_its_edit_and_another_seed_changes_it(editors, method):
    editor = editors(method)
    first = editor.edit(SAMPLES / "cat.jpg", TARGET, seed=3).image.tobytes()
    assert editor.edit(SAMPLES / "cat.jpg", TARGET, seed=3).image.tobytes() == first
    assert editor.edit(SAMPLES / "cat.jpg", TARGET, seed=4).image.tobytes() != first


def test_a_given_instruction_is_used_as_it_is_and_recorded(editors):
    result = editors("kontext").edit(SAMPLES / "cat.jpg", TARGET, seed=0, instruction_text="Make the cat yawn.")
    assert result.prompts["instruction"] == "Make the cat yawn." and result.prompts["instruction_method"] == "given"
    with pytest.raises(F2FError, match="instruction is empty"):
        editors("kontext").edit(SAMPLES / "cat.jpg", TARGET, instruction_text="  ")


def test_bad_options_are_user_errors_before_any_model_loads(tmp_path, capsys):
    with pytest.raises(F2FError, match="kontext editor has no option num_frames"):
        make_editor("kontext", "tiny", num_frames=5)
    with pytest.raises(F2FError, match="4k\\+1 frames"):
        make_editor("chronoedit", "tiny", num_frames=6)
    code = main(["edit", str(SAMPLES / "cat.jpg"), TARGET, "--preset", "tiny", "--method", "sdedit",
                 "--instruction", "vlm", "--out", str(tmp_path / "run")])
    assert code == 2 and "--instruction applies to the instruction editors" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


# -- the published defaults, checked against the installed library ------------------------------


def call_defaults(pipeline_class) -> dict:
    return {name: p.default for name, p in inspect.signature(pipeline_class.__call__).parameters.items()}


def test_paper_settings_follow_the_installed_pipelines_where_the_cards_do_not_differ():
    from diffusers import ChronoEditPipeline, FluxKontextPipeline, QwenImageEditPlusPipeline

    chrono, kontext, qwen = call_defaults(ChronoEditPipeline), call_defaults(FluxKontextPipeline), call_defaults(QwenImageEditPlusPipeline)
    paper = ChronoEditEditor.paper
    assert (paper.num_inference_steps, paper.guidance_scale, paper.max_sequence_length) == \
        (chrono["num_inference_steps"], chrono["guidance_scale"], chrono["max_sequence_length"])
    assert (paper.temporal_reasoning, paper.num_temporal_reasoning_steps) == \
        (chrono["enable_temporal_reasoning"], chrono["num_temporal_reasoning_steps"])
    paper = KontextEditor.paper
    assert (paper.num_inference_steps, paper.true_cfg_scale, paper.max_area, paper.max_sequence_length, paper.auto_resize) == \
        (kontext["num_inference_steps"], kontext["true_cfg_scale"], kontext["max_area"], kontext["max_sequence_length"],
         kontext["_auto_resize"])
    # Kontext's guidance is the pipeline's own docstring example's (and the docs' and card's), not its signature's.
    from diffusers.pipelines.flux.pipeline_flux_kontext import EXAMPLE_DOC_STRING

    assert f"guidance_scale={paper.guidance_scale}," in EXAMPLE_DOC_STRING
    paper = QwenImageEditEditor.paper
    assert (paper.true_cfg_scale, paper.max_sequence_length) == (qwen["true_cfg_scale"], qwen["max_sequence_length"])
    assert paper.negative_prompt.strip() == "" and paper.negative_prompt  # a space: CFG stays on


# -- ChronoEdit's modes --------------------------------------------------------------------------


def test_chronoedit_temporal_reasoning_denoises_the_longer_video():
    plain = make_editor("chronoedit", "tiny", progress=False).edit(SAMPLES / "cat.jpg", TARGET, seed=0)
    reasoning = make_editor("chronoedit", "tiny", progress=False, temporal_reasoning=True).edit(SAMPLES / "cat.jpg", TARGET, seed=0)
    assert plain.record["parameters"]["num_frames"] == 5 and plain.record["video"]["frames_decoded"] == 5
    params = reasoning.record["parameters"]
    assert params["temporal_reasoning"] and params["num_frames"] == 29
    # Reasoning frames kept for every step, as in the docs, so the whole path is decoded.
    assert params["num_temporal_reasoning_steps"] == params["num_inference_steps"]
    assert reasoning.record["video"]["frames_decoded"] == 29
    assert reasoning.image.tobytes() != plain.image.tobytes()


def test_chronoedit_distilled_fuses_the_lora_and_uses_its_sampler():
    editor = make_editor("chronoedit", "tiny", progress=False, distilled=True)
    params = editor.settings
    assert params.distilled and params.guidance_scale == 1.0 and params.flow_shift == 2.0
    assert type(editor.pipe.scheduler).__name__ == "UniPCMultistepScheduler"
    assert editor.pipe.scheduler.config.flow_shift == 2.0
    result = editor.edit(SAMPLES / "cat.jpg", TARGET, seed=0)
    assert result.record["lora"]["weight_name"] == "lora/chronoedit_distill_lora.safetensors"
    assert result.record["model"]["scheduler_config"]["flow_shift"] == 2.0
    # An explicit field still wins over the mode's setting.
    assert make_editor("chronoedit", "tiny", progress=False, distilled=True, num_inference_steps=3).settings.num_inference_steps == 3


def test_the_lora_fuser_adds_b_times_a_scaled_by_alpha_over_rank():
    from diffusers import ChronoEditPipeline

    from f2f_lab.stand_ins.tiny_editors import CHRONOEDIT_DISTILL_LORA, tiny_chronoedit

    folder = tiny_chronoedit()
    pipe = ChronoEditPipeline.from_pretrained(folder)
    before = pipe.transformer.blocks[0].attn1.to_q.weight.detach().clone()
    untouched = pipe.transformer.blocks[0].attn2.to_q.weight.detach().clone()
    layers = fuse_lora(pipe, str(folder), CHRONOEDIT_DISTILL_LORA, scale=0.5)
    # Straight from the file, in the authors' format: W' = W + scale * (alpha / rank) * B A.
    raw = load_file(str(folder / CHRONOEDIT_DISTILL_LORA))
    prefix = "diffusion_model.blocks.0.self_attn.q"
    down, up, alpha = raw[f"{prefix}.lora_A.weight"], raw[f"{prefix}.lora_B.weight"], raw[f"{prefix}.alpha"].item()
    expected = before + 0.5 * alpha / down.shape[0] * (up @ down)
    torch.testing.assert_close(pipe.transformer.blocks[0].attn1.to_q.weight.detach(), expected, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(pipe.transformer.blocks[0].attn2.to_q.weight.detach(), untouched)  # no LoRA there
    assert layers == len([k for k in raw if k.endswith(".lora_A.weight")])


# -- the instruction derivation ------------------------------------------------------------------


@pytest.mark.parametrize("caption, subject", [
    ("A photo of a cat yawning.", "a cat yawning"),
    ("A picture of a dog sitting", "a dog sitting"),
    ("A person making a heart shape with their hands.", "a person making a heart shape with their hands"),
    ("AI written on a shirt", "AI written on a shirt"),  # an acronym keeps its capitals
    ("A painting of a dog.", "a painting of a dog"),  # a style is part of the edit: kept
])
def test_the_template_wraps_the_captions_subject(caption, subject):
    instruction = template_instruction(caption)
    assert caption_subject(caption) == subject
    assert instruction.text == INSTRUCTION_TEMPLATE.format(subject=subject)
    assert instruction.text.startswith("Edit the image so that it shows ") and instruction.method == "template"
    assert instruction.record == {"template": INSTRUCTION_TEMPLATE}


def test_an_empty_caption_or_an_unknown_mode_is_refused():
    with pytest.raises(F2FError, match="target caption is empty"):
        template_instruction("   ")
    with pytest.raises(F2FError, match="Unknown instruction mode 'gpt'"):
        make_instructor("gpt")
    with pytest.raises(F2FError, match="Unknown instruction mode"):
        make_editor("kontext", "tiny", instruction="gpt")


def test_the_vlm_writes_the_instruction_from_the_image_and_the_caption(no_vlm_env):
    with openai_server('Instruction: "Make the cat open its mouth in a wide yawn."') as server:
        instructor = make_instructor("vlm", preset="tiny", vlm_options={"base_url": server.base_url})
        instruction = instructor(Image.open(SAMPLES / "cat.jpg").convert("RGB"), TARGET)
    assert instruction.text == "Make the cat open its mouth in a wide yawn." and instruction.method == "vlm"
    assert instruction.record["answer"].startswith("Instruction:") and "fallback" not in instruction.record
    request = server.requests[0]
    assert len(request.images()) == 1 and TARGET in " ".join(request.texts())


@pytest.mark.parametrize("answer, reason", [
    ("", "empty"),
    ("I'm sorry, I can't help with editing this image.", "refused"),
    (" ".join(["word"] * (MAX_INSTRUCTION_WORDS + 5)), "longer than"),
])
def test_an_unusable_vlm_answer_falls_back_to_the_template_and_says_so(no_vlm_env, answer, reason):
    with openai_server(answer) as server:
        instructor = VLMInstructor(VLMClient(base_url=server.base_url, max_retries=0))
        with pytest.warns(UserWarning, match="from the template instead"):
            instruction = instructor(Image.open(SAMPLES / "cat.jpg").convert("RGB"), TARGET)
    assert instruction.text == template_instruction(TARGET).text and instruction.method == "template"
    assert instruction.record["requested"] == "vlm" and reason in instruction.record["fallback"]
    assert instruction.record["answer"] == answer and len(server.requests) == 1


def test_an_unreachable_vlm_is_an_error_not_a_silent_fallback(no_vlm_env):
    with openai_server(error(500, "model crashed")) as server:
        instructor = VLMInstructor(VLMClient(base_url=server.base_url, max_retries=0))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # and no fallback warning either
            with pytest.raises(VLMError, match="model crashed"):
                instructor(Image.open(SAMPLES / "cat.jpg").convert("RGB"), TARGET)


def test_an_editor_with_vlm_instructions_records_them(no_vlm_env):
    with openai_server(default="Make the cat yawn.") as server:
        editor = make_editor("qwen-edit", "tiny", progress=False, instruction="vlm", vlm_options={"base_url": server.base_url})
        result = editor.edit(SAMPLES / "cat.jpg", TARGET, seed=0)
    assert result.prompts["instruction"] == "Make the cat yawn." and result.prompts["instruction_method"] == "vlm"
    assert result.record["parameters"]["instruction"] == "vlm"
    assert result.record["instructor"]["vlm"]["base_url"] == server.base_url and len(server.requests) == 1


def test_vlm_instructions_without_a_key_or_server_fail_before_the_model_loads(no_vlm_env):
    # The paper preset's 14B model is not in the (offline) hub cache: had the load come first, it would fail there.
    with pytest.raises(F2FError, match="No VLM is configured") as caught:
        make_editor("chronoedit", "paper", instruction="vlm")
    assert "Could not load" not in str(caught.value)


# -- a benchmark with a peer: resumed, then beside the paper's table -----------------------------


@pytest.fixture
def tedbench_dir(tmp_path):
    """A folder in TEdBench's public layout: two images, three tasks."""
    root = tmp_path / "tedbench"
    (root / "originals").mkdir(parents=True)
    rng = np.random.default_rng(1)
    for name in ("dog.png", "cat.jpeg"):
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(root / "originals" / name)
    entries = [{"img_name": "dog.png", "target_text": "A photo of a sitting dog."},
               {"img_name": "cat.jpeg", "target_text": "A photo of a cat wearing a hat."},
               {"img_name": "dog.png", "target_text": "A photo of a jumping dog."}]
    (root / "input_list.json").write_text(json.dumps(entries))
    return root


def test_a_resumed_benchmark_with_a_peer_recomputes_nothing_and_tables_it_apart(tedbench_dir, tmp_path, capsys):
    out = tmp_path / "kontext"
    command = ["bench", "tedbench", "--data", str(tedbench_dir), "--out", str(out), "--preset", "tiny",
               "--method", "kontext", "--seeds", "2", "--no-progress", "--light"]
    assert main(command) == 0
    assert "6 items computed, 0 already done" in capsys.readouterr().out
    records = sorted(out.glob("*/seed-*/record.json"))
    assert len(records) == 6
    first = {path: (path.stat().st_mtime_ns, path.read_text()) for path in records}
    record = json.loads(records[0].read_text())
    assert record["method"] == "kontext" and record["bench"]["method"] == "kontext"
    assert record["prompts"]["instruction_method"] == "template" and set(record["metrics"]) >= {"source_lpips", "clip_score"}

    assert main(command) == 0  # the same command again: everything is done
    assert "0 items computed, 6 already done" in capsys.readouterr().out
    assert {path: (path.stat().st_mtime_ns, path.read_text()) for path in records} == first

    assert main(["bench", "table", str(out)]) == 0
    with open(out / "table.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    quoted = [r for r in rows if r["Origin"].startswith("quoted")]
    ours = [r for r in rows if r["Origin"].startswith("measured")]
    assert len(quoted) == 6 and [r["Model"] for r in ours] == ["FLUX.1 Kontext [dev]"]
    assert rows.index(ours[0]) > max(rows.index(r) for r in quoted)  # after the paper's rows: it has none of its own
    assert "no published numbers" in ours[0]["Origin"] and ours[0]["Tasks"] == "3"
    markdown = (out / "table.md").read_text(encoding="utf-8")
    assert re.search(r"FLUX\.1 Kontext \[dev\]: not in the paper .* no paper numbers to compare with", markdown)
    assert "(template; see f2f_lab.instructions)" in markdown
