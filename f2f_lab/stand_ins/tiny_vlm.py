"""The tiny local VLM: a Qwen2.5-VL of the real classes with random weights (the "vlm:qwen2.5-vl" stand-in).

Its processor (byte-level BPE, image and video processors, chat template) is built offline
and serves the tiny Qwen-Image-Edit and the full-size Qwen2.5-VL-7B build too. Answers are gibberish.
"""

from __future__ import annotations

from pathlib import Path

from .cache import build_once, seed
from .text import QWEN2_VL_CHAT_TEMPLATE, qwen2_tokenizer


def tiny_qwen2_vl_processor(folder: Path, *, min_pixels: int = 56 * 56, max_pixels: int = 112 * 112):
    """A Qwen2.5-VL processor built offline: byte-level BPE tokenizer, image and video processors, chat template.

    The tokenizer is Qwen2's byte-level BPE (`Qwen2Tokenizer`) with a small vocabulary trained
    on the paper's instructions (`text.qwen_tiny_bpe`) and the real model's special tokens, so any
    text tokenizes. Images are resized to between `min_pixels` and `max_pixels` (the real
    model: 3136 to 12845056; the tiny default keeps each image at 16 visual tokens or fewer).
    The processor is saved to `folder` and loaded back with `AutoProcessor`.
    """
    from transformers import AutoProcessor, Qwen2_5_VLProcessor, Qwen2VLImageProcessor
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    tokenizer = qwen2_tokenizer(chat_template=False)  # the processor holds the template
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
    seed()
    model = Qwen2_5_VLForConditionalGeneration(config)
    model.generation_config = GenerationConfig(bos_token_id=pad, eos_token_id=[end, pad], pad_token_id=pad)
    model.save_pretrained(folder)


def tiny_qwen2_5_vl() -> Path:
    """Folder of a tiny Qwen2.5-VL (model, processor, chat template) that `from_pretrained` reads offline.

    The same classes as Qwen/Qwen2.5-VL-7B-Instruct (`Qwen2_5_VLForConditionalGeneration`,
    `Qwen2_5_VLProcessor`); random weights, so its answers are gibberish.
    """
    return build_once("qwen2.5-vl", _build_qwen2_5_vl)
