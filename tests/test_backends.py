"""Every image-to-video backend: a tiny edit through the CLI, geometry, frame rules, records, experts."""

import json

import pytest
from PIL import Image

from f2f_lab import Frame2Frame
from f2f_lab.errors import F2FError
from f2f_lab.imaging import place_on_canvas
from f2f_lab.presets import PRESETS, get_preset
from f2f_lab.video import BACKENDS, get_backend

from f2f_lab.cli import main

from test_cli import f2f

NEW_BACKENDS = [key for key in BACKENDS if key != "cogvideox"]
TARGET = "A photo of a cat yawning."


@pytest.fixture(scope="module")
def editors():
    """One tiny editor per backend, built on first use (template captions, last-frame selection)."""
    built = {}

    def editor(key):
        if key not in built:
            built[key] = Frame2Frame.from_preset("tiny", video_backend=key, captioner="template", selector="last",
                                                 progress=False)
        return built[key]

    return editor


# --- the CLI, end to end --------------------------------------------------------------------

@pytest.mark.parametrize("key", NEW_BACKENDS)
def test_a_tiny_edit_runs_through_the_cli_and_records_the_backend(key, cat_path, tmp_path, capsys):
    out = tmp_path / key  # the CLI's entry point in this process (one interpreter start saved per backend)
    assert main(["edit", str(cat_path), TARGET, "--preset", "tiny", "--video-model", key, "--steps", "2",
                 "--out", str(out)]) == 0, capsys.readouterr().err
    record = json.loads((out / "record.json").read_text())
    backend = get_backend(key)
    video = record["video"]
    assert (video["backend"], video["hub_id"], video["model"], video["pipeline"]) == (key, backend.hub_id, "tiny", backend.pipeline)
    assert "revision" in video and video["scheduler"] and video["scheduler_config"]
    assert record["preset"]["video_backend"] == key and record["preset"]["name"] == f"tiny:video_backend={key}"
    # The numbers it ran with are the tiny stand-in's, and the record says so.
    assert video["num_frames"] == backend.tiny_frames and video["num_inference_steps"] == 2
    assert video["geometry"] == backend.geometry
    if key != "hunyuan1.5":  # HunyuanVideo 1.5 takes its size from its bucket, not from arguments
        assert (video["arguments"]["width"], video["arguments"]["height"]) == tuple(video["canvas"])
    assert video["arguments"]["num_frames"] == backend.tiny_frames
    if backend.negative_prompt:
        assert video["arguments"]["negative_prompt"] == backend.negative_prompt
    # The tiny preset's 4 tiles, evenly spaced and ending at the last frame.
    frames = backend.tiny_frames
    assert record["selection"]["tiles"] == [k * (frames - 1) // 4 for k in range(1, 5)]
    # The edit keeps the source's shape: the cat photo's aspect at 512 px on the longer side.
    source = Image.open(cat_path)
    edited = Image.open(out / "edited.png")
    assert max(edited.size) == 512
    assert abs(edited.width / edited.height - source.width / source.height) < 0.01


def test_models_lists_every_backend_with_its_hub_id():
    proc = f2f("models", "--markdown")
    assert proc.returncode == 0, proc.stderr
    for backend in BACKENDS.values():
        (row,) = [line for line in proc.stdout.splitlines() if f"`{backend.key}`" in line]
        assert backend.hub_id in row and backend.licence in row and f"{backend.frame_multiple}k+1" in row


# --- frame-count rules ---------------------------------------------------------------------

@pytest.mark.parametrize("key,frames", [("cogvideox1.5", 9), ("wan2.1-480p", 10), ("wan2.2-5b", 8),
                                        ("wan2.2-a14b", 11), ("hunyuan1.5", 7), ("ltx", 13)])
def test_an_invalid_frame_count_is_refused_before_any_model_loads(key, frames, cat_path, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["edit", str(cat_path), TARGET, "--preset", "tiny", "--video-model", key, "--frames", str(frames),
                 "--out", str(out)])
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error" in line]
    assert code == 2 and len(errors) == 1 and f"{get_backend(key).frame_multiple}k+1" in errors[0], err
    assert f"num_frames={frames}" in err and "Traceback" not in err
    assert "models ready" not in err and not out.exists()  # refused before anything loaded


@pytest.mark.parametrize("key", list(BACKENDS))
def test_each_frame_rule_accepts_its_own_counts_and_nothing_else(key):
    backend = get_backend(key)
    m = backend.frame_multiple
    for k in (1, 2, 3):
        backend.check_num_frames(m * k + 1)
    for bad in (1, m, m + 2, 2 * m):
        with pytest.raises(F2FError, match=f"{m}k\\+1"):
            backend.check_num_frames(bad)
    backend.check_num_frames(backend.num_frames)  # the card's own default obeys the rule


# --- geometry ------------------------------------------------------------------------------

SHAPES = {"square": (300, 300), "portrait": (240, 400), "panoramic": (640, 160)}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("key", ["wan2.2-5b", "ltx"])
def test_aspect_geometry_keeps_the_source_shape_within_the_budget(key, shape, editors):
    editor = editors(key)
    preset = editor.preset
    width, height = SHAPES[shape]
    canvas = editor.generator.canvas_for((width, height), geometry="aspect", canvas=preset.canvas)
    multiple = get_backend(key).size_multiple
    assert canvas[0] % multiple == 0 and canvas[1] % multiple == 0
    assert canvas[0] * canvas[1] <= preset.canvas[0] * preset.canvas[1]
    # Rounding down to the multiple moves the aspect ratio by less than one multiple per side.
    assert abs(canvas[0] / canvas[1] - width / height) <= (multiple / canvas[1]) * (1 + width / height)
    board, placement = place_on_canvas(Image.new("RGB", (width, height), (200, 30, 30)), canvas, "aspect")
    assert board.size == canvas and placement.box == (0, 0, *canvas)  # no bars
    out_w, out_h = placement.output_size(512)
    assert max(out_w, out_h) == 512 and abs(out_w / out_h - width / height) < 0.01


@pytest.mark.parametrize("shape", SHAPES)
def test_letterbox_geometry_puts_the_source_on_black_inside_the_canvas(shape, editors):
    editor = editors("wan2.1-480p")
    width, height = SHAPES[shape]
    canvas = editor.generator.canvas_for((width, height), geometry="letterbox", canvas=editor.preset.canvas)
    assert canvas == editor.preset.canvas
    board, placement = place_on_canvas(Image.new("RGB", (width, height), (200, 30, 30)), canvas, "letterbox")
    left, top, right, bottom = placement.box
    assert abs((right - left) / (bottom - top) - width / height) < 0.05
    if (right - left, bottom - top) != canvas:  # a bar, and it is black
        corner = (0, 0) if left > 0 or top > 0 else (canvas[0] - 1, canvas[1] - 1)
        assert board.getpixel(corner) == (0, 0, 0)


@pytest.mark.parametrize("geometry", ["letterbox", "aspect"])
@pytest.mark.parametrize("shape", ["portrait", "panoramic"])
def test_an_edit_comes_back_at_the_source_geometry_with_either_policy(geometry, shape, editors):
    editor = editors("wan2.2-5b")
    editor.preset = editor.preset.with_options(geometry=geometry)
    width, height = SHAPES[shape]
    result = editor.edit(Image.new("RGB", (width, height), (90, 140, 200)), TARGET, seed=0)
    assert result.record["video"]["geometry"] == geometry
    canvas = tuple(result.record["video"]["canvas"])
    if geometry == "letterbox":
        assert canvas == editor.preset.canvas
    else:
        assert (canvas[0] > canvas[1]) == (width > height)
    assert max(result.image.size) == 512
    assert abs(result.image.width / result.image.height - width / height) < 0.02


def cogvideox15_at_full_size():
    """A CogVideoX 1.5 generator over the published transformer config (sizes only; nothing runs)."""
    from types import SimpleNamespace

    from f2f_lab.stand_ins.video_configs import COGVIDEOX15_5B_I2V_TRANSFORMER
    from f2f_lab.video.cogvideox import CogVideoXGenerator

    pipe = SimpleNamespace(transformer=SimpleNamespace(config=SimpleNamespace(**COGVIDEOX15_5B_I2V_TRANSFORMER)),
                           vae_scale_factor_spatial=8)
    return CogVideoXGenerator(pipe, "THUDM/CogVideoX1.5-5B-I2V", "cpu", backend="cogvideox1.5")


# The card: Min(W, H) = 768, 768 <= Max(W, H) <= 1360, Max(W, H) % 16 = 0; letterboxed beyond 1360:768.
COGVIDEOX15_SIZES = {
    "landscape 16:9": ((1920, 1080), (1360, 768), False),
    "landscape 4:3": ((1024, 768), (1024, 768), False),
    "portrait 3:4": ((600, 800), (768, 1024), False),
    "portrait 9:16": ((1080, 1920), (768, 1360), False),
    "square": ((500, 500), (768, 768), False),
    "panoramic 21:9": ((2560, 1080), (1360, 768), True),
    "tall panoramic": ((400, 1600), (768, 1360), True),
}


@pytest.mark.parametrize("shape", COGVIDEOX15_SIZES)
def test_cogvideox15_takes_a_short_side_of_768_in_either_orientation(shape):
    source, expected, letterboxed = COGVIDEOX15_SIZES[shape]
    backend = get_backend("cogvideox1.5")
    canvas = cogvideox15_at_full_size().canvas_for(source, geometry="aspect", canvas=backend.canvas)
    assert tuple(canvas) == expected and min(canvas) == 768 and 768 <= max(canvas) <= 1360 and max(canvas) % 16 == 0
    board, placement = place_on_canvas(Image.new("RGB", source, (200, 30, 30)), canvas, "aspect")
    assert board.size == expected
    left, top, right, bottom = placement.box
    if letterboxed:  # bars on black, the source's aspect kept
        assert (right - left, bottom - top) != expected and board.getpixel((0, 0)) == (0, 0, 0)
        assert abs((right - left) / (bottom - top) - source[0] / source[1]) < 0.01
    else:  # filled: the aspect moved by rounding to 16 only
        assert placement.box == (0, 0, *expected)
        assert abs(expected[0] / expected[1] - source[0] / source[1]) <= 16 / 768 * (1 + source[0] / source[1])


def test_a_tiny_cogvideox15_edit_of_a_panorama_is_letterboxed_and_comes_back_whole(editors):
    editor = editors("cogvideox1.5")
    width, height = SHAPES["panoramic"]
    result = editor.edit(Image.new("RGB", (width, height), (90, 140, 200)), TARGET, seed=0)
    video = result.record["video"]
    assert tuple(video["canvas"]) == tuple(editor.preset.canvas) == (96, 64)  # the tiny canvas's largest landscape
    assert max(result.image.size) == 512 and abs(result.image.width / result.image.height - width / height) < 0.02


def test_the_fixed_size_paper_model_refuses_the_aspect_geometry(tiny_editor):
    with pytest.raises(F2FError, match="letterbox"):
        tiny_editor.generator.canvas_for((300, 200), geometry="aspect", canvas=(96, 64))


def test_hunyuan_generates_at_its_own_bucket_for_the_source_shape(editors):
    editor = editors("hunyuan1.5")
    portrait = editor.generator.canvas_for((240, 400), geometry="aspect", canvas=editor.preset.canvas)
    landscape = editor.generator.canvas_for((400, 240), geometry="aspect", canvas=editor.preset.canvas)
    assert portrait[1] > portrait[0] and landscape[0] > landscape[1]
    # The bucket is the pipeline's own choice for that shape, so it crops nothing unseen.
    pipe = editor.generator.pipe
    height, width = pipe.video_processor.calculate_default_height_width(height=400, width=240, target_size=pipe.target_size)
    assert portrait == (width, height)


# --- presets -------------------------------------------------------------------------------

@pytest.mark.parametrize("key", NEW_BACKENDS)
def test_each_backend_preset_takes_its_card_defaults_and_keeps_the_paper_pipeline(key):
    backend, preset, paper = get_backend(key), PRESETS[key], PRESETS["paper"]
    assert (preset.video_model, preset.canvas, preset.num_frames, preset.fps) == (backend.hub_id, backend.canvas,
                                                                                  backend.num_frames, backend.fps)
    assert (preset.num_inference_steps, preset.guidance_scale) == (backend.num_inference_steps, backend.guidance_scale)
    assert (preset.captioner, preset.selector, preset.num_tiles, preset.output_size) == (
        paper.captioner, paper.selector, paper.num_tiles, paper.output_size)


def test_the_paper_preset_is_still_the_papers():
    paper = PRESETS["paper"]
    assert (paper.video_backend, paper.video_model, paper.canvas, paper.geometry) == (
        "cogvideox", "THUDM/CogVideoX-5b-I2V", (720, 480), "letterbox")
    assert (paper.num_frames, paper.num_inference_steps, paper.guidance_scale, paper.num_tiles) == (49, 50, 6.0, 12)


def test_a_spec_applies_the_backend_first_and_then_its_other_fields():
    preset = get_preset("paper:num_inference_steps=12,video_backend=wan2.2-a14b")
    assert preset.video_model == BACKENDS["wan2.2-a14b"].hub_id and preset.num_inference_steps == 12
    assert preset.guidance_scale_2 == 3.5 and preset.geometry == "aspect"


# --- the two-expert Wan 2.2 ------------------------------------------------------------------

def test_the_two_expert_wan_switches_experts_at_its_boundary(editors):
    editor = editors("wan2.2-a14b")
    result = editor.edit(Image.new("RGB", (64, 64), (120, 60, 30)), TARGET, seed=0, num_inference_steps=8)
    experts = result.record["video"]["experts"]
    boundary = experts["boundary_timestep"]
    assert boundary == 0.9 * editor.generator.pipe.scheduler.config.num_train_timesteps
    steps = experts["steps"]
    assert len(steps) == 8
    assert all((expert == "high") == (timestep >= boundary) for timestep, expert in steps)
    assert experts["high_noise_steps"] >= 1 and experts["low_noise_steps"] >= 1
    # High noise first, then low: one switch, never back.
    names = [expert for _, expert in steps]
    assert names == sorted(names, key=lambda e: e != "high")
    assert result.record["video"]["arguments"]["guidance_scale_2"] == editor.preset.guidance_scale_2


# --- what the hub's folders hold cannot be checked here: the record says what ran ------------

def test_wan22_a14b_runs_with_the_authors_shift_and_records_the_hubs(editors):
    from diffusers import UniPCMultistepScheduler

    from f2f_lab.video.backends import WAN_NEGATIVE_PROMPT, WAN_NEGATIVE_PROMPT_AUTHORS
    from f2f_lab.video.wan import WanGenerator

    pipe = editors("wan2.2-a14b").generator.pipe
    tiny_scheduler = pipe.scheduler
    try:
        # The hub folder as diffusers' conversion wrote it for I2V: UniPC with flow_shift 3.0.
        pipe.scheduler = UniPCMultistepScheduler.from_config(tiny_scheduler.config, flow_shift=3.0)
        generator = WanGenerator(pipe, "tiny", "cpu", backend="wan2.2-a14b")
        image = Image.new("RGB", (64, 64), (120, 60, 30))
        card = generator(image, TARGET, num_frames=5, num_inference_steps=4).record
        assert card["flow_shift"] == {"choice": "card", "hub": 3.0, "card": 5.0, "used": 5.0, "config_key": "flow_shift"}
        assert card["scheduler_config"]["flow_shift"] == 5.0 and card["negative_prompt_choice"] == "english"
        assert card["arguments"]["negative_prompt"] == WAN_NEGATIVE_PROMPT

        generator.configure(flow_shift="hub", negative_prompt="authors")
        hub = generator(image, TARGET, num_frames=5, num_inference_steps=4).record
        assert hub["flow_shift"]["used"] == hub["scheduler_config"]["flow_shift"] == 3.0
        assert hub["arguments"]["negative_prompt"] == WAN_NEGATIVE_PROMPT_AUTHORS and hub["negative_prompt_choice"] == "authors"
        # The shift is what ran: the denoising timesteps differ.
        assert [t for t, _ in card["experts"]["steps"]] != [t for t, _ in hub["experts"]["steps"]]
        with pytest.raises(F2FError, match="card, hub"):
            generator.configure(flow_shift="5")
    finally:
        pipe.scheduler = tiny_scheduler


def test_ltx_sets_decode_noise_only_for_a_timestep_conditioned_vae(editors):
    generator = editors("ltx").generator
    vae_config = generator.pipe.vae.config
    assert vae_config.timestep_conditioning  # the tiny stand-in's VAE, as LTX-Video 0.9.1 and later
    image = Image.new("RGB", (96, 64), (120, 60, 30))
    record = generator(image, TARGET, num_frames=9, num_inference_steps=2).record
    assert (record["arguments"]["decode_timestep"], record["arguments"]["decode_noise_scale"]) == (0.05, 0.025)
    assert record["decode_noise"] == {"vae_timestep_conditioning": True, "decode_timestep": 0.05,
                                      "decode_noise_scale": 0.025}
    try:
        generator.pipe.vae.register_to_config(timestep_conditioning=False)  # a 0.9.0-style VAE
        arguments = generator.pipeline_arguments(image, TARGET, num_frames=9, num_inference_steps=1, guidance_scale=3.0)
        assert "decode_timestep" not in arguments and "decode_noise_scale" not in arguments
        assert generator.run_record(arguments)["decode_noise"] == {
            "vae_timestep_conditioning": False, "decode_timestep": None, "decode_noise_scale": None}
    finally:
        generator.pipe.vae.register_to_config(timestep_conditioning=True)


def test_too_few_steps_for_a_scheduler_are_refused_before_loading():
    """LTX's flow-match scheduler (terminal shift) fails inside the first step when given one step;
    the preset check refuses it with the fewest it runs, before any model is built."""
    with pytest.raises(F2FError, match="at least 2 steps"):
        Frame2Frame.from_preset("tiny", video_backend="ltx", num_inference_steps=1, generator=object(),
                                captioner="template", selector="last")
    for key, backend in BACKENDS.items():
        backend.check_steps(max(backend.min_steps, 1))
