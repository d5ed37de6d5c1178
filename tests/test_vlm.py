"""The VLM client against a real HTTP server on 127.0.0.1, and the CLI with both VLM stages."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from f2f_lab.errors import F2FError
from f2f_lab.records import write_json_atomic
from f2f_lab.vlm import (
    LOCAL_PLACEHOLDER_KEY, VLMClient, VLMError, decode_data_url, image_data_url, public_url, user_turn,
)
from openai_server import Reply, error, openai_server, stall



@pytest.fixture
def no_vlm_env(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def ramp_image(width, height):
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :].repeat(height, 0)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None].repeat(width, 1)
    return Image.fromarray(np.stack([x, y, 255 - x], -1).astype(np.uint8))


# --- configuration -----------------------------------------------------------------------

def test_no_key_and_no_base_url_stops_at_construction_and_names_the_way_out(no_vlm_env):
    from f2f_lab.captions import make_captioner
    from f2f_lab.selection import make_selector

    for build in (VLMClient, lambda: make_captioner("vlm", model="gpt-4o"), lambda: make_selector("vlm")):
        with pytest.raises(F2FError) as caught:
            build()
        message = str(caught.value)
        assert "OPENAI_API_KEY" in message and "OPENAI_BASE_URL" in message
        assert "--captioner template --selector clip" in message


def test_paper_preset_without_a_vlm_fails_before_loading_the_video_model(no_vlm_env):
    from f2f_lab import Frame2Frame

    with pytest.raises(F2FError, match="OPENAI_API_KEY"):
        Frame2Frame.from_preset("paper")  # CogVideoX-5B cannot load offline: reaching it would fail differently


def test_cli_without_a_vlm_prints_one_line_and_exits_2(no_vlm_env, tmp_path, capsys, cat_path):
    from f2f_lab.cli import main

    assert main(["edit", str(cat_path), "A photo of a cat yawning.", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error" in line]  # the one-error-line check of test_cli
    assert len(errors) == 1, err
    assert "OPENAI_API_KEY" in errors[0] and "--captioner template --selector clip" in errors[0], err


def test_local_server_needs_no_key_and_gets_a_placeholder(no_vlm_env):
    with openai_server("hello") as server:
        reply = VLMClient(base_url=server.base_url).chat([user_turn("hi")])
    assert reply.text == "hello"
    request = server.requests[0]
    assert request.headers["authorization"] == f"Bearer {LOCAL_PLACEHOLDER_KEY}"
    assert request.model == "gpt-4o"  # the paper's VLM by default
    assert request.path == "/v1/chat/completions"


def test_base_url_and_key_come_from_the_environment(monkeypatch):
    with openai_server("hello") as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
        VLMClient("my-vlm").chat([user_turn("hi")])
    assert server.requests[0].headers["authorization"] == "Bearer sk-from-env"
    assert server.requests[0].model == "my-vlm"


def fake_key() -> str:
    return "-".join(["sk", "test", "0123456789", "secret"])  # built at run time: no key-like text in the repo


def files_holding(folder: Path, secret: str) -> list[str]:
    """Every file under `folder` whose bytes contain `secret`."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes())


def vlm_answers(caption: str, tile: int):
    """A server script by request: the caption request gets `caption`, the selection request the tile."""
    def answer(request):
        return f"The selected edit is: {tile}" if "collage" in " ".join(request.texts()) else caption
    return answer


def test_key_is_sent_but_never_recorded(no_vlm_env, tmp_path):
    secret = fake_key()
    with openai_server(Reply("ok", prompt_tokens=123, completion_tokens=7)) as server:
        client = VLMClient("gpt-4o", api_key=secret, base_url=server.base_url)
        reply = client.chat([user_turn("hi")])
    assert server.requests[0].headers["authorization"] == f"Bearer {secret}"
    # The caller's options, key and all, as a run records them: the record writer must drop the key.
    options = {"vlm_options": {"api_key": secret, "base_url": server.base_url}, "hf_token": secret}
    written = write_json_atomic(tmp_path / "record.json", {"client": client.describe(), "call": reply.record,
                                                           "options": options})
    text = written.read_text()
    assert secret not in text
    saved = json.loads(text)
    assert saved["options"] == {"vlm_options": {"base_url": server.base_url}}  # only the secrets are gone
    # token counts survive the record writer's secret filter
    assert saved["call"]["usage"] == {"prompt": 123, "completion": 7, "total": 130}
    assert saved["call"]["model"] == "gpt-4o" and saved["call"]["served_model"] == "gpt-4o"
    assert saved["call"]["latency_s"] >= 0
    assert saved["client"]["base_url"] == server.base_url


def test_an_edit_saved_with_a_key_in_its_options_writes_the_key_nowhere(no_vlm_env, tmp_path, cat_path):
    from f2f_lab import Frame2Frame

    secret = fake_key()
    with openai_server(default=vlm_answers("The cat slowly yawns.", 1)) as server:
        editor = Frame2Frame.from_preset("tiny", captioner="vlm", selector="vlm", num_frames=9, num_inference_steps=1,
                                         vlm_options={"api_key": secret, "base_url": server.base_url}, progress=False)
        result = editor.edit(cat_path, "A photo of a cat yawning.", seed=0)
    assert [r.headers["authorization"] for r in server.requests] == [f"Bearer {secret}"] * 2  # the key was used ...
    # The tiny preset's 4 tiles of 9 frames are frames 2, 4, 6, 8: the VLM's tile 1 is frame 2.
    assert result.caption == "The cat slowly yawns." and result.tile_indices == [2, 4, 6, 8] and result.index == 2
    # ... and a caller that records the options it built the editor with hands the key to save()
    result.record["editor_options"] = {"vlm_options": {"api_key": secret, "base_url": server.base_url}}
    out = result.save(tmp_path / "run")
    assert files_holding(tmp_path, secret) == []
    assert json.loads((out / "record.json").read_text())["editor_options"] == {"vlm_options": {"base_url": server.base_url}}


def test_a_benchmark_run_with_a_key_in_its_editor_options_writes_the_key_nowhere(no_vlm_env, tmp_path, cat_path):
    from f2f_lab.bench.runner import ProcessSlot, collect_records, run_benchmark
    from f2f_lab.bench.tasks import BenchTask
    from f2f_lab.metrics import Scorer

    secret = fake_key()
    out = tmp_path / "bench"
    tasks = [BenchTask(id="000_cat", source=cat_path, target_text="A photo of a cat yawning.")]
    with openai_server(default=vlm_answers("The cat slowly yawns.", 2)) as server:
        options = {"captioner": "vlm", "selector": "vlm", "num_frames": 9, "num_inference_steps": 1, "progress": False,
                   "vlm_options": {"api_key": secret, "base_url": server.base_url}}
        summary = run_benchmark(tasks, out, benchmark="tedbench", preset="tiny", seeds=[0], editor_options=options,
                                scorer=Scorer.from_preset("tiny", size=64), slot=ProcessSlot(), progress=False)
    assert summary.computed == 1 and summary.all_done
    assert {r.headers["authorization"] for r in server.requests} == {f"Bearer {secret}"}  # built with the key
    assert collect_records(out)["000_cat"][0]["selection"]["index"] == 4  # tile 2 of frames 2, 4, 6, 8
    run = json.loads((out / "run.json").read_text())
    assert run["editor_options"]["vlm_options"] == {"base_url": server.base_url}  # recorded, less the key
    assert files_holding(out, secret) == []


def test_urls_in_records_lose_credentials_and_queries():
    assert public_url("https://user:sk-abc@example.org:8443/v1?key=sk-abc#x") == "https://example.org:8443/v1"


# --- images ------------------------------------------------------------------------------

def test_png_data_url_is_lossless_and_jpeg_keeps_the_size():
    image = ramp_image(40, 30)
    png = decode_data_url(image_data_url(image, image_format="PNG"))
    assert png.format == "PNG" and np.array_equal(np.asarray(png.convert("RGB")), np.asarray(image))
    url = image_data_url(image)
    assert url.startswith("data:image/jpeg;base64,")
    jpeg = decode_data_url(url)
    assert jpeg.size == (40, 30)
    assert np.abs(np.asarray(jpeg, dtype=int) - np.asarray(image, dtype=int)).mean() < 4


def test_max_side_shrinks_large_images_only():
    assert decode_data_url(image_data_url(ramp_image(1600, 1000), max_side=768)).size == (768, 480)
    assert decode_data_url(image_data_url(ramp_image(300, 200), max_side=768)).size == (300, 200)


def test_images_reach_the_server_as_data_urls(no_vlm_env):
    with openai_server("ok") as server:
        VLMClient(base_url=server.base_url).chat([user_turn("look", [ramp_image(64, 48), ramp_image(20, 30)])])
    request = server.requests[0]
    assert request.texts() == ["look"]
    assert [im.size for im in request.images()] == [(64, 48), (20, 30)]


# --- failures ----------------------------------------------------------------------------

def test_server_errors_are_retried_with_the_clients_backoff(no_vlm_env):
    fast_retry = {"retry-after-ms": "20"}  # the openai client honours it; keeps the test fast
    script = [Reply("busy", status=500, headers=fast_retry), Reply("busy", status=503, headers=fast_retry), "fine"]
    with openai_server(*script) as server:
        reply = VLMClient(base_url=server.base_url, max_retries=2).chat([user_turn("hi")])
    assert reply.text == "fine" and len(server.requests) == 3


def test_http_errors_become_one_clear_vlm_error(no_vlm_env):
    with openai_server(error(500, "model crashed"), error(404, "no such model")) as server:
        client = VLMClient(base_url=server.base_url, max_retries=0)
        with pytest.raises(VLMError, match="HTTP 500: model crashed"):
            client.chat([user_turn("hi")])
        with pytest.raises(VLMError, match="--vlm-model"):
            client.chat([user_turn("hi")])


def test_a_stalled_server_times_out(no_vlm_env):
    with openai_server(stall(10.0, "too late")) as server:
        client = VLMClient(base_url=server.base_url, timeout=0.3, max_retries=0)
        start = time.perf_counter()
        with pytest.raises(VLMError, match="did not answer within 0.3 s"):
            client.chat([user_turn("hi")])
        assert time.perf_counter() - start < 9  # it gave up: the server would have answered after 10 s


def test_an_unreachable_server_says_so(no_vlm_env):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens there
    with pytest.raises(VLMError, match="Could not reach"):
        VLMClient(base_url=f"http://127.0.0.1:{port}/v1", max_retries=0, timeout=5).chat([user_turn("hi")])


# --- the whole command -------------------------------------------------------------------

def test_cli_edit_runs_both_vlm_stages_against_a_local_server(tmp_path, cat_path):
    from f2f_lab.imaging import collage

    caption = "The cat slowly opens its mouth wide in a big yawn."
    with openai_server(f'Caption: "{caption}"', "After looking at all tiles: **The selected edit is: 2**.") as server:
        f2f = Path(sys.executable).with_name("f2f")
        command = [str(f2f)] if f2f.exists() else [sys.executable, "-m", "f2f_lab.cli"]
        env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
        proc = subprocess.run(
            command + ["edit", str(cat_path), "A photo of a cat yawning.", "--preset", "tiny", "--frames", "9", "--steps", "1",
                       "--captioner", "vlm", "--selector", "vlm", "--vlm-model", "qwen2.5-vl-test",
                       "--vlm-base-url", server.base_url, "--out", str(tmp_path / "run")],
            capture_output=True, text=True, timeout=300, env=env,
        )
    assert proc.returncode == 0, proc.stderr
    assert "frame 4 of 9" in proc.stdout  # tile 2 of the tiny preset's 4 tiles (frames 2, 4, 6, 8)

    caption_request, selection_request = server.requests
    assert caption_request.model == selection_request.model == "qwen2.5-vl-test"
    assert len(caption_request.messages) == 2 * 9 + 1  # the paper's nine in-context examples, then the request
    assert len(selection_request.messages) == 1
    # 9 frames -> 4 tiles (frames 2, 4, 6, 8), 512x512 each, under the 512x512 source
    blank = Image.new("RGB", (512, 512))
    assert selection_request.images()[0].size == collage(blank, [blank] * 4).size
    assert "collage of 4 edited versions" in selection_request.texts()[0]

    record = json.loads((tmp_path / "run" / "record.json").read_text())
    assert record["caption"]["text"] == caption and record["caption"]["captioner"] == "vlm"
    assert record["video"]["num_inference_steps"] == 1
    selection = record["selection"]
    assert (selection["index"], selection["tile"], selection["selector"]) == (4, 2, "vlm")
    assert selection["fallback"] is None and selection["calls"][0]["usage"]["total"] > 0
    assert record["caption"]["call"]["model"] == "qwen2.5-vl-test"
    assert LOCAL_PLACEHOLDER_KEY not in (tmp_path / "run" / "record.json").read_text()
