"""The GPU check's CPU rehearsal (issues 16, 25): the two documented commands (`gpu_check.PAPER_PATH`, then
`gpu_check.THE_REST`) at `--size tiny` write every chosen item, and nothing else, into one results file;
a spent budget stops cleanly with what was done; the full-size configurations have the published sizes
and their builds never hold more than the loaded weights. (CogVideoX-5B I2V's own count is
`test_speed.py`'s test_full_size_architecture_builds_on_meta_with_the_published_sizes.)"""

import json
import time
from pathlib import Path

import pytest

from f2f_lab import cli
from f2f_lab.errors import F2FError
from f2f_lab.gpu_check import ITEMS, PAPER_PATH, THE_REST, backend_items, run_gpu_check, select_items
from f2f_lab.gpu_check.core import RESULTS_FILE, Budget, Check, ItemSpec, run_items

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest: the big models run on one thread here

DEVICE_FILES = 8  # at most this many files come back from a GPU run (the device README), the log among them
ITEM_KEYS = {"kind": str, "item": str, "number": int, "title": str, "status": str, "size": str, "command": str,
             "device": dict, "versions": dict, "started_at": str, "seconds": float, "budget": dict, "steps_timed": int,
             "runs": list, "results": dict, "errors": list, "skipped": list, "notes": list}
RUN_KEYS = {"name": str, "status": str, "seconds": float, "steps_timed": int, "stages": dict, "peak_memory": dict}


def check_item_schema(data: dict) -> None:
    for key, kind in ITEM_KEYS.items():
        assert isinstance(data[key], kind), (data["item"], key)
    assert data["kind"] == "f2f_gpu_check"
    assert {"torch", "diffusers"} <= set(data["versions"])
    assert data["device"]["device"] and data["device"]["name"]
    for run in data["runs"]:
        for key, kind in RUN_KEYS.items():
            assert isinstance(run[key], kind), (data["item"], run["name"], key)
        assert all(isinstance(v, float) for v in run["stages"].values())
        assert all(isinstance(v, int) for v in run["peak_memory"].values())
    for error in data["errors"]:
        assert {"where", "type", "message", "traceback"} <= set(error) and "Traceback" in error["traceback"]
    for skipped in data["skipped"]:
        assert skipped["what"] and skipped["reason"]


def read_results(out: Path) -> dict:
    return json.loads((out / RESULTS_FILE).read_text())


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory):
    """The two documented GPU commands at --size tiny, back to back, each into its own folder, as the device
    runs them (each with its log, as the documented command tees it): {"paper": (out, stdout), "rest": ...}."""
    import contextlib
    import io

    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    runs = {}
    try:
        for name, items in (("paper", PAPER_PATH), ("rest", THE_REST)):
            out = tmp_path_factory.mktemp(f"gpu-check-{name}")
            log = io.StringIO()
            with contextlib.redirect_stdout(log):
                code = cli.main(["gpu-check", "--out", str(out), "--size", "tiny", "--budget-s", "300",
                                 "--items", ",".join(items)])
            (out / "log.txt").write_text(log.getvalue())
            runs[name] = (out, code, log.getvalue())
    finally:
        torch.set_num_threads(threads)
    return runs


def check_command(out: Path, code: int, log: str, chosen: tuple[str, ...]) -> dict:
    """The files and the results file of one command: every chosen item in its order, nothing else."""
    assert code == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert written == ["log.txt", RESULTS_FILE]  # no folders: all of it comes back from the device
    assert len(written) <= DEVICE_FILES
    results = read_results(out)
    assert results["kind"] == "f2f_gpu_check_results"
    keys = [spec.key for spec in select_items(chosen)]
    assert list(results["items"]) == keys and [e["item"] for e in results["summary"]["items"]] == keys
    assert results["summary"]["chosen"] == keys
    for key, data in results["items"].items():
        check_item_schema(data)
        assert data["item"] == key.split("_", 1)[1]
        assert data["status"] in ("ok", "partial"), (key, data["errors"])
        assert data["command"] == f"f2f gpu-check --out {out} --size tiny --budget-s 300 --items {','.join(chosen)}"
    assert RESULTS_FILE in log and all(key in log for key in keys)
    return results["items"]


def test_the_paper_path_command_writes_its_items_into_one_results_file(rehearsal):
    items = check_command(*rehearsal["paper"], PAPER_PATH)
    assert list(items) == ["1_video", "3_edit", "7_vlm_local", "10_latent_dropout"]
    video = items["1_video"]["results"]["headline"]
    assert video["steps_timed"] == 3 and video["step_s"] > 0 and video["vae_decode_s"] > 0
    assert video["denoiser_tflops"] > 0 and video["peak_memory_bytes"] > 0
    edit = items["3_edit"]["runs"][0]
    assert edit["selector"] == "vlm" and edit["fallback"] is None and edit["vlm_requests"] == 2
    assert edit["index"] == 8  # the server chose tile 2: frame 2 x 4
    vlm = items["7_vlm_local"]["runs"][0]
    assert vlm["vlm"]["backend"] == "local" and vlm["vlm"]["model"] == "tiny"
    assert (vlm["caption_messages"], vlm["caption_images"]) == (19, 10)  # nine in-context turns, then the request
    assert vlm["requests"] == 3 and vlm["selection"]["retried"]  # gibberish: one retry, then the fallback
    assert vlm["selection"]["selector"] == "last" and vlm["off_gpu_between_requests"]
    assert all(call["usage"]["total"] > 0 for call in vlm["calls"])
    dropout = items["10_latent_dropout"]
    assert dropout["status"] == "ok" and [r["name"] for r in dropout["runs"]] == list(backend_items.DROPOUT_BACKENDS)
    for run in dropout["runs"]:  # fewer latent frames after the drop, and both generations timed
        assert min(run["frames_per_call"]) < max(run["frames_per_call"]) == run["frames_per_call"][0]
        assert run["stages"]["plain"] > 0 and run["stages"]["dropout"] > 0 and run["generate_ratio"] > 0


def test_the_second_command_writes_the_rest_into_one_results_file(rehearsal):
    items = check_command(*rehearsal["rest"], THE_REST)
    assert list(items) == ["8_backends", "9_peers", "4_baselines", "5_flux_sets", "6_metrics", "2_levers"]
    levers = items["2_levers"]
    assert not levers["errors"]
    assert levers["runs"][0]["name"] == "paper"  # item 1 ran in the other command: the reference is measured here
    assert levers["results"]["headline"]["fast"]["output_difference_vs_paper"]["comparable"]
    assert {s["what"] for s in levers["skipped"]} == {"lowvram", "offload=true", "compile_transformer=true", "cache=first_block"}
    assert [r["name"] for r in items["4_baselines"]["runs"]] == ["sdedit", "ledits", "pix2pix-zero", "flowedit"]
    assert items["5_flux_sets"]["runs"][0]["images"] == 3
    assert items["6_metrics"]["runs"][0]["batch"] == 16
    peers = items["9_peers"]
    assert peers["status"] == "ok" and not peers["errors"] and not peers["skipped"]
    assert [r["name"] for r in peers["runs"]] == ["kontext", "qwen-edit", "chronoedit"]
    pipelines = {"kontext": "FluxKontextPipeline", "qwen-edit": "QwenImageEditPlusPipeline", "chronoedit": "ChronoEditPipeline"}
    for run in peers["runs"]:
        assert run["status"] == "ok" and run["steps_timed"] == 2 and run["parameters"]["num_inference_steps"] == 2
        assert run["stages"]["build"] > 0 and run["stages"]["edit"] > 0 and run["timings"]["edit"] > 0  # the edit ran
        assert run["source_size"] == [720, 480] and run["output_size"] == [512, 341]  # 3:2 kept, longer side 512
        assert run["pipeline"] == pipelines[run["name"]] and run["model"]["id"] == "tiny"
        assert run["peak_memory"]["edit"] > 0 and peers["results"]["headline"][run["name"]]["peak_memory_bytes"] > 0
    assert peers["runs"][2]["video"]["frames_decoded"] == 5  # ChronoEdit: the edit is the last of 5 frames
    assert peers["steps_timed"] == 6
    backends = items["8_backends"]
    assert backends["status"] == "ok" and [r["name"] for r in backends["runs"]] == list(backend_items.ORDER)
    for run in backends["runs"]:  # each backend generated its frames through its adapter
        assert run["frames_returned"] == run["num_frames"] and run["step_s"] > 0 and run["video_record"]["pipeline"]


def test_the_two_commands_cover_every_item_once():
    assert sorted(spec.number for spec in select_items(PAPER_PATH + THE_REST)) == [spec.number for spec in ITEMS]
    assert not set(PAPER_PATH) & set(THE_REST)


def test_items_are_chosen_by_number_name_or_range_in_the_order_given():
    assert [s.number for s in select_items("3,video,4-6,1,10_latent_dropout")] == [3, 1, 4, 5, 6, 10]
    assert select_items(None) == ITEMS
    for wrong in ("11", "speed", "7-3", ","):
        with pytest.raises(F2FError, match="--items"):
            select_items(wrong)


def test_an_unknown_item_is_refused_before_anything_runs(tmp_path, capsys):
    assert cli.main(["gpu-check", "--out", str(tmp_path / "out"), "--size", "tiny", "--items", "1,warp"]) == 2
    assert "'warp'" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_a_budget_spent_after_the_first_item_skips_the_rest_with_reasons(tmp_path):
    now = [0.0]
    budget = Budget(100.0, clock=lambda: now[0])

    def spend_it(item):
        now[0] = 1000.0  # the first item took the whole budget

    chosen = "metrics,video,flux_sets"  # cheap items, in the order given
    summary = run_gpu_check(tmp_path, size="tiny", budget_s=budget, on_item=spend_it, items=chosen)
    assert [(entry["item"], entry["status"]) for entry in summary["items"]] == [
        ("6_metrics", "ok"), ("1_video", "skipped"), ("5_flux_sets", "skipped")]
    items = read_results(tmp_path)["items"]
    for key in ("1_video", "5_flux_sets"):
        check_item_schema(items[key])
        assert items[key]["runs"] == [] and "budget of 100 s was spent" in items[key]["skipped"][0]["reason"]
    assert items["6_metrics"]["runs"][0]["batch"] == 16
    assert sorted(p.name for p in tmp_path.iterdir()) == [RESULTS_FILE]


def test_the_budget_s_end_stops_a_running_item_and_keeps_its_finished_runs(tmp_path):
    def slow(check, item):
        item.attempt("quick", lambda: {"steps_timed": 1})
        item.attempt("slow", lambda: time.sleep(30) or {})

    specs = [ItemSpec(1, "slow", "slow", slow, lambda check: 0.0),
             ItemSpec(2, "after", "after", lambda check, item: None, lambda check: 0.0)]
    # 3 s of real clock: room for the quick run even on a loaded machine; the 30 s sleep must be cut off
    check = Check(out=tmp_path, size="tiny", device="cpu", budget=Budget(3.0), command="test")
    summary = run_items(check, specs)
    assert [entry["status"] for entry in summary["items"]] == ["stopped", "skipped"]
    items = read_results(tmp_path)["items"]
    assert [(r["name"], r["status"]) for r in items["1_slow"]["runs"]] == [("quick", "ok"), ("slow", "stopped")]
    assert "budget ended during item 1_slow" in items["2_after"]["notes"][0]


def test_optional_runs_keep_the_minimums_of_the_items_after_them_in_run_order(tmp_path):
    def minimum(seconds):
        return lambda check: seconds

    specs = [ItemSpec(5, "late", "late", lambda c, i: None, minimum(40.0)),
             ItemSpec(2, "first", "first", lambda c, i: None, minimum(10.0)),
             ItemSpec(9, "last", "last", lambda c, i: None, minimum(7.0))]
    check = Check(out=tmp_path, size="tiny", device="cpu", budget=Budget(60), command="test")
    check.items = specs
    assert (check.reserve_after(5), check.reserve_after(2), check.reserve_after(9)) == (17.0, 7.0, 0.0)


def test_a_failing_run_records_its_traceback_and_the_item_goes_on(tmp_path):
    def flaky(check, item):
        item.attempt("broken", lambda: 1 / 0)
        item.attempt("fine", lambda: {})

    check = Check(out=tmp_path, size="tiny", device="cpu", budget=Budget(60), command="test")
    run_items(check, [ItemSpec(1, "flaky", "flaky", flaky, lambda check: 0.0)])
    data = read_results(tmp_path)["items"]["1_flaky"]
    assert data["status"] == "partial" and [r["status"] for r in data["runs"]] == ["error", "ok"]
    assert data["errors"][0]["type"] == "ZeroDivisionError" and "1 / 0" in data["errors"][0]["traceback"]


def test_full_size_without_cuda_is_refused_with_what_to_do(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert cli.main(["gpu-check", "--out", "unused", "--size", "full"]) == 2
    assert "--size tiny" in capsys.readouterr().err
    assert not Path("unused").exists()


def test_full_size_baseline_configs_have_the_published_parameter_counts():
    from f2f_lab.stand_ins.full_size import parameter_counts

    # The published checkpoints' counts (diffusers / transformers from_pretrained of each).
    assert parameter_counts("sd15") == {"unet": 859_520_964, "vae": 83_653_863, "text_encoder": 123_060_480}
    flux = parameter_counts("flux-dev")
    assert flux["transformer"] == 11_901_408_320  # "12B"
    assert flux["text_encoder_2"] == 4_762_310_656  # T5 v1.1 XXL's encoder, embedding tied
    assert (flux["vae"], flux["text_encoder"]) == (83_819_683, 123_060_480)


def test_full_size_local_vlm_config_has_the_published_parameter_count():
    from f2f_lab.stand_ins.configs import QWEN2_5_VL_7B
    from f2f_lab.stand_ins.full_size import meta_modules

    model = meta_modules("qwen2.5-vl-7b")["model"]
    assert sum(p.numel() for p in model.parameters()) == 8_292_166_656  # Qwen2.5-VL-7B-Instruct: "8.29B" on the hub
    assert sum(p.numel() for p in model.model.visual.parameters()) == 676_550_144  # the ViT and its merger
    assert model.lm_head.weight.numel() == QWEN2_5_VL_7B["text_config"]["vocab_size"] * 3584  # untied


def test_full_size_peer_transformers_have_the_published_parameter_counts():
    import torch

    from f2f_lab.stand_ins.full_size import meta_modules
    from f2f_lab.stand_ins.video_configs import PUBLISHED_PARAMETERS

    def count(module):
        return sum(p.numel() for p in module.parameters())

    qwen = meta_modules("qwen-image-edit", only=("transformer",))["transformer"]
    assert all(p.is_meta for p in qwen.parameters())
    assert count(qwen) == 20_430_401_088  # Qwen-Image README: "20B MMDiT" (diffusers 0.42.1's class defaults)
    assert abs(count(qwen) / 20.4e9 - 1) < 0.005
    chrono = meta_modules("chronoedit", torch.bfloat16)
    wan = PUBLISHED_PARAMETERS["wan2.1-480p"]
    for name in ("transformer", "vae", "text_encoder", "image_encoder"):  # a fine-tune of Wan 2.1 I2V 14B
        assert abs(count(chrono[name]) / wan[name]["count"] - 1) <= wan[name]["rtol"], name
    assert {p.dtype for p in chrono["vae"].parameters()} == {torch.float32}  # as the docs run it
    assert chrono["transformer"].blocks[0].attn1.to_q.weight.dtype == torch.bfloat16


def test_materialise_draws_parameters_and_keeps_integer_buffers():
    import torch
    from accelerate import init_empty_weights
    from transformers import CLIPTextConfig, CLIPTextModel

    from f2f_lab.stand_ins.full_size import materialise

    with init_empty_weights(include_buffers=False):
        model = CLIPTextModel(CLIPTextConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                             num_attention_heads=2, projection_dim=32))
    weights = dict(model.named_parameters())
    assert all(p.is_meta for p in weights.values())
    model = materialise(model, device="cpu", generator=torch.Generator().manual_seed(0))
    position_ids = next(b for name, b in model.named_buffers() if name.endswith("position_ids"))
    assert torch.equal(position_ids[0], torch.arange(position_ids.shape[1]))  # an integer buffer, kept
    weight = next(p for name, p in model.named_parameters() if name.endswith("fc1.weight"))
    assert not weight.is_meta and 0.01 < float(weight.std()) < 0.03
    assert model(input_ids=torch.tensor([[1, 2, 3]])).last_hidden_state.shape == (1, 3, 32)


def test_the_wheels_list_covers_every_package_the_device_image_lacks():
    from f2f_lab.gpu_check import wheels

    assert wheels.main(["--check"]) == 0
    listed = {wheels.normalise(name) for name in wheels.WHEELS}
    assert {"diffusers", "open-clip-torch", "lpips", "openai"} <= listed
    assert not listed & wheels.DEVICE_PACKAGES - {"typing-extensions"}  # only what is missing (and a newer typing_extensions)


# -- Invariant 4 (issue 25, finding 6): a full-size build holds the bf16 weights, never a float32 copy first ----

class LiveBytes:
    """Bytes of the storages on `device` that tensor ops create while active and that are still alive: now and peak.

    A `TorchDispatchMode` sees every op's outputs; each new storage is counted until Python's last
    reference to it goes (storages keep their Python object while alive, so a finalizer fires at the free).
    """

    def __init__(self, device: str):
        import torch
        from torch.utils._python_dispatch import TorchDispatchMode
        from torch.utils._pytree import tree_leaves

        tracker = self
        self.device, self.live, self.peak, self.keys = torch.device(device), 0, 0, set()

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                for tensor in tree_leaves(out):
                    if isinstance(tensor, torch.Tensor) and tensor.device == tracker.device:
                        tracker.count(tensor.untyped_storage())
                return out

        self.mode = Mode()

    def count(self, storage) -> None:
        import weakref

        key, size = storage._cdata, storage.nbytes()
        if key in self.keys or not size:
            return
        self.keys.add(key)
        self.live += size
        self.peak = max(self.peak, self.live)
        weakref.finalize(storage, self.free, key, size)

    def free(self, key, size) -> None:
        self.keys.discard(key)
        self.live -= size

    def __enter__(self):
        self.mode.__enter__()
        return self

    def __exit__(self, *exc):
        return self.mode.__exit__(*exc)


def expected_dtype(key: str, name: str, module, parameter_name: str):
    """The dtype `from_pretrained(torch_dtype=torch.bfloat16)` leaves a parameter in (diffusers 0.42.1, transformers 5.24)."""
    import torch
    from diffusers import ModelMixin

    from f2f_lab.stand_ins.full_size import FLOAT32

    if name in FLOAT32.get(key, ()):
        return torch.float32  # kept in float32 as the docs run them (Wan's VAE and CLIP encoder)
    keep = (module._keep_in_fp32_modules if isinstance(module, ModelMixin)
            else getattr(module, "_keep_in_fp32_modules_strict", None)) or ()
    return torch.float32 if set(keep) & set(parameter_name.split(".")) else torch.bfloat16


FULL_SIZE_KEYS = ("cogvideox", "cogvideox1.5", "wan2.1-480p", "wan2.2-5b", "wan2.2-a14b", "hunyuan1.5", "ltx", "sd15",
                  "flux-dev", "qwen2.5-vl-7b", "chronoedit", "qwen-image-edit")


@pytest.mark.parametrize("key", FULL_SIZE_KEYS)
def test_full_size_builds_never_hold_more_than_the_loaded_weights(key, monkeypatch):
    """The full-size path (`random_modules`) at the tiny stand-ins' sizes, every allocation counted on the CPU.

    From the first `materialise` on, the live bytes never exceed what the finished build holds (parameters
    in the dtypes real loading gives, buffers, rotary tables) plus 10 %; drawing float32 weights and then
    casting (the finding) peaks at 1.2-2.8x on these builds. And the dtypes are real loading's: bf16
    parameters except the float32 modules, transformers' rotary `inv_freq` buffers float32.
    """
    import torch
    from transformers import PreTrainedModel

    from f2f_lab.stand_ins import full_size

    assert sorted(full_size.MODELS) == sorted(FULL_SIZE_KEYS)  # every full-size build is measured
    configs = full_size.tiny_configs(key)
    tracker, materialised = LiveBytes("cpu"), []
    real = full_size.materialise

    def counted(module, **options):  # the meta modules exist (their buffers real): measure from here
        if not materialised:
            tracker.peak = tracker.live
        materialised.append(type(module).__name__)
        return real(module, **options)

    monkeypatch.setattr(full_size, "materialise", counted)
    with tracker:
        modules = full_size.random_modules(key, "cpu", torch.bfloat16, configs=configs)
    assert len(materialised) == len(full_size.MODELS[key])  # every module went through materialise
    for name, module in modules.items():
        assert type(module).__name__ == full_size.MODELS[key][name][1]
        for parameter_name, parameter in module.named_parameters():
            assert parameter.device.type == "cpu"
            assert parameter.dtype == expected_dtype(key, name, module, parameter_name), (name, parameter_name)
        if isinstance(module, PreTrainedModel):
            rotary = [b for n, b in module.named_buffers() if n.endswith("inv_freq")]
            assert all(b.dtype == torch.float32 for b in rotary), name
    if key in ("qwen2.5-vl-7b", "hunyuan1.5", "qwen-image-edit"):  # Qwen2.5-VL's text (and vision) rotary tables
        assert any(n.endswith("inv_freq") for m in modules.values() for n, _ in m.named_buffers())
    held = tracker.live
    weights = sum(p.numel() * p.element_size() for m in modules.values() for p in m.parameters())
    assert weights <= held  # the finished build holds its weights, in their loaded dtypes
    assert tracker.peak <= held + 0.1 * weights, (tracker.peak, held, weights)


def test_the_documented_device_commands_are_the_rehearsed_ones_and_fit_the_device():
    """docs/PERFORMANCE.md's two commands choose `PAPER_PATH` then `THE_REST`, each under 7 minutes of work,
    each a timeout_s above its budget and within the device's 10 minutes, and carry the wheels they install."""
    import re

    text = (Path(__file__).resolve().parents[1] / "docs" / "PERFORMANCE.md").read_text()
    section = text[text.index("### On a lent GPU"):]
    commands = re.findall(r"^set -o pipefail; .*gpu-check .*$", section, flags=re.M)
    assert len(commands) == 2
    assert [re.search(r"--items (\S+)", c).group(1).split(",") for c in commands] == [list(PAPER_PATH), list(THE_REST)]
    timeouts = [int(t) for t in re.findall(r'`carry: \[".whl"\]`, `timeout_s: (\d+)`', section)]
    assert len(timeouts) == 2
    for command, timeout in zip(commands, timeouts):
        budget = float(re.search(r"--budget-s (\d+)", command).group(1))
        assert budget < 7 * 60 and budget + 30 <= timeout <= 600
        assert "--size full" in command and "--out $OUT" in command and "tee $OUT/log.txt" in command
        assert ".whl/*.whl" in command and "PYTHONPATH=/tmp/site" in command


def test_a_backend_after_the_first_keeps_the_minimums_of_the_items_after_it(tmp_path):
    """Fair share in one short command: the cheapest backend is the item's minimum, the others are optional and
    do not start when they would eat what a later item needs (the clock stands still: only estimates decide)."""
    later = ItemSpec(11, "later", "later", lambda check, item: item.attempt("ran", lambda: {}), lambda check: 4.0)
    backends = next(spec for spec in ITEMS if spec.name == "backends")
    check = Check(out=tmp_path, size="tiny", device="cpu", budget=Budget(7.0, clock=lambda: 0.0), command="test")
    run_items(check, [backends, later])
    items = read_results(tmp_path)["items"]
    ran = [run["name"] for run in items["8_backends"]["runs"]]
    assert ran == [backend_items.ORDER[0]] and items["8_backends"]["runs"][0]["status"] == "ok"
    assert [s["what"] for s in items["8_backends"]["skipped"]] == list(backend_items.ORDER[1:])
    assert all("kept for the items after it" in s["reason"] for s in items["8_backends"]["skipped"])
    assert items["11_later"]["status"] == "ok"


# -- Issue 26, cause 7 (and 3 for --out): a check that checked nothing or failed says so; bad arguments refused ----

def gpu_check_cli(out: Path, *extra: str) -> int:
    return cli.main(["gpu-check", "--out", str(out), *extra])


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("f2f: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("budget", ["0", "-5", "nan", "inf", "1e20"])
def test_a_budget_that_is_not_a_sane_number_of_seconds_is_refused_before_anything_runs(budget, tmp_path, capsys):
    out = tmp_path / "out"
    assert gpu_check_cli(out, "--size", "tiny", "--items", "flux_sets", f"--budget-s={budget}") == 2
    assert "--budget-s must be a number of seconds above 0" in one_line_error(capsys)
    assert not out.exists()


@pytest.mark.parametrize("device", ["bogus", "meta", "cuda", "cuda:99"])
def test_a_device_torch_cannot_parse_or_this_machine_lacks_is_refused_before_anything_runs(device, tmp_path, capsys):
    import torch

    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    out = tmp_path / "out"
    assert gpu_check_cli(out, "--size", "tiny", "--items", "flux_sets", "--device", device) == 2
    err = one_line_error(capsys)
    assert f"--device {device}" in err or f"--device '{device}'" in err
    assert not out.exists()


def test_an_out_that_cannot_be_written_is_refused_before_anything_runs(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert gpu_check_cli(blocker / "out", "--size", "tiny", "--items", "flux_sets") == 2
    assert "is under" in one_line_error(capsys)  # names the file in the way
    assert gpu_check_cli(blocker, "--size", "tiny", "--items", "flux_sets") == 2
    assert "is a file" in one_line_error(capsys)
    assert blocker.read_text() == "not a folder"


def with_items(monkeypatch, *specs: ItemSpec) -> None:
    """The CLI chooses among `specs` instead of the ten items (an injected fault, not a stand-in for a model)."""
    import f2f_lab.gpu_check as gpu_check

    monkeypatch.setattr(gpu_check, "ITEMS", specs)


def test_an_item_that_errs_makes_the_check_exit_1_and_says_which(tmp_path, monkeypatch, capsys):
    def broken(check, item):
        item.attempt("fine", lambda: {})
        item.attempt("broken", lambda: 1 / 0)

    with_items(monkeypatch, ItemSpec(1, "fine", "fine", lambda c, i: i.attempt("ran", lambda: {}), lambda c: 0.0),
               ItemSpec(2, "broken", "broken", broken, lambda c: 0.0))
    assert gpu_check_cli(tmp_path, "--size", "tiny") == 1
    err = capsys.readouterr().err
    assert "1 of 2 items recorded errors (2_broken)" in err and RESULTS_FILE in err
    summary = read_results(tmp_path)["summary"]
    assert summary["outcome"] == "errors" and [e["status"] for e in summary["items"]] == ["ok", "partial"]


def test_a_check_where_nothing_ran_exits_1_with_the_reason(tmp_path, monkeypatch, capsys):
    with_items(monkeypatch, ItemSpec(1, "huge", "huge", lambda c, i: None, lambda c: 1e6))
    assert gpu_check_cli(tmp_path, "--size", "tiny", "--budget-s", "60") == 1
    err = capsys.readouterr().err
    assert "nothing ran (needs about 1000000 s" in err and "raise --budget-s" in err
    assert read_results(tmp_path)["summary"]["outcome"] == "nothing ran"


def test_without_a_gpu_and_without_size_the_cpu_rehearsal_is_said_on_stderr_and_in_the_results(tmp_path, monkeypatch,
                                                                                                capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with_items(monkeypatch, ItemSpec(6, "quick", "quick", lambda c, i: i.attempt("ran", lambda: {}), lambda c: 0.0))
    assert gpu_check_cli(tmp_path) == 0
    assert "no CUDA GPU is visible, so this is the tiny rehearsal on the CPU" in capsys.readouterr().err
    summary = read_results(tmp_path)["summary"]
    assert summary["size"] == "tiny" and "tiny rehearsal on the CPU" in summary["notes"][0]
    assert gpu_check_cli(tmp_path / "meant", "--size", "tiny") == 0  # asked for: no note
    assert "rehearsal" not in capsys.readouterr().err and read_results(tmp_path / "meant")["summary"]["notes"] == []


def test_a_disk_fault_while_writing_the_results_keeps_them_on_stdout_and_exits_1(tmp_path, monkeypatch, capsys):
    """The full disk comes after the up-front check (an injected ENOSPC from the atomic write): nothing is lost."""
    import errno

    from f2f_lab.gpu_check import core

    def full_disk(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    with_items(monkeypatch, ItemSpec(1, "quick", "quick", lambda c, i: i.attempt("ran", lambda: {"answer": 42}),
                                     lambda c: 0.0))
    monkeypatch.setattr(core, "write_json_atomic", full_disk)
    assert gpu_check_cli(tmp_path, "--size", "tiny") == 1
    captured = capsys.readouterr()
    assert "could not write" in captured.err and "No space left on device" in captured.err
    assert "Traceback" not in captured.err
    printed = json.loads(next(line for line in captured.out.splitlines() if line.startswith("{")))
    assert printed["items"]["1_quick"]["runs"][0]["answer"] == 42 and printed["summary"]["outcome"] == "ok"


HELD_CHECK = '''
import signal, sys, time
from pathlib import Path
import f2f_lab.gpu_check as gpu_check
from f2f_lab import cli
from f2f_lab.gpu_check.core import ItemSpec

signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even when started in the background
held = Path(sys.argv[1])

def hold(check, item):  # tell the test this run has started, then wait for it (it sends Ctrl-C)
    def run():
        held.touch()
        while True:
            time.sleep(0.05)
    item.attempt("held", run)

gpu_check.ITEMS = (ItemSpec(1, "first", "first", lambda c, i: i.attempt("ran", lambda: {}), lambda c: 0.0),
                   ItemSpec(2, "held", "held", hold, lambda c: 0.0),
                   ItemSpec(3, "after", "after", lambda c, i: i.attempt("ran", lambda: {}), lambda c: 0.0))
sys.exit(cli.main(["gpu-check", "--out", sys.argv[2], "--size", "tiny", "--budget-s", "600"]))
'''


def test_ctrl_c_marks_the_running_item_interrupted_writes_the_summary_and_exits_130(tmp_path):
    """A real process held inside item 2 (it waits until signalled; the test waits for its file, not a clock)."""
    import os
    import signal
    import subprocess
    import sys

    held, out = tmp_path / "held", tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-c", HELD_CHECK, str(held), str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120  # only a bound on a broken test: the signal waits for the file
        while not held.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the check never reached item 2"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)  # what Ctrl-C in a terminal sends
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (stdout, stderr)
    assert "interrupted during 2_held" in stderr and "Traceback" not in stderr
    results = read_results(out)
    summary = results["summary"]
    assert summary["outcome"] == "interrupted" and summary["interrupted"] == "2_held"
    assert [(e["item"], e["status"]) for e in summary["items"]] == [("1_first", "ok"), ("2_held", "interrupted")]
    assert [(r["name"], r["status"]) for r in results["items"]["2_held"]["runs"]] == [("held", "interrupted")]
    assert "1_first" in stdout and "2_held" in stdout
