"""Tiny random-weight stand-ins of the image editors' models: FLUX, Stable Diffusion 1.x, FLUX.1 Kontext,
Qwen-Image-Edit and ChronoEdit (the "flux", "stable-diffusion", "flux-kontext", "qwen-image-edit" and
"chronoedit" stand-ins).

Each is the real pipeline class with its real component classes at toy sizes, written once
into the cache (`cache.build_once`) and loaded back with `<Pipeline>.from_pretrained(folder)`,
so offline runs go through the same loading code as the hub's weights. Nothing is downloaded:
tokenizers are written offline (`text`). Outputs are noise. The peers' configurations follow
diffusers' own fast tests (tests/pipelines/chronoedit/, flux/test_pipeline_flux_kontext.py,
qwenimage/test_qwenimage_edit_plus.py), which load their tokenizers from the hub.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .cache import build_once, seed
from .text import ship_spiece, t5_encoder, tiny_clip_text, tiny_t5, write_t5_sentencepiece
from .tiny_vlm import tiny_qwen2_5_vl, tiny_qwen2_vl_processor

# Where the distillation LoRA lives in the ChronoEdit repository (and in the tiny folder).
CHRONOEDIT_DISTILL_LORA = "lora/chronoedit_distill_lora.safetensors"  # where the hub repository keeps it (editors.peers.chronoedit; a test checks they agree)
TINY_LORA_RANK = 2


def _build_flux(folder: Path) -> None:
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel

    tokenizer, text_encoder = tiny_clip_text(folder / "_clip_tokenizer")
    tokenizer_2, text_encoder_2 = tiny_t5()
    seed()
    # FLUX.1-dev's structure (double- and single-stream blocks, guidance embedding, 3-axis
    # rotary embedding summing to the head size, 2x2-packed latents), scaled down.
    transformer = FluxTransformer2DModel(
        patch_size=1, in_channels=16, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=32, pooled_projection_dim=32, guidance_embeds=True,
        axes_dims_rope=(4, 4, 8),
    )
    seed()
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
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel

    tokenizer, text_encoder = tiny_clip_text(folder / "_clip_tokenizer")
    seed()
    # Stable Diffusion 1.x's structure (three cross-attention levels above a plain one, so
    # cross-attention exists at 1/4 of the latent size, where LEDITS++ reads its masks), scaled down.
    unet = UNet2DConditionModel(
        sample_size=16, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(8, 8, 16, 16),
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        cross_attention_dim=32, attention_head_dim=2, norm_num_groups=4,
    )
    seed()
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




def _build_chronoedit(folder: Path) -> None:
    from diffusers import AutoencoderKLWan, ChronoEditPipeline, ChronoEditTransformer3DModel, UniPCMultistepScheduler
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel, T5Tokenizer

    spiece = write_t5_sentencepiece(folder / "_spiece")
    tokenizer = T5Tokenizer.from_pretrained(spiece, extra_ids=0)
    text_encoder = t5_encoder(len(tokenizer), umt5=True)
    seed()
    # ChronoEdit-14B's structure (Wan 2.1 I2V: 16 noise + 16 condition + 4 mask channels in,
    # 1x2x2 patches, CLIP image tokens in cross-attention), scaled down.
    transformer = ChronoEditTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=36, out_channels=16,
        text_dim=32, freq_dim=256, ffn_dim=32, num_layers=1, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32, image_dim=8,
    )
    seed()
    vae = AutoencoderKLWan(base_dim=4, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])  # 8x spatial, 4x temporal, as Wan's VAE
    seed()
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
    ship_spiece(folder, keep_tokenizer_json=False)  # as on the hub: spiece.model alone, converted on load
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
    return build_once("chronoedit", _build_chronoedit)


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
    return build_once("flux-kontext", _build_flux_kontext)


def _build_qwen_image_edit(folder: Path) -> None:
    from diffusers import AutoencoderKLQwenImage, FlowMatchEulerDiscreteScheduler, QwenImageEditPlusPipeline
    from diffusers import QwenImageTransformer2DModel
    from transformers import Qwen2_5_VLForConditionalGeneration, Qwen2VLProcessor

    # The text encoder is the tiny Qwen2.5-VL of the local VLM (same class as the real one's),
    # and its processor's parts go into the Qwen2VLProcessor the pipeline names.
    text_encoder = Qwen2_5_VLForConditionalGeneration.from_pretrained(tiny_qwen2_5_vl())
    parts = tiny_qwen2_vl_processor(folder / "_processor")
    processor = Qwen2VLProcessor(image_processor=parts.image_processor, tokenizer=parts.tokenizer,
                                 video_processor=parts.video_processor, chat_template=parts.chat_template)
    seed()
    # Qwen-Image's MMDiT (2x2 patches, 3-axis rotary embedding, text from the VL model's last
    # hidden states), scaled down; 4 latent channels instead of 16.
    transformer = QwenImageTransformer2DModel(
        patch_size=2, in_channels=16, out_channels=4, num_layers=1, attention_head_dim=16, num_attention_heads=2,
        joint_attention_dim=text_encoder.config.text_config.hidden_size, guidance_embeds=False, axes_dims_rope=(8, 4, 4),
    )
    seed()
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
    return build_once("qwen-image-edit", _build_qwen_image_edit)
