"""The speed harness (f2f bench speed), the FLOP count, the full-size architecture, and the
speed/memory levers and presets. Nothing here checks a timing: only shapes, settings, and that
each lever is really in place and keeps the outputs it promises to keep."""

import argparse
import json

import numpy as np
import pytest
from PIL import Image

from f2f_lab import F2FError
from f2f_lab.bench import speed
from f2f_lab.presets import PRESETS
from f2f_lab.video import CogVideoXGenerator, Levers, SDPAKernelProcessor, apply_levers

CANVAS = PRESETS["tiny"].canvas
FRAMES, STEPS = 9, 3


def tiny_generator(levers: Levers | None = None, *, compile_backend: str = "inductor") -> CogVideoXGenerator:
    """A fresh tiny generator (levers change the pipeline in place) with `levers` applied."""
    plain = CogVideoXGenerator.from_pretrained("tiny", canvas=CANVAS, device="cpu", progress=False)
    if levers is not None:
        apply_levers(plain.pipe, levers, device="cpu", compile_backend=compile_backend)
        plain.levers = levers
    return plain


def frames_of(generator: CogVideoXGenerator, seed: int = 0) -> np.ndarray:
    image = Image.new("RGB", CANVAS, (150, 90, 40))
    video = generator(image, "a cat slowly yawns", num_frames=FRAMES, num_inference_steps=STEPS, seed=seed)
    return np.stack([np.asarray(frame, dtype=np.int16) for frame in video.frames])


@pytest.fixture(scope="module")
def plain_frames() -> np.ndarray:
    return frames_of(tiny_generator())


# -- FLOPs and the full-size architecture ------------------------------------------------------

def test_flop_formula_gives_the_issues_floor_for_the_real_5b_config():
    flops = speed.denoiser_flops(speed.COGVIDEOX_5B_I2V_TRANSFORMER, num_frames=49, height=480, width=720)
    assert flops.tokens == 17_776  # 13 latent frames x 30 x 45 patches + 226 text tokens
    assert flops.per_forward == pytest.approx(3.3e14, rel=0.02)
    assert flops.linear == pytest.approx(1.7e14, rel=0.03)
    assert flops.attention == pytest.approx(1.6e14, rel=0.03)
    edit_seconds_at_floor = flops.per_forward * 2 * 50 / (speed.FLOOR_TFLOPS * 1e12)  # guidance doubles each step
    assert 39 < edit_seconds_at_floor < 43  # "about 40 s"


def test_flop_formula_agrees_with_torch_flop_counter_on_the_tiny_transformer():
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    transformer = tiny_generator().pipe.transformer
    config = dict(transformer.config)
    frames = 17
    latent_frames = (frames - 1) // 4 + 1
    height, width = config["sample_height"], config["sample_width"]
    inputs = dict(
        hidden_states=torch.randn(1, latent_frames, config["in_channels"], height, width),
        encoder_hidden_states=torch.randn(1, config["max_text_seq_length"], config["text_embed_dim"]),
        timestep=torch.tensor([500]),
        image_rotary_emb=None,
    )
    # The math attention kernel is made of matmuls the counter sees (the fused CPU kernel is not counted).
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        transformer(**inputs, return_dict=False)
    counted = speed.denoiser_flops(config, num_frames=frames, height=height * 8, width=width * 8)
    # The formula leaves out the timestep MLP and the norms' modulation (tiny next to tokens x width^2).
    assert counted.per_forward == pytest.approx(counter.get_total_flops(), rel=0.01)
    attention = sum(v for op, v in counter.get_flop_counts()["Global"].items() if "bmm" in str(op))
    assert counted.attention == pytest.approx(attention, rel=0.01)


def test_full_size_architecture_builds_on_meta_with_the_published_sizes():
    modules = speed.cogvideox_i2v_modules()  # the published 5B I2V configurations
    counts = {name: sum(p.numel() for p in module.parameters()) for name, module in modules.items()}
    assert all(p.is_meta for module in modules.values() for p in module.parameters())
    assert 5.0e9 < counts["transformer"] < 6.0e9  # "5B"
    assert 4.6e9 < counts["text_encoder"] < 4.9e9  # T5 v1.1 XXL's encoder, about 4.8B
    assert 1e8 < counts["vae"] < 5e8
    config = modules["transformer"].config
    assert (config.num_attention_heads, config.attention_head_dim, config.num_layers) == (48, 64, 42)
    assert (config.in_channels, config.out_channels, config.max_text_seq_length) == (32, 16, 226)
    assert (config.sample_height, config.sample_width, config.sample_frames) == (60, 90, 49)
    assert config.use_rotary_positional_embeddings and config.use_learned_positional_embeddings
    assert modules["vae"].config.latent_channels == 16


def test_random_weight_pipeline_materialises_and_generates_at_a_small_size():
    # The code path of --random-weights full (meta build, storage on the device, random
    # values, tied T5 embedding), with small configurations so that it runs on a CPU.
    import torch

    width, height = CANVAS
    pipe = speed.random_cogvideox_i2v(
        device="cpu", dtype=torch.float32, seed=0,
        transformer_config={**speed.COGVIDEOX_5B_I2V_TRANSFORMER, "num_attention_heads": 2, "attention_head_dim": 16,
                            "num_layers": 1, "time_embed_dim": 16, "text_embed_dim": 32, "max_text_seq_length": 16,
                            "sample_width": width // 8, "sample_height": height // 8},
        vae_config={**speed.COGVIDEOX_5B_I2V_VAE, "block_out_channels": (8, 8, 8, 8), "latent_channels": 16,
                    "layers_per_block": 1, "norm_num_groups": 2},
        text_encoder_config={**speed.T5_V1_1_XXL_ENCODER, "d_model": 32, "d_kv": 8, "d_ff": 64, "num_layers": 1, "num_heads": 4},
    )
    encoder = pipe.text_encoder
    assert encoder.shared.weight is encoder.encoder.embed_tokens.weight
    assert not any(p.is_meta for p in pipe.transformer.parameters())
    assert 0.01 < float(pipe.transformer.proj_out.weight.detach().std()) < 0.03  # N(0, 0.02)
    generator = CogVideoXGenerator(pipe, model_id="random", device="cpu")
    frames = frames_of(generator)
    assert frames.shape[0] == FRAMES


def test_random_full_size_weights_need_a_gpu():
    with pytest.raises(F2FError, match="GPU"):
        speed.measure_speed("paper", random_weights="full", device="cpu", progress=False)


# -- The harness ----------------------------------------------------------------------------

def test_harness_times_every_stage_of_a_tiny_edit():
    report = speed.measure_speed("tiny", num_frames=FRAMES, num_inference_steps=STEPS, repeat=2, warmup=1, progress=False)
    data = json.loads(json.dumps(report.to_dict()))  # what --json writes
    assert data["kind"] == "f2f_speed" and data["preset"] == "tiny"
    assert set(data["stages"]) == set(speed.STAGES)
    assert set(data["totals"]) == set(speed.TOTALS)
    assert len(data["repeats"]) == 2 and len(data["step_seconds"]) == STEPS
    for stage in ("text_encoding", "image_encoding", "denoising", "vae_decode", "selection", "metrics"):
        assert data["stages"][stage] > 0, stage
    for run in data["repeats"]:  # the video's pieces add up to the video stage
        pieces = sum(run[k] for k in ("text_encoding", "image_encoding", "denoising", "vae_decode", "postprocess", "video_other"))
        assert pieces == pytest.approx(run["video"], rel=1e-6)
        assert run["edit"] >= run["video"] and run["steps"] == STEPS
    assert data["flops"]["total"] == pytest.approx(data["flops"]["per_forward"] * 2 * STEPS)
    assert data["flops"]["achieved_tflops"] > 0 and data["flops"]["fraction_of_floor"] is None  # not an H100
    assert data["memory"]["peak_bytes"] > 0 and "denoising" in data["memory"]["per_stage"]
    assert data["device"]["device"] == "cpu" and {"torch", "diffusers"} <= set(data["versions"])
    assert data["settings"]["num_frames"] == FRAMES and data["settings"]["tiny_models"]
    assert any("TINY" in note for note in data["notes"])
    assert "denoising" in report.table() and "TFLOP/s" in report.table()


def test_stage_clock_leaves_the_pipeline_as_it_found_it():
    pipe = tiny_generator().pipe
    with speed.StageClock(pipe, "cpu"):
        assert "encode_prompt" in vars(pipe) and "decode" in vars(pipe.vae) and "step" in vars(pipe.scheduler)
    assert "encode_prompt" not in vars(pipe) and "decode" not in vars(pipe.vae) and "step" not in vars(pipe.scheduler)
    assert "postprocess_video" not in vars(pipe.video_processor)


def test_cli_compares_two_configurations_with_their_ratio(tmp_path, capsys):
    out = tmp_path / "speed.json"
    code = speed.main(["--preset", "tiny", "--compare", "tiny", "--frames", str(FRAMES), "--steps", "2",
                       "--repeat", "1", "--warmup", "0", "--no-metrics", "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "as fast as" in printed and "tiny/tiny" in printed
    data = json.loads(out.read_text())
    assert data["kind"] == "f2f_speed_compare" and data["a"]["preset"] == data["b"]["preset"] == "tiny"
    assert set(speed.STAGES + speed.TOTALS) <= set(data["ratios"]) and data["speedup"] > 0
    assert data["a"]["stages"]["metrics"] is None
    assert data["a"]["flops"]["tokens"] > 0 and data["b"]["memory"]["peak_bytes"] > 0  # survives the JSON writer
    # Same preset, same seed: the two videos are the same video.
    assert data["output_difference"]["max_abs"] == 0 and data["output_difference"]["comparable"]


def test_speed_registers_as_a_bench_subcommand():
    parser = argparse.ArgumentParser(prog="f2f bench")
    speed.add_speed_command(parser.add_subparsers(dest="bench_command"))
    args = parser.parse_args(["speed", "--preset", "fast", "--compare", "paper", "--steps", "20", "--random-weights", "full"])
    assert args.handler is speed.run_speed_command
    assert (args.preset, args.compare, args.num_inference_steps, args.random_weights) == ("fast", "paper", 20, "full")


def test_a_configuration_is_a_preset_with_fields_changed():
    changed = speed.preset_from_spec("paper:attention_backend=flash,fuse_qkv=true,cache=none,num_inference_steps=20")
    assert changed.name == "paper:attention_backend=flash,fuse_qkv=true,cache=none,num_inference_steps=20"
    assert (changed.attention_backend, changed.fuse_qkv, changed.cache, changed.num_inference_steps) == ("flash", True, None, 20)
    assert changed.num_frames == PRESETS["paper"].num_frames
    with pytest.raises(F2FError, match="Preset field"):
        speed.preset_from_spec("paper:warp_speed=9")


def test_a_lever_that_needs_a_gpu_fails_clearly_on_tiny_models():
    with pytest.raises(F2FError, match="CUDA"):
        speed.measure_speed("lowvram", tiny_models=True, device="cpu", progress=False)


# -- Presets --------------------------------------------------------------------------------

LEVER_FIELDS = {"fuse_qkv", "attention_backend", "compile_transformer", "cudnn_benchmark", "cache",
                "offload", "offload_mode", "vae_tiling", "vae_slicing"}


def differences(name: str) -> dict:
    paper, other = PRESETS["paper"].to_dict(), PRESETS[name].to_dict()
    return {k: v for k, v in other.items() if v != paper[k] and k != "name"}


def test_paper_preset_is_plain_diffusers():
    assert Levers.from_preset(PRESETS["paper"]) == Levers()
    assert Levers.from_preset(PRESETS["paper"]).active() == {}


def test_fast_keeps_the_papers_numbers_and_changes_only_exact_levers():
    changed = differences("fast")
    assert set(changed) <= LEVER_FIELDS - {"cache", "offload", "offload_mode"}
    assert changed["compile_transformer"] and changed["fuse_qkv"] and changed["attention_backend"]


def test_turbo_is_approximate_with_fewer_steps_and_a_cache():
    changed = differences("turbo")
    assert set(changed) <= LEVER_FIELDS | {"num_inference_steps"}
    assert changed["cache"] in ("faster", "pab", "first_block")
    assert changed["num_inference_steps"] < PRESETS["paper"].num_inference_steps


def test_lowvram_keeps_the_papers_numbers_and_offloads():
    changed = differences("lowvram")
    assert set(changed) <= LEVER_FIELDS - {"cache", "compile_transformer"}
    assert changed["offload"] and changed["vae_tiling"]


@pytest.mark.parametrize("name", ["paper", "fast", "turbo", "lowvram"])
def test_every_preset_has_valid_levers(name):
    Levers.from_preset(PRESETS[name]).check()


# -- Each lever, on the tiny pipeline -----------------------------------------------------------

def test_fused_qkv_applies_and_keeps_the_outputs(plain_frames):
    from diffusers.models.attention_processor import FusedCogVideoXAttnProcessor2_0

    generator = tiny_generator(Levers(fuse_qkv=True))
    attention = generator.pipe.transformer.transformer_blocks[0].attn1
    assert isinstance(attention.processor, FusedCogVideoXAttnProcessor2_0) and hasattr(attention, "to_qkv")
    assert np.abs(frames_of(generator) - plain_frames).max() <= 1


def test_fast_levers_compose_trace_as_whole_blocks_and_keep_the_outputs(plain_frames):
    # The fast preset's levers; torch.compile traces with fullgraph=True (a graph break would
    # raise), on the "eager" backend so the test does not wait for code generation.
    levers = Levers.from_preset(PRESETS["fast"])
    generator = tiny_generator(levers, compile_backend="eager")
    transformer = generator.pipe.transformer
    processor = transformer.transformer_blocks[0].attn1.processor
    assert isinstance(processor, SDPAKernelProcessor) and processor.backend == "cudnn"
    assert all(block._compiled_call_impl is not None for block in transformer.transformer_blocks)
    assert np.abs(frames_of(generator) - plain_frames).max() <= 1
    assert generator(Image.new("RGB", CANVAS), "x", num_frames=FRAMES, num_inference_steps=1).record["levers"]["fuse_qkv"]


@pytest.mark.parametrize("cache", ["faster", "pab"])
def test_cache_hooks_register_and_reset_between_videos(cache):
    generator = tiny_generator(Levers(cache=cache))
    transformer = generator.pipe.transformer
    assert transformer.is_cache_enabled
    hooked = [name for name, module in transformer.named_modules() if getattr(module, "_diffusers_hook", None) and module._diffusers_hook.hooks]
    assert "transformer_blocks.0.attn1" in hooked
    # The pipeline resets the cache after each video: the same seed gives the same video twice.
    assert np.array_equal(frames_of(generator), frames_of(generator))


def test_first_block_cache_registers_on_a_two_block_transformer():
    from diffusers import CogVideoXTransformer3DModel

    generator = tiny_generator()
    pipe = generator.pipe
    pipe.transformer = CogVideoXTransformer3DModel.from_config({**pipe.transformer.config, "num_layers": 2})
    apply_levers(pipe, Levers(cache="first_block"), device="cpu")
    assert pipe.transformer.is_cache_enabled
    assert "fbc_leader_block_hook" in pipe.transformer.transformer_blocks[0]._diffusers_hook.hooks
    assert frames_of(generator).shape[0] == FRAMES


def test_first_block_cache_refuses_a_single_block():
    with pytest.raises(F2FError, match="2 blocks"):
        tiny_generator(Levers(cache="first_block"))


def test_vae_tiling_and_slicing_apply(plain_frames):
    generator = tiny_generator(Levers(vae_tiling=True, vae_slicing=True))
    assert generator.pipe.vae.use_tiling and generator.pipe.vae.use_slicing
    # The tiny canvas is smaller than one tile, so the video is the same.
    assert np.abs(frames_of(generator) - plain_frames).max() <= 1


@pytest.mark.parametrize(
    "levers, message",
    [
        (Levers(offload=True), "CUDA"),
        (Levers(attention_backend="fastest"), "attention backend"),
        (Levers(cache="teacache"), "cache"),
        (Levers(offload=True, offload_mode="disk"), "offload mode"),
        (Levers(offload=True, offload_mode="sequential", compile_transformer=True), "Sequential offload"),
    ],
)
def test_bad_lever_settings_fail_before_loading(levers, message):
    with pytest.raises(F2FError, match=message):
        CogVideoXGenerator.from_pretrained("no/such-model", device="cpu", levers=levers)
