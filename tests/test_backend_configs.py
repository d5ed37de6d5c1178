"""The six image-to-video backends' full-size configurations (stand_ins.video_configs), on the meta
device only: each checked module has its published parameter count, one layer more or fewer breaks
that check, every configuration option is one its class takes, and the pipeline takes the modules."""

import functools
import inspect

import pytest

from f2f_lab.stand_ins.full_size import check_parameter_counts, meta_modules
from f2f_lab.stand_ins.video_configs import BACKENDS, FLOAT32_MODULES, PIPELINES, PROCESSORS, PUBLISHED_PARAMETERS

KEYS = list(BACKENDS)


@functools.lru_cache(maxsize=None)
def published_modules(key):
    return meta_modules(key)  # meta device: shapes only, no memory


def layer_option(module) -> tuple[str, int]:
    """(config option, value) of a module's layer count: num_layers (diffusers, (UM)T5), num_hidden_layers
    (CLIP, SigLIP, Qwen) or, for the Wan VAE, num_res_blocks (residual blocks per resolution)."""
    config = module.config
    for option in ("num_layers", "num_hidden_layers", "num_res_blocks"):
        value = config.get(option) if isinstance(config, dict) else getattr(config, option, None)
        if value is not None:
            return option, value
    raise AssertionError(f"{type(module).__name__} has no layer count")


def plain(value):
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def test_every_backend_has_published_figures_pipeline_and_stand_in():
    from f2f_lab.stand_ins.tiny_video import TINY_BACKENDS

    assert set(BACKENDS) == set(PUBLISHED_PARAMETERS) == set(PIPELINES) == set(TINY_BACKENDS)
    for key, published in PUBLISHED_PARAMETERS.items():
        assert "transformer" in published and set(published) <= set(BACKENDS[key]), key
        for figure in published.values():
            assert figure["count"] > 0 and 0 < figure["rtol"] <= 0.02 and figure["source"]


@pytest.mark.parametrize("key", KEYS)
def test_meta_parameter_counts_match_the_published_figures(key):
    modules = published_modules(key)
    assert all(p.is_meta for module in modules.values() for p in module.parameters())
    report = check_parameter_counts(key, modules)
    assert set(report) == set(PUBLISHED_PARAMETERS[key])
    bad = {name: (r["measured"], r["published"], f"{r['relative_error']:+.2%}") for name, r in report.items() if not r["ok"]}
    assert not bad


@pytest.mark.parametrize("key", KEYS)
def test_one_layer_more_or_fewer_fails_the_published_check(key):
    for name in PUBLISHED_PARAMETERS[key]:
        option, layers = layer_option(published_modules(key)[name])
        for wrong in (layers - 1, layers + 1):
            modules = meta_modules(key, configs={name: {option: wrong}}, only=(name,))
            assert layer_option(modules[name]) == (option, wrong)
            assert not check_parameter_counts(key, modules)[name]["ok"], (key, name, option, wrong)


@pytest.mark.parametrize("key", KEYS)
def test_each_config_is_taken_by_its_class(key):
    modules = published_modules(key)
    assert set(modules) == set(BACKENDS[key])
    for name, (library, class_name, config) in BACKENDS[key].items():
        module = modules[name]
        assert type(module).__name__ == class_name
        if library == "transformers":
            # transformers keeps unknown options as attributes: each option must be one the config class has
            unknown = set(config) - set(type(module.config)().to_dict())
            assert not unknown, (name, unknown)
            built = {option: getattr(module.config, option) for option in config}
        else:  # diffusers' register_to_config raises on unknown options
            built = {option: module.config[option] for option in config}
        assert plain(built) == plain(config), name


@pytest.mark.parametrize("key", KEYS)
def test_the_pipeline_class_takes_the_modules_and_arguments(key):
    import diffusers
    import torch

    pipeline_name, arguments = PIPELINES[key]
    parameters = set(inspect.signature(getattr(diffusers, pipeline_name).__init__).parameters)
    assert set(BACKENDS[key]) | set(PROCESSORS.get(key, {})) | set(arguments) <= parameters
    modules = meta_modules(key, torch.bfloat16)
    for name, module in modules.items():
        if name in FLOAT32_MODULES.get(key, ()):  # Wan's VAE and CLIP encoder, as the model cards run them
            assert {p.dtype for p in module.parameters()} == {torch.float32}, name
            continue
        # as from_pretrained(torch_dtype=torch.bfloat16) leaves them: diffusers' _keep_in_fp32_modules stay float32
        keep = set(getattr(module, "_keep_in_fp32_modules", None) or ()) if module.__module__.startswith("diffusers") else set()
        for parameter_name, parameter in module.named_parameters():
            expected = torch.float32 if keep.intersection(parameter_name.split(".")) else torch.bfloat16
            assert parameter.dtype == expected, (name, parameter_name)
    if key.startswith("wan"):
        assert modules["transformer"].scale_shift_table.dtype == torch.float32
        assert modules["transformer"].blocks[0].attn1.to_q.weight.dtype == torch.bfloat16
