"""The published configurations of the six image-to-video backends beyond the paper's (`tiny_video.TINY_BACKENDS` keys).

CogVideoX1.5-5B-I2V, Wan2.1-I2V-14B-480P, Wan2.2-TI2V-5B, Wan2.2-I2V-A14B, HunyuanVideo-1.5 480p
I2V and LTX-Video (2B): each backend's weighted modules (`BACKENDS`), its pipeline class and
arguments (`PIPELINES`), the modules kept in float32 and the image processors built at the real
encoders' input sizes, so `full_size.random_backend_pipeline` times each backend at its real size
without a download (tokenizers, schedulers and the guider come from the tiny stand-in).

Where the configurations come from (diffusers' conversion scripts are read at
huggingface/diffusers HEAD 58eb52c, diffusers 0.42.1's classes are the ones instantiated; the
comment above each configuration names its entry and marks what could not be confirmed):
- scripts/convert_cogvideox_to_diffusers.py: get_transformer_init_kwargs("1.5"), convert_transformer
  (i2v branch), convert_vae(version "1.5"), the 5B flags in get_args' comments.
- scripts/convert_wan_to_diffusers.py: get_transformer_config("Wan-I2V-14B-480p"), ("Wan2.2-TI2V-5B"),
  ("Wan2.2-I2V-14B-720p"), convert_vae (AutoencoderKLWan()), vae22_diffusers_config, and __main__
  (umt5-xxl, laion/CLIP-ViT-H-14, boundary_ratio=0.9, expand_timesteps=True).
- scripts/convert_hunyuan_video1_5_to_diffusers.py: TRANSFORMER_CONFIGS, convert_vae, load_mllm,
  load_byt5, load_siglip.
- scripts/convert_ltx_to_diffusers.py: get_transformer_config (the non-0.9.7 branch), get_vae_config("0.9.0").
- Wan-Video/Wan2.1 wan/modules/t5.py (umt5_xxl) and wan/modules/clip.py (clip_xlm_roberta_vit_h_14)
  for the text and image encoders the Wan conversion script only names by hub id.

Parameter counts are checked (`PUBLISHED_PARAMETERS`, tests/test_backend_configs.py) against
published figures: model-card numbers where they are precise enough, else the published
checkpoint sizes on the hub divided by the bytes per weight of their dtype.
"""

from __future__ import annotations

from typing import Any

from ..video.backends import BACKENDS as VIDEO_BACKENDS
from .configs import COGVIDEOX_5B_I2V_VAE, QWEN2_5_VL_7B, T5_V1_1_XXL_ENCODER

# -- CogVideoX1.5-5B-I2V (THUDM/CogVideoX1.5-5B-I2V) -------------------------------------------
# scripts/convert_cogvideox_to_diffusers.py, get_transformer_init_kwargs("1.5") (patch 2, patch_size_t 2,
# patch_bias False, sample 300 x 300 x 81) and convert_transformer with --i2v (in_channels 32,
# ofs_embed_dim 512 because patch_size_t is set, no learned positional embedding) with the 5B flags
# of get_args' comments (42 layers, 48 heads, RoPE). The rest are CogVideoXTransformer3DModel's
# defaults (head 64, time embedding 512, text 4096, 226 tokens), which equal the published ones.
# A copy of the hub's transformer/config.json (Kijai/CogVideoX-5b-1.5, transformer_I2V) shows the same
# ofs_embed_dim, patch_bias, patch_size_t, sample_frames, heads and layers. The hub's sample_height and
# sample_width are unconfirmed (a hub commit "fix sample_frames" changed that file); they only cap the
# rotary grid (no parameters), so the script's 300 latent px stand.
COGVIDEOX15_5B_I2V_TRANSFORMER = dict(
    num_attention_heads=48, attention_head_dim=64, in_channels=32, out_channels=16, time_embed_dim=512,
    ofs_embed_dim=512, text_embed_dim=4096, num_layers=42, sample_width=300, sample_height=300, sample_frames=81,
    patch_size=2, patch_size_t=2, patch_bias=False, temporal_compression_ratio=4, max_text_seq_length=226,
    use_rotary_positional_embeddings=True, use_learned_positional_embeddings=False,
)
# convert_vae(version "1.5"): the CogVideoX-5B VAE (AutoencoderKLCogVideoX's defaults, scaling factor 0.7
# for 5B) with invert_scale_latents=True. THUDM/CogVideoX1.5-5B-SAT's README: "The VAE part is consistent
# with the CogVideoX-5B series".
COGVIDEOX15_VAE = dict(COGVIDEOX_5B_I2V_VAE, invert_scale_latents=True)

# -- Wan 2.1 / 2.2 ---------------------------------------------------------------------------------
# scripts/convert_wan_to_diffusers.py, get_transformer_config("Wan-I2V-14B-480p")["diffusers_config"], as
# written there: the 14B backbone plus the CLIP tokens' own key/value projections (image_dim 1280,
# added_kv_proj_dim 5120).
WAN21_I2V_14B_TRANSFORMER = dict(
    patch_size=(1, 2, 2), num_attention_heads=40, attention_head_dim=128, in_channels=36, out_channels=16,
    text_dim=4096, freq_dim=256, ffn_dim=13824, num_layers=40, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
    eps=1e-6, image_dim=1280, added_kv_proj_dim=5120,
)
# get_transformer_config("Wan2.2-I2V-14B-720p") (model_id Wan-AI/Wan2.2-I2V-A14B): the same backbone with no
# image tokens (added_kv_proj_dim None, image_dim unset); both experts (high_noise_model, low_noise_model)
# are converted with it. Unconfirmed: a hub commit page of Wan-AI/Wan2.2-I2V-A14B-Diffusers ("Update
# transformer/config.json", 348da65) changes the image_dim / added_kv_proj_dim lines; which way could not
# be read from it. The published expert size (28.6 GB in fp16, see PUBLISHED_PARAMETERS) has no image projections.
WAN22_I2V_A14B_TRANSFORMER = dict(WAN21_I2V_14B_TRANSFORMER, image_dim=None, added_kv_proj_dim=None)
# get_transformer_config("Wan2.2-TI2V-5B"): 24 heads of 128 (3072 wide), MLP 14336, 30 layers, 48 channels
# in and out (the Wan 2.2 VAE's latents; the image is frame 0 of the latent, no concatenated condition).
WAN22_TI2V_5B_TRANSFORMER = dict(
    WAN21_I2V_14B_TRANSFORMER, num_attention_heads=24, in_channels=48, out_channels=48, ffn_dim=14336, num_layers=30,
    image_dim=None, added_kv_proj_dim=None,
)
# convert_vae() builds AutoencoderKLWan() with no arguments: the class defaults are the Wan 2.1 VAE (base 96,
# z 16, blocks 1/2/4/4, 2 res blocks, 8x spatial / 4x temporal, its latents_mean/std).
WAN21_VAE: dict = {}
# vae22_diffusers_config (convert_vae_22, Wan-AI/Wan2.2-TI2V-5B's Wan2.2_VAE.pth) without "clip_output": False,
# which AutoencoderKLWan 0.42.1 does not take (it always clamps its output to [-1, 1]).
WAN22_VAE = dict(
    base_dim=160, decoder_base_dim=256, z_dim=48, is_residual=True, in_channels=12, out_channels=12, patch_size=2,
    scale_factor_temporal=4, scale_factor_spatial=16,
    latents_mean=[
        -0.2289, -0.0052, -0.1323, -0.2339, -0.2799, 0.0174, 0.1838, 0.1557, -0.1382, 0.0542, 0.2813, 0.0891,
        0.1570, -0.0098, 0.0375, -0.1825, -0.2246, -0.1207, -0.0698, 0.5109, 0.2665, -0.2108, -0.2158, 0.2502,
        -0.2055, -0.0322, 0.1109, 0.1567, -0.0729, 0.0899, -0.2799, -0.1230, -0.0313, -0.1649, 0.0117, 0.0723,
        -0.2839, -0.2083, -0.0520, 0.3748, 0.0152, 0.1957, 0.1433, -0.2944, 0.3573, -0.0548, -0.1681, -0.0667,
    ],
    latents_std=[
        0.4765, 1.0364, 0.4514, 1.1677, 0.5313, 0.4990, 0.4818, 0.5013, 0.8158, 1.0344, 0.5894, 1.0901,
        0.6885, 0.6165, 0.8454, 0.4978, 0.5759, 0.3523, 0.7135, 0.6804, 0.5833, 1.4146, 0.8986, 0.5659,
        0.7069, 0.5338, 0.4889, 0.4917, 0.4069, 0.4999, 0.6866, 0.4093, 0.5709, 0.6065, 0.6415, 0.4944,
        0.5726, 1.2042, 0.5458, 1.6887, 0.3971, 1.0600, 0.3943, 0.5537, 0.5444, 0.4089, 0.7468, 0.7744,
    ],
)
# The conversion script loads UMT5EncoderModel.from_pretrained("google/umt5-xxl"). Sizes: Wan-Video/Wan2.1
# wan/modules/t5.py umt5_xxl (vocab 256384, dim 4096, ffn 10240, 64 heads, 24 encoder layers, 32 buckets,
# shared_pos=False: a relative bias per layer, as UMT5 has). The other values are those of a copy of
# Wan-AI/Wan2.1-T2V-14B-Diffusers' text_encoder/config.json (wavespeed/Wan2.1-T2V-14B-Diffusers-fp16):
# d_kv 64, gated-gelu, max distance 128, eps 1e-6, dropout 0.1. That file's "scalable_attention": true has no
# UMT5Config option in transformers 5.24 (not set here). The encoder's embedding is `shared`, tied when loaded.
UMT5_XXL_ENCODER = dict(
    vocab_size=256384, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
    relative_attention_num_buckets=32, relative_attention_max_distance=128, dropout_rate=0.1,
    layer_norm_epsilon=1e-6, feed_forward_proj="gated-gelu", is_encoder_decoder=False,
)
# The vision tower of open-clip xlm-roberta-large-vit-huge-14 (Wan-Video/Wan2.1 wan/modules/clip.py,
# clip_xlm_roberta_vit_h_14: 224 px, 14 px patches, width 1280, MLP ratio 4, 16 heads, 32 layers, exact
# gelu, pre-norm, eps 1e-5, embed_dim 1024); the conversion script loads it as
# laion/CLIP-ViT-H-14-laion2B-s32B-b79K. As CLIPVisionModel (WanImageToVideoPipeline's type; the script's
# I2V branch uses CLIPVisionModelWithProjection, whose 1280x1024 projection the pipeline never calls).
# The pipeline takes the penultimate hidden states (Wan's use_31_block).
CLIP_VIT_H14_VISION = dict(
    hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=16, patch_size=14,
    image_size=224, hidden_act="gelu", layer_norm_eps=1e-5, projection_dim=1024,
)
# CLIPImageProcessor's defaults: resize the short side to 224, centre-crop 224, OpenAI CLIP mean/std (the
# values wan/modules/clip.py normalises with). The hub's image_processor/preprocessor_config.json is unconfirmed.
CLIP_VIT_H14_PROCESSOR = dict(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224})

# -- HunyuanVideo-1.5 480p I2V (hunyuanvideo-community/HunyuanVideo-1.5-Diffusers-480p_i2v; exact id unconfirmed) -----
# scripts/convert_hunyuan_video1_5_to_diffusers.py, TRANSFORMER_CONFIGS: the 480p I2V transformer is
# HunyuanVideo15Transformer3DModel(target_size=640, task_type="i2v"). The table has no "480p_i2v" entry
# (though it is --transformer_type's default); "480p_i2v_distilled" and the "480p_t2v" entry (which says
# task_type "i2v") give exactly these two values. Everything else is the class defaults, relied on here as
# the script does: 16 heads of 128 (2048 wide), 54 double-stream blocks, 2 refiner layers, MLP ratio 4,
# in 65 (32 noise + 32 image latents + mask) / out 32 channels, Qwen 3584 / ByT5 1472 / SigLIP 1152 inputs,
# rope axes 16/56/56 with theta 256. A copy of the original 480p_i2v config (DiffusersVersionsOfModels/
# HunyuanVideo-1.5-Diffusers-480p_i2v) agrees: hidden 2048, 16 heads, 54 double blocks, mlp ratio 4, text 3584,
# vision 1152, rope 16/56/56, theta 256.
HUNYUAN15_480P_I2V_TRANSFORMER = dict(target_size=640, task_type="i2v")
# convert_vae builds AutoencoderKLHunyuanVideo15() with no arguments (class defaults: 32 latent channels,
# blocks 128/256/512/1024/1024, 16x spatial, 4x temporal, scaling 1.03682).
HUNYUAN15_VAE: dict = {}
# load_mllm: Qwen/Qwen2.5-VL-7B-Instruct's language model (AutoModel(...).language_model), i.e. the text
# tower of configs.QWEN2_5_VL_7B (the hub config.json values) without the LM head, and without its
# sliding_window (32768), which Qwen2_5_VLTextConfig 5.24 stores as None since use_sliding_window is False.
QWEN2_5_VL_7B_TEXT = {k: v for k, v in QWEN2_5_VL_7B["text_config"].items()
                      if k not in ("tie_word_embeddings", "sliding_window")}
# load_byt5: T5EncoderModel.from_pretrained("google/byt5-small") with Glyph-SDXL-v2's weights. Sizes are
# google/byt5-small's config.json (d_model 1472, d_ff 3584, d_kv 64, 12 encoder layers, 6 heads, gated-gelu,
# vocabulary 384). Unconfirmed: the script then adds Glyph-SDXL-v2's colour and font tokens and resizes the
# embedding to len(tokenizer); their count (in assets/color_idx.json, multilingual_10-lang_idx.json) could
# not be read, so the vocabulary stays 384 (the tiny ByT5Tokenizer's; a few hundred thousand weights).
BYT5_SMALL_ENCODER = dict(
    vocab_size=384, d_model=1472, d_kv=64, d_ff=3584, num_layers=12, num_heads=6,
    relative_attention_num_buckets=32, relative_attention_max_distance=128, dropout_rate=0.1,
    layer_norm_epsilon=1e-6, feed_forward_proj="gated-gelu", is_encoder_decoder=False,
)
# load_siglip: SiglipVisionModel from black-forest-labs/FLUX.1-Redux-dev's image_encoder, SigLIP
# so400m-patch14-384 (width 1152, MLP 4304, 27 layers, 16 heads, 14 px patches, 384 px; gelu-tanh and eps
# 1e-6 are SiglipVisionConfig's defaults). That repo's config.json itself is unconfirmed; its size is
# (open_clip's model profile, see PUBLISHED_PARAMETERS).
SIGLIP_SO400M_384_VISION = dict(
    hidden_size=1152, intermediate_size=4304, num_hidden_layers=27, num_attention_heads=16, patch_size=14,
    image_size=384,
)
# SigLIP's 384 px input, mean/std 0.5 (SiglipImageProcessor's defaults otherwise). Redux's feature_extractor
# config is unconfirmed.
SIGLIP_384_PROCESSOR = dict(size={"height": 384, "width": 384})

# -- LTX-Video 2B (Lightricks/LTX-Video) -----------------------------------------------------------
# scripts/convert_ltx_to_diffusers.py, get_transformer_config(version) for every version but 0.9.7 (the 2B
# transformer of 0.9.0/0.9.1/0.9.5): 28 layers, 32 heads of 64, cross-attention 2048, captions 4096. These
# equal LTXVideoTransformer3DModel's defaults; written out here anyway.
LTX_VIDEO_2B_TRANSFORMER = dict(
    in_channels=128, out_channels=128, patch_size=1, patch_size_t=1, num_attention_heads=32, attention_head_dim=64,
    cross_attention_dim=2048, num_layers=28, activation_fn="gelu-approximate", qk_norm="rms_norm_across_heads",
    norm_elementwise_affine=False, norm_eps=1e-6, caption_channels=4096, attention_bias=True, attention_out_bias=True,
)
# get_vae_config("0.9.0"), which equals AutoencoderKLLTXVideo's defaults (blocks 128/256/512/512, 128 latent
# channels, no timestep conditioning). That Lightricks/LTX-Video's diffusers folder holds the 0.9.0 VAE is
# not read from its own vae/config.json (unconfirmed); diffusers/LTX-Video-0.9.0's and a copy of the repo
# (philgram/LTX-Video) have this config, and a-r-r-o-w/LTX-Video-0.9.1-diffusers calls itself the
# unofficial diffusers weights of 0.9.1. (The tiny stand-in has 0.9.1's timestep-conditioned VAE.)
LTX_VIDEO_090_VAE: dict = {}
# Text encoder: google/t5-v1_1-xxl (the script's text_encoder_id), configs.T5_V1_1_XXL_ENCODER.

# -- The backends ----------------------------------------------------------------------------------
# key -> {module name: (library, class name, configuration)}; transformers classes get their config class.
BACKENDS: dict[str, dict[str, tuple[str, str, dict]]] = {
    "cogvideox1.5": {
        "transformer": ("diffusers", "CogVideoXTransformer3DModel", COGVIDEOX15_5B_I2V_TRANSFORMER),
        "vae": ("diffusers", "AutoencoderKLCogVideoX", COGVIDEOX15_VAE),
        "text_encoder": ("transformers", "T5EncoderModel", T5_V1_1_XXL_ENCODER),
    },
    "wan2.1-480p": {
        "transformer": ("diffusers", "WanTransformer3DModel", WAN21_I2V_14B_TRANSFORMER),
        "vae": ("diffusers", "AutoencoderKLWan", WAN21_VAE),
        "text_encoder": ("transformers", "UMT5EncoderModel", UMT5_XXL_ENCODER),
        "image_encoder": ("transformers", "CLIPVisionModel", CLIP_VIT_H14_VISION),
    },
    "wan2.2-5b": {
        "transformer": ("diffusers", "WanTransformer3DModel", WAN22_TI2V_5B_TRANSFORMER),
        "vae": ("diffusers", "AutoencoderKLWan", WAN22_VAE),
        "text_encoder": ("transformers", "UMT5EncoderModel", UMT5_XXL_ENCODER),
    },
    "wan2.2-a14b": {
        "transformer": ("diffusers", "WanTransformer3DModel", WAN22_I2V_A14B_TRANSFORMER),  # high-noise expert
        "transformer_2": ("diffusers", "WanTransformer3DModel", WAN22_I2V_A14B_TRANSFORMER),  # low-noise expert
        "vae": ("diffusers", "AutoencoderKLWan", WAN21_VAE),  # Wan2.2 A14B keeps Wan2.1_VAE.pth (wan_i2v_A14B.py)
        "text_encoder": ("transformers", "UMT5EncoderModel", UMT5_XXL_ENCODER),
    },
    "hunyuan1.5": {
        "transformer": ("diffusers", "HunyuanVideo15Transformer3DModel", HUNYUAN15_480P_I2V_TRANSFORMER),
        "vae": ("diffusers", "AutoencoderKLHunyuanVideo15", HUNYUAN15_VAE),
        "text_encoder": ("transformers", "Qwen2_5_VLTextModel", QWEN2_5_VL_7B_TEXT),
        "text_encoder_2": ("transformers", "T5EncoderModel", BYT5_SMALL_ENCODER),
        "image_encoder": ("transformers", "SiglipVisionModel", SIGLIP_SO400M_384_VISION),
    },
    "ltx": {
        "transformer": ("diffusers", "LTXVideoTransformer3DModel", LTX_VIDEO_2B_TRANSFORMER),
        "vae": ("diffusers", "AutoencoderKLLTXVideo", LTX_VIDEO_090_VAE),
        "text_encoder": ("transformers", "T5EncoderModel", T5_V1_1_XXL_ENCODER),
    },
}

# The pipeline class and its configuration arguments. Wan: the conversion script's __main__ passes
# boundary_ratio=0.9 for Wan2.2 I2V (A14B; Wan-Video/Wan2.2 wan/configs/wan_i2v_A14B.py: boundary 0.900) and
# expand_timesteps=True for TI2V-5B (there to WanPipeline; WanImageToVideoPipeline takes the same argument
# and runs the image as latent frame 0 with it, diffusers PR #12006).
PIPELINE_ARGUMENTS: dict[str, dict] = {"wan2.2-5b": {"expand_timesteps": True}}
# The pipeline class, the two-expert switch and the float32 modules are the backend's row's (video.BACKENDS):
# Wan's VAE and CLIP image encoder stay in float32 (WanImageToVideoPipeline's docstring example and the
# diffusers docs, wan.md: "VAE in fp32"; Wan2.2: diffusers PR #12006's example).
PIPELINES: dict[str, tuple[str, dict]] = {
    key: (VIDEO_BACKENDS[key].pipeline, {**({"boundary_ratio": VIDEO_BACKENDS[key].boundary_ratio}
                                           if VIDEO_BACKENDS[key].boundary_ratio is not None else {}),
                                        **PIPELINE_ARGUMENTS.get(key, {})})
    for key in BACKENDS
}
FLOAT32_MODULES: dict[str, tuple[str, ...]] = {key: VIDEO_BACKENDS[key].fp32_components for key in BACKENDS
                                               if VIDEO_BACKENDS[key].fp32_components}
# The image processors built here (the stand-ins' are sized for their 32 px encoders).
PROCESSORS: dict[str, dict[str, tuple[str, dict]]] = {
    "wan2.1-480p": {"image_processor": ("CLIPImageProcessor", CLIP_VIT_H14_PROCESSOR)},
    "hunyuan1.5": {"feature_extractor": ("SiglipImageProcessor", SIGLIP_384_PROCESSOR)},
}

# -- Published parameter counts ----------------------------------------------------------------------
# key -> module -> {"count", "rtol", "source"}. Checkpoint sizes are the hub's listing (GB = 1e9 bytes, three
# significant figures, so about +-0.2%) over 2 bytes per weight (bf16/fp16) or 4 (fp32); model-card figures
# where they are precise enough. rtol is the allowed relative difference; every rtol is below the change one
# layer more or less makes (>= 1.8% for every checked module), so a wrong layer count fails the check.
_T5_XXL = dict(count=19.05e9 / 4, rtol=0.005, source=(
    "THUDM/CogVideoX1.5-5B-I2V text_encoder/ on the hub: 4.99 + 5 + 4.87 + 4.19 GB in fp32 (google/t5-v1_1-xxl's "
    "encoder; full_size's test pins 4,762,310,656)"))
_UMT5_XXL = dict(count=11.36e9 / 2, rtol=0.005, source=(
    "Wan-AI/Wan2.2-TI2V-5B-Diffusers text_encoder/ on the hub: 4.94 + 4.98 + 1.44 GB in bf16"))
_WAN21_VAE = dict(count=508e6 / 4, rtol=0.005, source="Wan-AI/Wan2.1-I2V-14B-720P Wan2.1_VAE.pth: 508 MB in fp32")
_WAN_14B_EXPERT = dict(count=28.6e9 / 2, rtol=0.005, source=(
    "Comfy-Org/Wan_2.2_ComfyUI_Repackaged wan2.2_i2v_{high,low}_noise_14B_fp16.safetensors: 28.6 GB each (a "
    "repackaging of Wan-AI/Wan2.2-I2V-A14B; README: 27B total, 14B active); wan2.1_t2v_14B_fp16.safetensors, "
    "the same backbone, is 28,577,761,176 bytes"))
PUBLISHED_PARAMETERS: dict[str, dict[str, dict[str, Any]]] = {
    "cogvideox1.5": {
        "transformer": dict(count=11.15e9 / 2, rtol=0.005, source=(
            "THUDM/CogVideoX1.5-5B-I2V transformer/ on the hub: 4.98 + 4.95 + 1.22 GB in bf16 (card: '5B')")),
        "text_encoder": _T5_XXL,
    },
    "wan2.1-480p": {
        "transformer": dict(count=32.8e9 / 2, rtol=0.005, source=(
            "Comfy-Org/Wan_2.1_ComfyUI_repackaged wan2.1_i2v_480p_14B_bf16.safetensors: 32.8 GB (the card's '14B' "
            "is the backbone; the CLIP tokens' key/value projections add 2.1B); the fp8 FLF2V file of the same "
            "architecture is 16,397,952,536 bytes")),
        "vae": _WAN21_VAE,
        "text_encoder": _UMT5_XXL,
        "image_encoder": dict(count=632.08e6, rtol=0.005, source=(
            "open_clip docs/model_profile.csv, xlm-roberta-large-ViT-H-14 image_mparams 632.08 (includes the "
            "1280x1024 projection CLIPVisionModel leaves out, 0.2%)")),
    },
    "wan2.2-5b": {
        "transformer": dict(count=5e9, rtol=0.02, source=(
            "Wan-AI/Wan2.2-TI2V-5B card: '5B' (rtol 2%, tighter than the figure's rounding, looser than one layer, "
            "3.3%; a third-party fp8 single file, meimeilook/Wan2.2-TI2V-5B_FP8, is 5 GB)")),
        "text_encoder": _UMT5_XXL,
    },
    "wan2.2-a14b": {
        "transformer": _WAN_14B_EXPERT,
        "transformer_2": _WAN_14B_EXPERT,
        "vae": _WAN21_VAE,
        "text_encoder": _UMT5_XXL,
    },
    "hunyuan1.5": {
        "transformer": dict(count=8.3e9, rtol=0.01, source=(
            "tencent/HunyuanVideo-1.5 card: 'only 8.3B parameters' (one block of 54 is 1.8%)")),
        "text_encoder": dict(count=8.29e9 - 676_550_144 - 152064 * 3584, rtol=0.005, source=(
            "Qwen2.5-VL-7B-Instruct's '8.29B' (hub) less its ViT and merger (676,550,144, full_size's pinned count) "
            "and its untied LM head (152064 x 3584)")),
        "text_encoder_2": dict(count=439e6 / 2, rtol=0.015, source=(
            "Comfy-Org/HunyuanVideo_1.5_repackaged byt5_small_glyphxl_fp16.safetensors: 439 MB (includes the "
            "glyph tokens' embedding rows this config leaves out, about 0.8%)")),
        "image_encoder": dict(count=428.23e6, rtol=0.005, source=(
            "open_clip docs/model_profile.csv, ViT-SO400M-14-SigLIP-384 image_mparams 428.23")),
    },
    "ltx": {
        "transformer": dict(count=7.69e9 / 4, rtol=0.005, source=(
            "Lightricks/LTX-Video transformer/ on the hub: 4.94 + 2.75 GB in fp32 (name: '2B')")),
        "text_encoder": _T5_XXL,
    },
}

