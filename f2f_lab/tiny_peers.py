"""Tiny random-weight stand-ins of the peer editors: ChronoEdit, FLUX.1 Kontext, Qwen-Image-Edit.

Like `f2f_lab.tiny`, each is the real pipeline class with its real component classes at toy
sizes, written once with `save_pretrained` into the tiny cache (`tiny.build_once`) and loaded
back with `<Pipeline>.from_pretrained(folder)`, so offline runs go through the same loading
code as the hub's weights. Nothing is downloaded: tokenizers are written here (a trained
sentencepiece model for UMT5, a byte-level BPE for CLIP and for Qwen2.5-VL). Outputs are noise.

The configurations follow diffusers' own fast tests (tests/pipelines/chronoedit/,
flux/test_pipeline_flux_kontext.py, qwenimage/test_qwenimage_edit_plus.py), which load their
tokenizers from the hub; here they are built offline instead.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .tiny import build_once, tiny_flux, tiny_qwen2_5_vl, tiny_qwen2_vl_processor, write_t5_sentencepiece

# Where the distillation LoRA lives in the ChronoEdit repository (and in the tiny folder).
CHRONOEDIT_DISTILL_LORA = "lora/chronoedit_distill_lora.safetensors"
TINY_LORA_RANK = 2
PEERS_VERSION = 2  # bump when a configuration below changes: old tiny folders rebuild


def _build_chronoedit(folder: Path) -> None:
    import torch
    from diffusers import AutoencoderKLWan, ChronoEditPipeline, ChronoEditTransformer3DModel, UniPCMultistepScheduler
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel, T5Tokenizer, UMT5Config, UMT5EncoderModel

    spiece = write_t5_sentencepiece(folder / "_spiece")
    tokenizer = T5Tokenizer.from_pretrained(spiece, extra_ids=0)
    torch.manual_seed(0)
    text_encoder = UMT5EncoderModel(UMT5Config(
        vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=1, num_heads=4,
        relative_attention_num_buckets=8, feed_forward_proj="gated-gelu", is_encoder_decoder=False,
    ))
    torch.manual_seed(0)
    # ChronoEdit-14B's structure (Wan 2.1 I2V: 16 noise + 16 condition + 4 mask channels in,
    # 1x2x2 patches, CLIP image tokens in cross-attention), scaled down.
    transformer = ChronoEditTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=36, out_channels=16,
        text_dim=32, freq_dim=256, ffn_dim=32, num_layers=1, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32, image_dim=8,
    )
    torch.manual_seed(0)
    vae = AutoencoderKLWan(base_dim=4, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])  # 8x spatial, 4x temporal, as Wan's VAE
    torch.manual_seed(0)
    image_encoder = CLIPVisionModel(CLIPVisionConfig(
        hidden_size=8, projection_dim=8, num_hidden_layers=2, num_attention_heads=2, image_size=32,
        intermediate_size=16, patch_size=4,
    ))
    image_processor = CLIPImageProcessor(crop_size=32, size={"shortest_edge": 32})
    # The authors' sampler: UniPC on flow sigmas with shift 5.0 (nv-tlabs/ChronoEdit's script default).
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=5.0,
                                        num_train_timesteps=1000)
    pipe = ChronoEditPipeline(tokenizer=tokenizer, text_encoder=text_encoder, image_encoder=image_encoder,
                              image_processor=image_processor, transformer=transformer, vae=vae, scheduler=scheduler)
    pipe.save_pretrained(folder)
    # As on the hub: the tokenizer is a sentencepiece model, converted when the pipeline loads.
    (folder / "tokenizer" / "tokenizer.json").unlink(missing_ok=True)
    shutil.move(str(spiece / "spiece.model"), folder / "tokenizer" / "spiece.model")
    shutil.rmtree(spiece)
    _write_tiny_distill_lora(folder / CHRONOEDIT_DISTILL_LORA, transformer)


def _write_tiny_distill_lora(path: Path, transformer) -> None:
    """A random rank-2 LoRA on every self-attention projection, in the Wan authors' key format.

    Keys like "diffusion_model.blocks.0.self_attn.q.lora_A.weight" with an ".alpha" each, the
    format that diffusers' Wan LoRA loader converts (`WanLoraLoaderMixin.lora_state_dict`), so
    the tiny run goes through that conversion as a checkpoint trained in the Wan code base would.
    """
    import torch
    from safetensors.torch import save_file

    generator = torch.Generator().manual_seed(0)
    state = {}
    for index, block in enumerate(transformer.blocks):
        for theirs, ours in (("q", "to_q"), ("k", "to_k"), ("v", "to_v"), ("o", "to_out.0")):
            linear = block.attn1.get_submodule(ours)
            prefix = f"diffusion_model.blocks.{index}.self_attn.{theirs}"
            state[f"{prefix}.lora_A.weight"] = torch.randn(TINY_LORA_RANK, linear.in_features, generator=generator) * 0.1
            state[f"{prefix}.lora_B.weight"] = torch.randn(linear.out_features, TINY_LORA_RANK, generator=generator) * 0.1
            state[f"{prefix}.alpha"] = torch.tensor(float(TINY_LORA_RANK))
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path))


def tiny_chronoedit() -> Path:
    """Folder of a tiny ChronoEdit pipeline (`ChronoEditPipeline.from_pretrained` reads it), with a tiny
    distillation LoRA at `lora/chronoedit_distill_lora.safetensors` as in the real repository.

    Images whose sides are multiples of 16 px (64 px is plenty); outputs are noise.
    """
    return build_once(f"chronoedit-p{PEERS_VERSION}", _build_chronoedit)


def _build_flux_kontext(folder: Path) -> None:
    from diffusers import FluxKontextPipeline

    # FLUX.1 Kontext [dev] has FLUX.1-dev's components (it reads the source image's tokens beside
    # the noise through the same transformer), so the tiny FLUX's are loaded into the Kontext class.
    pipe = FluxKontextPipeline.from_pretrained(tiny_flux(), image_encoder=None, feature_extractor=None)
    pipe.save_pretrained(folder)


def tiny_flux_kontext() -> Path:
    """Folder of a tiny FLUX.1 Kontext pipeline (`FluxKontextPipeline.from_pretrained` reads it).

    Images whose sides are multiples of 16 px; outputs are noise.
    """
    return build_once(f"flux-kontext-p{PEERS_VERSION}", _build_flux_kontext)


def _build_qwen_image_edit(folder: Path) -> None:
    import torch
    from diffusers import AutoencoderKLQwenImage, FlowMatchEulerDiscreteScheduler, QwenImageEditPlusPipeline
    from diffusers import QwenImageTransformer2DModel
    from transformers import Qwen2_5_VLForConditionalGeneration, Qwen2VLProcessor

    # The text encoder is the tiny Qwen2.5-VL of the local VLM (same class as the real one's),
    # and its processor's parts go into the Qwen2VLProcessor the pipeline names.
    text_encoder = Qwen2_5_VLForConditionalGeneration.from_pretrained(tiny_qwen2_5_vl())
    parts = tiny_qwen2_vl_processor(folder / "_processor")
    processor = Qwen2VLProcessor(image_processor=parts.image_processor, tokenizer=parts.tokenizer,
                                 video_processor=parts.video_processor, chat_template=parts.chat_template)
    torch.manual_seed(0)
    # Qwen-Image's MMDiT (2x2 patches, 3-axis rotary embedding, text from the VL model's last
    # hidden states), scaled down; 4 latent channels instead of 16.
    transformer = QwenImageTransformer2DModel(
        patch_size=2, in_channels=16, out_channels=4, num_layers=1, attention_head_dim=16, num_attention_heads=2,
        joint_attention_dim=text_encoder.config.text_config.hidden_size, guidance_embeds=False, axes_dims_rope=(8, 4, 4),
    )
    torch.manual_seed(0)
    # 8x spatial compression as the real VAE: the pipeline encodes its reference image at about
    # 1024x1024 whatever the output size, so this is the slow part of a tiny edit (about 2 s).
    vae = AutoencoderKLQwenImage(base_dim=4, z_dim=4, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                                 temperal_downsample=[False, True, True], latents_mean=[0.0] * 4, latents_std=[1.0] * 4)
    # Qwen-Image's scheduler configuration: exponential time shift from 256 to 8192 tokens
    # (the keys as diffusers' qwenimage.md quotes them; base/max shift and the terminal value unconfirmed).
    scheduler = FlowMatchEulerDiscreteScheduler(
        base_image_seq_len=256, max_image_seq_len=8192, base_shift=0.5, max_shift=0.9, shift=1.0, shift_terminal=0.02,
        time_shift_type="exponential", use_dynamic_shifting=True,
    )
    pipe = QwenImageEditPlusPipeline(scheduler=scheduler, vae=vae, text_encoder=text_encoder,
                                     tokenizer=processor.tokenizer, processor=processor, transformer=transformer)
    pipe.save_pretrained(folder)
    shutil.rmtree(folder / "_processor")


def tiny_qwen_image_edit() -> Path:
    """Folder of a tiny Qwen-Image-Edit-2509 pipeline (`QwenImageEditPlusPipeline.from_pretrained` reads it).

    Outputs whose sides are multiples of 32 px; outputs are noise.
    """
    return build_once(f"qwen-image-edit-p{PEERS_VERSION}", _build_qwen_image_edit)
