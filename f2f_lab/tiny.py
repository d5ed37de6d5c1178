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

import os
import shutil
import string
import tempfile
from pathlib import Path
from typing import Callable

FORMAT_VERSION = 1
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


def _build_cogvideox_i2v(folder: Path, canvas: tuple[int, int]) -> None:
    import torch
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXImageToVideoPipeline,
        CogVideoXTransformer3DModel,
    )

    width, height = canvas
    tokenizer, text_encoder = tiny_t5()
    torch.manual_seed(0)
    # Same structure as CogVideoX-5b-I2V (image latents concatenated to the noise, so
    # in_channels = 2 x latent channels; rotary plus learned positional embeddings), scaled down.
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=4, attention_head_dim=16, in_channels=16, out_channels=8,
        time_embed_dim=32, text_embed_dim=32, num_layers=1,
        sample_width=width // 8, sample_height=height // 8, sample_frames=49,
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


def tiny_cogvideox_i2v(canvas: tuple[int, int] = (96, 64)) -> Path:
    """Folder of a tiny CogVideoX image-to-video pipeline for a (width, height) canvas."""
    width, height = canvas
    if width % 16 or height % 16:
        raise ValueError(f"tiny canvas sides must be multiples of 16, got {canvas}")
    return build_once(f"cogvideox-i2v-{width}x{height}", lambda folder: _build_cogvideox_i2v(folder, canvas))
