"""Presets: one declaration of the levers, specs parsed in one place and taken by every --preset."""

import json

import pytest

from f2f_lab import F2FError, Preset, get_preset
from f2f_lab.cli import build_parser
from f2f_lab.cli.options import resolve_preset
from f2f_lab.presets import PRESETS, Levers


def test_paper_preset_is_the_papers_numbers_with_every_lever_off():
    paper = get_preset("paper")
    assert (paper.canvas, paper.num_frames, paper.num_inference_steps, paper.guidance_scale, paper.fps) == ((720, 480), 49, 50, 6.0, 8)
    assert (paper.num_tiles, paper.output_size, paper.captioner, paper.selector) == (12, 512, "vlm", "vlm")
    assert paper.levers == Levers() and paper.levers.active() == {}


def test_a_spec_changes_fields_and_levers_and_names_the_preset_by_itself():
    spec = "paper:num_inference_steps=30,fuse_qkv=true,levers.attention_backend=cudnn,cache=none,canvas=96x64"
    preset = get_preset(spec)
    assert preset.name == spec
    assert preset.num_inference_steps == 30 and preset.canvas == (96, 64)
    assert preset.levers.fuse_qkv is True and preset.levers.attention_backend == "cudnn" and preset.levers.cache is None
    assert get_preset("turbo:cache=none").levers.cache is None  # "none" turns a preset's lever off
    assert PRESETS["paper"].num_inference_steps == 50  # the registered preset is untouched


@pytest.mark.parametrize("spec, words", [
    ("paper:warp_speed=9", "warp_speed=9"), ("paper:num_inference_steps", "FIELD=VALUE"), ("papr", "Unknown preset"),
])
def test_a_bad_spec_says_what_is_wrong(spec, words):
    with pytest.raises(F2FError, match=words):
        get_preset(spec)


def test_with_options_routes_lever_names_into_the_levers():
    preset = PRESETS["paper"].with_options(offload=True, num_frames=None, vae_tiling=True, selector="clip")
    assert preset.levers.offload and preset.levers.vae_tiling and preset.selector == "clip" and preset.num_frames == 49
    with pytest.raises(F2FError, match="Unknown preset field"):
        PRESETS["paper"].with_options(warp=1)
    assert isinstance(preset, Preset) and preset.to_dict()["levers"]["offload"] is True


def test_offload_that_moves_weights_inside_layers_refuses_a_compiled_transformer():
    Levers(offload=True, offload_mode="model", compile_transformer=True).check()  # whole-model offload compiles
    for mode in ("group", "sequential"):
        with pytest.raises(F2FError, match="compile"):
            Levers(offload=True, offload_mode=mode, compile_transformer=True).check()


@pytest.mark.parametrize("argv", [
    ["edit", "x.png", "A cat.", "--preset", "paper:num_inference_steps=30"],
    ["demo", "--preset", "paper:num_inference_steps=30"],
    ["bench", "tedbench", "--data", "d", "--preset", "paper:num_inference_steps=30"],
    ["bench", "posedit", "--data", "d", "--preset", "paper:num_inference_steps=30"],
    ["bench", "speed", "--preset", "paper:num_inference_steps=30"],
    ["manifold", "plot", "--preset", "paper:num_inference_steps=30"],
])
def test_every_command_with_a_preset_takes_a_spec(argv):
    args = build_parser().parse_args(argv)
    assert resolve_preset(args).num_inference_steps == 30 and args.preset.name == "paper:num_inference_steps=30"


def test_f2f_edit_runs_and_records_a_spec(cat_path, tmp_path, capsys):
    from f2f_lab.cli import main

    out = tmp_path / "run"
    spec = "tiny:num_inference_steps=2,num_frames=9,selector=last"
    # The CLI's entry point in this process (tests/test_cli.py runs the command as a subprocess).
    code = main(["edit", str(cat_path), "A photo of a cat yawning.", "--preset", spec, "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    record = json.loads((out / "record.json").read_text())
    assert record["preset"]["name"] == spec
    assert record["video"]["num_inference_steps"] == 2 and record["video"]["num_frames"] == 9
    assert record["selection"]["selector"] == "last"


def test_f2f_bench_runs_and_records_a_spec(tmp_path, cat_path):
    import shutil

    from f2f_lab.cli import main

    data = tmp_path / "tedbench"
    (data / "originals").mkdir(parents=True)
    shutil.copy(cat_path, data / "originals" / "cat.jpg")
    (data / "input_list.json").write_text(json.dumps([{"img_name": "cat.jpg", "target_text": "A photo of a cat yawning."}]))
    spec = "tiny:num_inference_steps=2,num_frames=9,selector=last"
    out = tmp_path / "run"
    assert main(["bench", "tedbench", "--data", str(data), "--out", str(out), "--preset", spec, "--seeds", "1",
                 "--no-progress", "--light"]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["preset"] == spec and run["preset_fields"]["num_inference_steps"] == 2
    record = json.loads(next(out.glob("*/seed-0/record.json")).read_text())
    assert record["video"]["num_inference_steps"] == 2 and record["preset"]["name"] == spec


@pytest.mark.parametrize("cache", ["faster", "pab", "first_block"])
def test_a_cache_refuses_a_compiled_transformer(cache):
    Levers(cache=cache).check()
    with pytest.raises(F2FError, match="compiled transformer"):
        Levers(cache=cache, compile_transformer=True).check()
    with pytest.raises(F2FError, match="compiled transformer"):
        get_preset("turbo:compile_transformer=true").levers.check()


def test_openai_clip_gets_quick_gelu_under_either_spelling(monkeypatch):
    import open_clip

    from f2f_lab.clip import load_clip

    asked = []

    def record(name, **kwargs):
        asked.append((name, kwargs["force_quick_gelu"]))
        raise RuntimeError("stop here: no weights offline")

    monkeypatch.setattr(open_clip, "create_model_and_transforms", record)
    for name in ("ViT-B-32", "ViT-B/32"):
        with pytest.raises(F2FError):
            load_clip.__wrapped__(name, "openai", "cpu")
    assert asked == [("ViT-B-32", True), ("ViT-B/32", True)]
