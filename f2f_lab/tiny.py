"""Small random-weight stand-ins of the real models, for offline runs and tests.

Each stand-in uses the real classes (diffusers, transformers) with tiny configurations, is
written once with `save_pretrained` into a cache folder and loaded back with
`from_pretrained`, so offline runs exercise the same loading code as real weights.
Nothing here is downloaded. Outputs of these models are noise.

The cache lives in `$F2F_CACHE` (default `~/.cache/f2f_lab`); folders are keyed by a
format version and the diffusers version, and built atomically, so parallel test
processes and interrupted builds never see half a model.
"""

from __future__ import annotations

import json
import os
import shutil
import string
import tempfile
from pathlib import Path
from typing import Callable

FORMAT_VERSION = 4  # bump whenever a tiny model's configuration changes: old caches rebuild
TEXT_MAX_LENGTH = 128  # the tiny transformer's text length (the real model's: 226 tokens)


def cache_root() -> Path:
    return Path(os.environ.get("F2F_CACHE", Path.home() / ".cache" / "f2f_lab"))


def build_once(name: str, build: Callable[[Path], None]) -> Path:
    """Return `cache_root()/tiny/name`, running `build(tmp_dir)` first if it is not there yet."""
    import diffusers

    target = cache_root() / "tiny" / f"{name}-v{FORMAT_VERSION}-diffusers{diffusers.__version__}"
    if (target / ".complete").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        build(tmp)
        (tmp / ".complete").write_text("ok\n")
        try:
            os.rename(tmp, target)
        except OSError:  # another process finished first; theirs is as good as ours
            if not (target / ".complete").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def tiny_t5(vocab_words: str = "a the of photo cat dog person slowly raising hands video scene"):
    """A T5 tokenizer and encoder that need no download.

    The tokenizer is a unigram vocabulary of characters and a few words (transformers'
    T5Tokenizer accepts it directly), so any English text tokenizes; the encoder is a
    one-layer T5 with 32-d outputs.
    """
    import torch
    from transformers import T5Config, T5EncoderModel, T5Tokenizer

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    pieces += [("\u2581" + w, -3.0) for w in vocab_words.split()]
    pieces += [("\u2581" + c, -4.0) for c in string.ascii_letters + string.digits]
    pieces += [(c, -5.0) for c in string.ascii_letters + string.digits + string.punctuation]
    tokenizer = T5Tokenizer(vocab=pieces, extra_ids=0)
    torch.manual_seed(0)
    config = T5Config(
        vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=1, num_heads=4,
        relative_attention_num_buckets=8, feed_forward_proj="gated-gelu", is_encoder_decoder=False,
    )
    return tokenizer, T5EncoderModel(config)


def write_t5_sentencepiece(folder: Path, words: str = "a the of photo cat dog person slowly raising hands video scene") -> Path:
    """Train a small unigram sentencepiece model (well under a second) and write it as `folder/spiece.model`.

    The hub's T5 tokenizers (CogVideoX's among them) are such a file with no tokenizer.json;
    transformers converts it on load, which needs sentencepiece and protobuf. A tiny folder
    written this way makes the tiny models go through that same conversion.
    """
    import io

    import sentencepiece

    corpus = [words, "the scene slowly and smoothly changes until it shows a cat yawning",
              string.ascii_lowercase, string.ascii_uppercase, string.digits, string.punctuation]
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus * 20), model_writer=model, vocab_size=120, model_type="unigram",
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, character_coverage=1.0, hard_vocab_limit=False, minloglevel=2,
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "spiece.model").write_bytes(model.getvalue())
    return folder


def _build_cogvideox_i2v(folder: Path, canvas: tuple[int, int]) -> None:
    import torch
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXImageToVideoPipeline,
        CogVideoXTransformer3DModel,
    )

    from transformers import T5Config, T5EncoderModel, T5Tokenizer

    width, height = canvas
    spiece = write_t5_sentencepiece(folder / "_spiece")
    tokenizer = T5Tokenizer.from_pretrained(spiece, extra_ids=0)  # the real folder's conversion
    torch.manual_seed(0)
    text_encoder = T5EncoderModel(T5Config(
        vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=1, num_heads=4,
        relative_attention_num_buckets=8, feed_forward_proj="gated-gelu", is_encoder_decoder=False,
    ))
    torch.manual_seed(0)
    # Same structure as CogVideoX-5b-I2V (image latents concatenated to the noise, so
    # in_channels = 2 x latent channels; rotary plus learned positional embeddings), scaled down.
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=4, attention_head_dim=16, in_channels=16, out_channels=8,
        time_embed_dim=32, text_embed_dim=32, num_layers=1,
        sample_width=width // 8, sample_height=height // 8, sample_frames=17,  # the tiny preset's frame count: its learned embedding fits it
        patch_size=2, temporal_compression_ratio=4, max_text_seq_length=TEXT_MAX_LENGTH,
        use_rotary_positional_embeddings=True, use_learned_positional_embeddings=True,
    )
    torch.manual_seed(0)
    vae = AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3,
        down_block_types=("CogVideoXDownBlock3D",) * 4, up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8), latent_channels=8, layers_per_block=1, norm_num_groups=2,
        temporal_compression_ratio=4,
    )
    # The real model's scheduler configuration: DDIM with v-prediction, zero-SNR, trailing.
    scheduler = CogVideoXDDIMScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, prediction_type="v_prediction",
        rescale_betas_zero_snr=True, snr_shift_scale=1.0, timestep_spacing="trailing",
        set_alpha_to_one=True, clip_sample=False,
    )
    pipe = CogVideoXImageToVideoPipeline(
        tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer, scheduler=scheduler
    )
    pipe.save_pretrained(folder)
    # As on the hub: the tokenizer is spiece.model alone, converted when the pipeline loads.
    (folder / "tokenizer" / "tokenizer.json").unlink(missing_ok=True)
    shutil.move(str(spiece / "spiece.model"), folder / "tokenizer" / "spiece.model")
    shutil.rmtree(spiece)


def tiny_cogvideox_i2v(canvas: tuple[int, int] = (96, 64)) -> Path:
    """Folder of a tiny CogVideoX image-to-video pipeline for a (width, height) canvas."""
    width, height = canvas
    if width % 16 or height % 16:
        raise ValueError(f"tiny canvas sides must be multiples of 16, got {canvas}")
    return build_once(f"cogvideox-i2v-{width}x{height}", lambda folder: _build_cogvideox_i2v(folder, canvas))


def _byte_symbols() -> list[str]:
    """The 256 printable stand-ins of byte-level BPE (GPT-2's table, which CLIP's tokenizer uses)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    codes, extra = [], 0
    for byte in range(256):
        if byte in printable:
            codes.append(byte)
        else:
            codes.append(256 + extra)
            extra += 1
    return [chr(code) for code in codes]


def write_tiny_clip_tokenizer(folder: Path, words: str = "a the of photo person happy portrait shirt with hands heart cat") -> Path:
    """Write vocab.json + merges.txt of a byte-level BPE that `CLIPTokenizer.from_pretrained` reads.

    Every byte symbol is in the vocabulary alone and as a word end ("x</w>"), so any text
    tokenizes; the merges spell out a few whole words so that common prompts stay short.
    """
    import json

    symbols = _byte_symbols()
    vocab: dict[str, int] = {}
    for token in symbols + [s + "</w>" for s in symbols]:
        vocab.setdefault(token, len(vocab))
    merges: dict[str, None] = {}
    for word in words.lower().split():
        pieces = list(word[:-1]) + [word[-1] + "</w>"]
        while len(pieces) > 1:
            merges[f"{pieces[0]} {pieces[1]}"] = None
            pieces = [pieces[0] + pieces[1]] + pieces[2:]
            vocab.setdefault(pieces[0], len(vocab))
    for special in ("<|startoftext|>", "<|endoftext|>"):
        vocab.setdefault(special, len(vocab))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    return folder


def tiny_clip_text(tokenizer_folder: Path):
    """A CLIP tokenizer (written locally, no download) and a one-layer 32-d CLIP text encoder."""
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(write_tiny_clip_tokenizer(tokenizer_folder), model_max_length=77)
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
        max_position_embeddings=77, projection_dim=32,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    ))
    return tokenizer, text_encoder


def _build_flux(folder: Path) -> None:
    import torch
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel

    tokenizer, text_encoder = tiny_clip_text(folder / "_clip_tokenizer")
    tokenizer_2, text_encoder_2 = tiny_t5()
    torch.manual_seed(0)
    # FLUX.1-dev's structure (double- and single-stream blocks, guidance embedding, 3-axis
    # rotary embedding summing to the head size, 2x2-packed latents), scaled down.
    transformer = FluxTransformer2DModel(
        patch_size=1, in_channels=16, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=32, pooled_projection_dim=32, guidance_embeds=True,
        axes_dims_rope=(4, 4, 8),
    )
    torch.manual_seed(0)
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=(8, 8, 8, 8), layers_per_block=1,
        latent_channels=4, norm_num_groups=2, sample_size=64, use_quant_conv=False, use_post_quant_conv=False,
        shift_factor=0.0609, scaling_factor=1.5035,
    )
    # FLUX.1-dev's scheduler configuration (resolution-dependent shift).
    scheduler = FlowMatchEulerDiscreteScheduler(
        shift=3.0, use_dynamic_shifting=True, base_shift=0.5, max_shift=1.15, base_image_seq_len=256,
        max_image_seq_len=4096,
    )
    pipe = FluxPipeline(
        scheduler=scheduler, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
        text_encoder_2=text_encoder_2, tokenizer_2=tokenizer_2, transformer=transformer,
    )
    pipe.save_pretrained(folder)
    shutil.rmtree(folder / "_clip_tokenizer")


def tiny_flux() -> Path:
    """Folder of a tiny FLUX text-to-image pipeline (FluxPipeline.from_pretrained reads it).

    Images of any size that is a multiple of 16 px (64 px is plenty); outputs are noise.
    """
    return build_once("flux", _build_flux)


def _build_stable_diffusion(folder: Path) -> None:
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel

    tokenizer, text_encoder = tiny_clip_text(folder / "_clip_tokenizer")
    torch.manual_seed(0)
    # Stable Diffusion 1.x's structure (three cross-attention levels above a plain one, so
    # cross-attention exists at 1/4 of the latent size, where LEDITS++ reads its masks), scaled down.
    unet = UNet2DConditionModel(
        sample_size=16, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(8, 8, 16, 16),
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        cross_attention_dim=32, attention_head_dim=2, norm_num_groups=4,
    )
    torch.manual_seed(0)
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=(8, 8, 8, 8), layers_per_block=1,
        latent_channels=4, norm_num_groups=2, sample_size=128, scaling_factor=0.18215,
    )
    # SD 1.5's scheduler configuration; from_config keeps clip_sample=False for the DDIM and
    # DPM-Solver schedulers that editors derive from it, as the real config file does.
    scheduler = PNDMScheduler.from_config(dict(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
        set_alpha_to_one=False, skip_prk_steps=True, steps_offset=1, clip_sample=False,
    ))
    pipe = StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
        safety_checker=None, feature_extractor=None, image_encoder=None, requires_safety_checker=False,
    )
    pipe.save_pretrained(folder)
    shutil.rmtree(folder / "_clip_tokenizer")


def tiny_stable_diffusion() -> Path:
    """Folder of a tiny Stable Diffusion 1.x pipeline (UNet, VAE, CLIP text encoder, tokenizer, PNDM).

    The SD-based editors (img2img, LEDITS++, Pix2Pix-Zero) load it with their own pipeline
    classes. Images whose sides are multiples of 32 px (64 px is plenty); outputs are noise.
    """
    return build_once("stable-diffusion", _build_stable_diffusion)


# Qwen2-VL / Qwen2.5-VL's chat template, as the hub's Qwen/Qwen2.5-VL-7B-Instruct ships it
# (chat_template.json): a default system turn, <|im_start|>role ... <|im_end|> turns, and an
# image placeholder <|vision_start|><|image_pad|><|vision_end|> where each image stands.
QWEN2_VL_CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}"
    "<|im_end|>\n{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: "
    "{% endif %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
QWEN2_VL_SPECIAL_TOKENS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
    "<|image_pad|>", "<|video_pad|>",
)


def _qwen_tiny_bpe(vocab_size: int = 1024) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Vocabulary and merges of a byte-level BPE trained (in well under a second) on the paper's two
    VLM instructions, so that the tiny model's prompts stay short; all 256 bytes are in it, so any text tokenizes."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    from .paper import B1_INSTRUCTION, C1_INSTRUCTION

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    corpus = [B1_INSTRUCTION, C1_INSTRUCTION, "A photo of a cat yawning. You are a helpful assistant.", string.printable]
    bpe.train_from_iterator(corpus * 4, trainer=trainer)
    state = json.loads(bpe.to_str())["model"]
    return state["vocab"], [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in state["merges"]]


def tiny_qwen2_vl_processor(folder: Path, *, min_pixels: int = 56 * 56, max_pixels: int = 112 * 112):
    """A Qwen2.5-VL processor built offline: byte-level BPE tokenizer, image and video processors, chat template.

    The tokenizer is Qwen2's byte-level BPE (`Qwen2Tokenizer`) with a small vocabulary trained
    on the paper's instructions (`_qwen_tiny_bpe`) and the real model's special tokens, so any
    text tokenizes. Images are resized to between `min_pixels` and `max_pixels` (the real
    model: 3136 to 12845056; the tiny default keeps each image at 16 visual tokens or fewer).
    The processor is saved to `folder` and loaded back with `AutoProcessor`.
    """
    from transformers import AutoProcessor, Qwen2_5_VLProcessor, Qwen2Tokenizer, Qwen2VLImageProcessor
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    vocab, merges = _qwen_tiny_bpe()
    tokenizer = Qwen2Tokenizer(vocab=vocab, merges=merges, errors="replace", model_max_length=32768)
    tokenizer.add_special_tokens({"additional_special_tokens": list(QWEN2_VL_SPECIAL_TOKENS[1:])})
    tokenizer.eos_token, tokenizer.pad_token = "<|im_end|>", "<|endoftext|>"
    image_processor = Qwen2VLImageProcessor(min_pixels=min_pixels, max_pixels=max_pixels)
    video_processor = Qwen2VLVideoProcessor(min_pixels=min_pixels, max_pixels=max_pixels)
    processor = Qwen2_5_VLProcessor(image_processor=image_processor, tokenizer=tokenizer,
                                    video_processor=video_processor, chat_template=QWEN2_VL_CHAT_TEMPLATE)
    processor.save_pretrained(folder)
    return AutoProcessor.from_pretrained(folder)


def qwen2_vl_token_ids(tokenizer) -> dict[str, int]:
    """The ids of the special tokens that a Qwen2.5-VL config names, in this tokenizer."""
    ids = {name: tokenizer.convert_tokens_to_ids(token) for name, token in (
        ("image_token_id", "<|image_pad|>"), ("video_token_id", "<|video_pad|>"),
        ("vision_start_token_id", "<|vision_start|>"), ("vision_end_token_id", "<|vision_end|>"))}
    return ids


def _build_qwen2_5_vl(folder: Path) -> None:
    import torch
    from transformers import GenerationConfig, Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    processor = tiny_qwen2_vl_processor(folder)
    tokenizer = processor.tokenizer
    end, pad = tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.convert_tokens_to_ids("<|endoftext|>")
    # Qwen2.5-VL-7B's structure (a windowed ViT with 14-px patches merged 2x2, full attention in
    # the listed blocks; a GQA decoder with multimodal rotary sections), scaled down.
    config = Qwen2_5_VLConfig(
        text_config=dict(
            vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
            num_key_value_heads=1, max_position_embeddings=32768, rms_norm_eps=1e-6,
            rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [2, 3, 3]},
            bos_token_id=pad, eos_token_id=end, pad_token_id=pad,
        ),
        vision_config=dict(
            depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=32, patch_size=14,
            spatial_merge_size=2, temporal_patch_size=2, window_size=112, fullatt_block_indexes=[0], tokens_per_second=2,
        ),
        **qwen2_vl_token_ids(tokenizer),
    )
    torch.manual_seed(0)
    model = Qwen2_5_VLForConditionalGeneration(config)
    model.generation_config = GenerationConfig(bos_token_id=pad, eos_token_id=[end, pad], pad_token_id=pad)
    model.save_pretrained(folder)


def tiny_qwen2_5_vl() -> Path:
    """Folder of a tiny Qwen2.5-VL (model, processor, chat template) that `from_pretrained` reads offline.

    The same classes as Qwen/Qwen2.5-VL-7B-Instruct (`Qwen2_5_VLForConditionalGeneration`,
    `Qwen2_5_VLProcessor`); random weights, so its answers are gibberish.
    """
    return build_once("qwen2.5-vl", _build_qwen2_5_vl)
