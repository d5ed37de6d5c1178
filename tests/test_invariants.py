"""Invariants across every video backend, lever and option (issue 25), on the tiny stand-ins.

1. Exact levers keep the video: for every backend, an attention kernel order alone and the
   `fast` preset's exact levers together (fused QKV, cuDNN-first kernel order, every block
   compiled on torch.compile's "eager" backend, cuDNN benchmark) give the plain run's tiny
   video, to within one level of 8-bit rounding.
2. Every allowed combination runs or is refused before loading: backend x cache x latent
   dropout x refinement x captioner either finishes a tiny edit end to end or is refused by
   `Frame2Frame.from_preset` in `Preset.check`, before any model is built, with a message that
   names the fix.

Each tiny model is built once per session; a lever or cache is applied by `apply_levers` (the
function `VideoGenerator.from_pretrained` calls) to copies of the loaded transformers, which are
put back afterwards, so variants cost a deep copy of a tiny transformer instead of a load.
"""

import copy
from contextlib import contextmanager

import numpy as np
import pytest
from PIL import Image

from f2f_lab import Frame2Frame
from f2f_lab.errors import F2FError
from f2f_lab.presets import get_preset
from f2f_lab.testing.openai_server import openai_server
from f2f_lab.video import BACKENDS, apply_levers, get_backend
from f2f_lab.video.latent_dropout import FRAME_AXIS, kept_latents
from f2f_lab.video.levers import CACHES, FIRST_BLOCK_CACHE_FAMILIES, Levers, SDPAKernelProcessor, transformer_blocks

STEPS = 2  # the fewest that reach below a 0.9 dropout threshold (and LTX's scheduler needs 2)
TARGET = "A photo of a cat yawning."


@pytest.fixture(scope="session")
def generators():
    """One plain tiny generator per backend, built on first use and shared by every test here."""
    built = {}

    def generator(key):
        if key not in built:
            built[key] = Frame2Frame.from_preset("tiny", video_backend=key, captioner="template", selector="last",
                                                 progress=False).generator
        return built[key]

    return generator


@contextmanager
def with_levers(generator, levers: Levers):
    """`generator` with `levers` applied to copies of its transformers; the originals come back afterwards."""
    import torch

    pipe = generator.pipe
    names = [name for name in ("transformer", "transformer_2") if getattr(pipe, name, None) is not None]
    originals = {name: getattr(pipe, name) for name in names}
    benchmark, fusing = torch.backends.cudnn.benchmark, getattr(pipe, "fusing_transformer", None)
    for name in names:
        setattr(pipe, name, copy.deepcopy(originals[name]))
    try:
        apply_levers(pipe, levers, device="cpu", compile_backend="eager")
        generator.levers = levers
        yield generator
    finally:
        for name in names:
            setattr(pipe, name, originals[name])
        if fusing is not None:
            pipe.fusing_transformer = fusing
        generator.levers = Levers()
        torch.backends.cudnn.benchmark = benchmark


def video_of(generator) -> np.ndarray:
    backend = generator.backend
    image = Image.new("RGB", backend.tiny_canvas, (150, 90, 40))
    video = generator(image, "a cat slowly yawns", num_frames=backend.tiny_frames, num_inference_steps=STEPS, seed=0)
    return np.stack([np.asarray(frame, dtype=np.int16) for frame in video.frames])


# --- invariant 1: exact levers keep the video ------------------------------------------------

EXACT_LEVERS = {
    # The kernel order alone: on a CPU "cudnn" and "flash" fall through to PyTorch's CPU flash kernel and
    # "efficient" to "math", so "math" here and "cudnn" below are the two kernels a CPU can tell apart;
    # the wrapper code is the same for every order.
    "attention_backend=math": Levers(attention_backend="math"),
    "fast's exact levers": Levers(fuse_qkv=True, attention_backend="cudnn", compile_transformer=True, cudnn_benchmark=True),
}


@pytest.mark.parametrize("key", list(BACKENDS))
def test_exact_levers_keep_the_video(key, generators):
    generator = generators(key)
    plain = video_of(generator)
    for name, levers in EXACT_LEVERS.items():
        with with_levers(generator, levers) as lever_generator:
            for transformer in lever_generator.transformers:
                assert all(isinstance(p, SDPAKernelProcessor) for p in transformer.attn_processors.values())
                if levers.compile_transformer:
                    assert all(block._compiled_call_impl is not None for block in transformer_blocks(transformer))
            video = video_of(lever_generator)
        assert video.shape == plain.shape
        assert np.abs(video - plain).max() <= 1, f"{key} with {name}: the video changed"


def test_hunyuan15_attention_gets_its_rotary_embedding_under_a_kernel_order(generators):
    """Finding 1: `Attention.forward` passes only keywords the processor's signature names."""
    generator = generators("hunyuan1.5")
    seen = []

    class Spy:
        def __init__(self, processor):
            self.processor = processor

        def __call__(self, attn, *args, **kwargs):
            seen.append(kwargs.get("image_rotary_emb") is not None)
            return self.processor(attn, *args, **kwargs)

    with with_levers(generator, Levers(attention_backend="math")):
        for block in generator.pipe.transformer.transformer_blocks:  # the blocks that take positions
            block.attn.processor.processor = Spy(block.attn.processor.processor)
        video_of(generator)
    assert seen and all(seen), f"{seen.count(False)} of {len(seen)} attention calls had no rotary embedding"


def test_first_block_cache_families_are_the_ones_diffusers_registers(generators):
    from diffusers.hooks._helpers import TransformerBlockRegistry

    TransformerBlockRegistry._register()
    for key, backend in BACKENDS.items():
        block = type(transformer_blocks(generators(key).pipe.transformer)[0])
        assert (block in TransformerBlockRegistry._registry) == (backend.family in FIRST_BLOCK_CACHE_FAMILIES), key


# --- invariant 2: every allowed combination runs or is refused before loading -------------------

def dropout_choices(key: str) -> list:
    """(stride, threshold) pairs: off, every stride at IF-Edit's 0.9 and one at 0.5 (off a two-expert switch).

    Strides from 1 to latents-1 (every larger stride keeps the same first and last latent); a backend
    without latent dropout gets one stride, which its check must refuse.
    """
    backend = get_backend(key)
    if key not in FRAME_AXIS:
        return [(None, 0.9), (3, 0.9)]
    latents = (backend.tiny_frames - 1) // 4 + 1
    return [(None, 0.9)] + [(k, 0.9) for k in range(1, latents)] + [(2, 0.5)]


def combinations():
    for key in BACKENDS:
        for cache in (None, *CACHES):
            for stride, at in dropout_choices(key):
                for refine in (None, "selected", "sharpest"):
                    yield key, cache, stride, at, refine


def refused_in_check(error: BaseException) -> bool:
    """Whether the error was raised inside `Preset.check` (so before any model was built)."""
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == "check" and code.co_filename.endswith("presets.py"):
            return True
        tb = tb.tb_next
    return False


FIX_WORDS = ("turn off", "use ", "choose", "give ", "keep ", " or ")


def test_every_combination_runs_or_is_refused_before_loading(generators, cat_path):
    """Pruned where a dimension cannot change the outcome (the rest are all run):

    - every combination goes through `from_preset`; a refused one must be refused in `Preset.check`
      with a fix in its message, and the same combination on the full-size preset of its backend
      must get the same answer (the check does not depend on the tiny weights, First Block Cache's
      block count excepted);
    - of the accepted ones, strides that keep the same number of latents run once (the transformer
      and the VAE see the same shapes); a refinement is a second, plain video made after the first
      from one of its frames, so "selected" and "sharpest" run once per backend with no cache and no
      dropout (their first half is the plain run), and every cache and dropout choice runs with
      refine=None;
    - the captioner only writes the prompt: "cot" runs once against the scripted VLM server.
    """
    source = Image.open(cat_path)
    ran, refused, seen_runs, problems = [], [], set(), []
    for key, cache, stride, at, refine in combinations():
        options = dict(video_backend=key, cache=cache, latent_dropout=stride, latent_dropout_at=at, refine=refine,
                       num_inference_steps=STEPS)
        try:
            editor = Frame2Frame.from_preset("tiny", captioner="template", selector="last", progress=False,
                                             generator=object(), **options)  # a model would be a bug here
        except F2FError as error:
            message = str(error)
            if not refused_in_check(error) or not any(w in message.lower() for w in FIX_WORDS):
                problems.append(f"{key} cache={cache} dropout={stride}@{at} refine={refine}: refused badly: {message}")
            full = get_preset("paper" if key == "cogvideox" else key).changed({k: v for k, v in options.items() if k != "num_inference_steps"})
            if cache != "first_block":
                with pytest.raises(F2FError):
                    full.check()
            refused.append((key, cache, stride, at, refine))
            continue
        backend = get_backend(key)
        latents = (backend.tiny_frames - 1) // 4 + 1
        kept = len(kept_latents(latents, stride)) if stride else None
        if (refine is None) != bool(cache or stride):
            continue  # run as part of another combination (see the docstring)
        run_key = (key, cache, kept, at if stride else None, refine)
        if run_key in seen_runs:
            continue
        seen_runs.add(run_key)
        try:
            with with_levers(generators(key), editor.preset.levers) as generator:
                editor = Frame2Frame.from_preset("tiny", captioner="template", selector="last", progress=False,
                                                 generator=generator, **options)
                result = editor.edit(source, TARGET, seed=0)
            assert result.image.size[0] > 0 and result.frames
            if stride:
                assert result.record["video"]["latent_dropout"]["kept_latents"] == kept_latents(latents, stride)
            if refine:  # "selected" keeps the source when the selector chose frame 0
                assert result.refined is not None or (refine == "selected" and result.index == 0)
            else:
                assert result.refined is None
            ran.append(run_key)
        except Exception as error:  # noqa: BLE001  (every failure is listed at the end)
            problems.append(f"{key} cache={cache} dropout={stride}@{at} refine={refine}: failed after loading: "
                            f"{type(error).__name__}: {str(error)[:200]}")
    assert not problems, "\n".join(problems)
    assert {r[0] for r in ran} == set(BACKENDS) and refused


def test_a_chain_of_thought_caption_runs_end_to_end(generators, cat_path):
    answer = "Reasoning:\n1. The cat opens its mouth.\n\nFinal prompt: The cat slowly opens its mouth in a wide yawn."
    with openai_server(answer) as server:
        editor = Frame2Frame.from_preset("tiny", captioner="cot", selector="last", progress=False, num_inference_steps=STEPS,
                                         vlm_options={"base_url": server.base_url, "max_retries": 0},
                                         generator=generators("cogvideox"))
        result = editor.edit(Image.open(cat_path), TARGET, seed=0)
    assert result.caption == "The cat slowly opens its mouth in a wide yawn." and len(server.requests) == 1
