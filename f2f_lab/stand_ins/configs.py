"""The published configurations of the models built at full size with random weights (`full_size`):
CogVideoX-5B I2V (the paper's video model) and its T5 v1.1 XXL text encoder, Stable Diffusion 1.5
and FLUX.1-dev (the baselines and the manifold sets), Qwen2.5-VL-7B-Instruct (the local VLM).
The six other video backends' are in `video_configs`.

Where they come from:
- CogVideoX-5B I2V: the hub's THUDM/CogVideoX-5b-I2V model card (720x480 only, 49 frames at 8 fps,
  226 text tokens, "3d_rope_pos_embed + learnable_pos_embed"), the diffusers conversion script
  (scripts/convert_cogvideox_to_diffusers.py: 42 layers, 48 heads, sample 60x90x49, patch 2, VAE
  scaling factor 0.7 for 5B, text encoder google/t5-v1_1-xxl) and diffusers' class defaults
  (time embedding 512, text embedding 4096, gelu-approximate, VAE blocks 128/256/256/512).
- SD 1.5 (and 1.4, the same architecture), from diffusers' and transformers' class defaults (read
  in diffusers 0.42.1, transformers 5.x) with the published checkpoints' changes:
  `UNet2DConditionModel` defaults with cross_attention_dim=768, sample_size=64 (859.5M
  parameters); the SD VAE, 4 latent channels, blocks 128/256/512/512 (83.7M); CLIP ViT-L/14's
  text tower (123.1M); PNDM with SD's betas. Pipelines run it in float16, as the editors do.
- FLUX.1-dev: `FluxTransformer2DModel` defaults (19 double + 38 single blocks, 24 heads of
  128) with guidance_embeds=True (about 11.9B); the FLUX VAE (16 latent channels, shift
  0.1159, scale 0.3611); CLIP ViT-L/14's text tower and T5 v1.1 XXL's encoder; flow-matching
  Euler with dynamic shifting. bf16.
- Qwen2.5-VL-7B-Instruct (the `open` preset's VLM): the hub's config.json values (transformers'
  `Qwen2_5_VLConfig` defaults are the 72B text model's and a 3584-wide ViT, so every size is
  given): a 28-layer GQA decoder (3584 wide, 28 heads, 4 KV heads, MLP 18944, vocabulary
  152064, untied head, mrope sections 16/24/24) and a 32-block windowed ViT (1280 wide, 16
  heads, 14-px patches merged 2x2, full attention in blocks 7/15/23/31); 8,292,166,656
  parameters ("8.29B" on the hub), bf16. The image processor keeps the model's 3136 to
  12845056 pixels.
"""

from __future__ import annotations

# -- The published CogVideoX-5B I2V configuration ---------------------------------------------
COGVIDEOX_5B_I2V_TRANSFORMER = dict(
    num_attention_heads=48, attention_head_dim=64, in_channels=32, out_channels=16,
    flip_sin_to_cos=True, freq_shift=0, time_embed_dim=512, text_embed_dim=4096, num_layers=42,
    dropout=0.0, attention_bias=True, sample_width=90, sample_height=60, sample_frames=49,
    patch_size=2, temporal_compression_ratio=4, max_text_seq_length=226,
    activation_fn="gelu-approximate", timestep_activation_fn="silu", norm_elementwise_affine=True,
    norm_eps=1e-5, spatial_interpolation_scale=1.875, temporal_interpolation_scale=1.0,
    use_rotary_positional_embeddings=True, use_learned_positional_embeddings=True,
)
COGVIDEOX_5B_I2V_VAE = dict(
    in_channels=3, out_channels=3,
    down_block_types=("CogVideoXDownBlock3D",) * 4, up_block_types=("CogVideoXUpBlock3D",) * 4,
    block_out_channels=(128, 256, 256, 512), latent_channels=16, layers_per_block=3, act_fn="silu",
    norm_eps=1e-6, norm_num_groups=32, temporal_compression_ratio=4, sample_height=480, sample_width=720,
    scaling_factor=0.7, force_upcast=True, use_quant_conv=False, use_post_quant_conv=False,
)
T5_V1_1_XXL_ENCODER = dict(  # google/t5-v1_1-xxl's config.json, encoder only
    vocab_size=32128, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
    relative_attention_num_buckets=32, relative_attention_max_distance=128, dropout_rate=0.1,
    layer_norm_epsilon=1e-6, feed_forward_proj="gated-gelu", is_encoder_decoder=False,
)
COGVIDEOX_SCHEDULER = dict(  # DDIM with v-prediction, zero terminal SNR, trailing spacing
    beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, num_train_timesteps=1000,
    prediction_type="v_prediction", rescale_betas_zero_snr=True, snr_shift_scale=1.0,
    timestep_spacing="trailing", set_alpha_to_one=True, clip_sample=False,
)


# -- Stable Diffusion 1.5, FLUX.1-dev, Qwen2.5-VL-7B-Instruct ------------------------------------

SD15_UNET = dict(sample_size=64, cross_attention_dim=768)  # the rest are UNet2DConditionModel's defaults
SD_VAE = dict(
    in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
    block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4, norm_num_groups=32, sample_size=512,
    scaling_factor=0.18215,
)
CLIP_L14_TEXT = dict(  # openai/clip-vit-large-patch14's text tower (SD 1.x and FLUX's first text encoder)
    vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
    max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=768, layer_norm_eps=1e-5,
)
SD_SCHEDULER = dict(  # PNDM, SD 1.x's scheduler_config.json
    beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
    set_alpha_to_one=False, skip_prk_steps=True, steps_offset=1,
)
FLUX_DEV_TRANSFORMER = dict(
    patch_size=1, in_channels=64, num_layers=19, num_single_layers=38, attention_head_dim=128, num_attention_heads=24,
    joint_attention_dim=4096, pooled_projection_dim=768, guidance_embeds=True, axes_dims_rope=(16, 56, 56),
)
FLUX_VAE = dict(
    SD_VAE, latent_channels=16, sample_size=1024, scaling_factor=0.3611, shift_factor=0.1159,
    use_quant_conv=False, use_post_quant_conv=False,
)
FLUX_SCHEDULER = dict(
    num_train_timesteps=1000, shift=3.0, use_dynamic_shifting=True, base_shift=0.5, max_shift=1.15,
    base_image_seq_len=256, max_image_seq_len=4096,
)

QWEN2_5_VL_7B = dict(
    text_config=dict(
        vocab_size=152064, hidden_size=3584, intermediate_size=18944, num_hidden_layers=28, num_attention_heads=28,
        num_key_value_heads=4, max_position_embeddings=128000, rms_norm_eps=1e-6, use_sliding_window=False,
        sliding_window=32768, max_window_layers=28, tie_word_embeddings=False, bos_token_id=151643, eos_token_id=151645,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [16, 24, 24]},
    ),
    vision_config=dict(
        depth=32, hidden_size=1280, intermediate_size=3420, num_heads=16, out_hidden_size=3584, patch_size=14,
        spatial_merge_size=2, temporal_patch_size=2, window_size=112, fullatt_block_indexes=[7, 15, 23, 31],
        tokens_per_second=2, hidden_act="silu",
    ),
    image_token_id=151655, video_token_id=151656, vision_start_token_id=151652, vision_end_token_id=151653,
    tie_word_embeddings=False,
)
QWEN2_5_VL_PIXELS = {"min_pixels": 3136, "max_pixels": 12845056}  # the hub's preprocessor_config.json
