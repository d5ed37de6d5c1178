"""Tokenizers and text encoders written offline, shared by the tiny stand-ins.

T5 / UMT5 (a sentencepiece model trained here, as the hub ships them), CLIP (a byte-level BPE
that `CLIPTokenizer` reads) and Qwen2 (a byte-level BPE trained on the paper's two VLM
instructions, with Qwen2.5-VL's special tokens and chat template). Any text tokenizes with
each; nothing is downloaded.
"""

from __future__ import annotations

import json
import shutil
import string
from pathlib import Path

from ..paper import B1_INSTRUCTION, C1_INSTRUCTION
from .cache import seed


def tiny_t5(vocab_words: str = "a the of photo cat dog person slowly raising hands video scene"):
    """A T5 tokenizer and encoder that need no download.

    The tokenizer is a unigram vocabulary of characters and a few words (transformers'
    T5Tokenizer accepts it directly), so any English text tokenizes; the encoder is a
    one-layer T5 with 32-d outputs.
    """
    from transformers import T5Tokenizer

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    pieces += [("\u2581" + w, -3.0) for w in vocab_words.split()]
    pieces += [("\u2581" + c, -4.0) for c in string.ascii_letters + string.digits]
    pieces += [(c, -5.0) for c in string.ascii_letters + string.digits + string.punctuation]
    tokenizer = T5Tokenizer(vocab=pieces, extra_ids=0)
    return tokenizer, t5_encoder(len(tokenizer))


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


def spiece_tokenizer(folder: Path, model_max_length: int):
    """A T5 tokenizer converted from a sentencepiece model trained into `folder/_spiece`.

    T5 and UMT5 tokenizers on the hub are a `spiece.model` (sometimes with a tokenizer.json);
    `ship_spiece` puts the file next to the saved tokenizer.
    """
    from transformers import T5Tokenizer

    spiece = write_t5_sentencepiece(folder / "_spiece")
    return T5Tokenizer.from_pretrained(spiece, extra_ids=0, model_max_length=model_max_length)


def ship_spiece(folder: Path, *, keep_tokenizer_json: bool) -> None:
    """Move `_spiece/spiece.model` into the saved `folder/tokenizer`.

    Without tokenizer.json the tokenizer is converted from spiece.model on every load (as
    for CogVideoX's and LTX's hub folders); Wan's umt5 folder ships both files.
    """
    tokenizer_dir = folder / "tokenizer"
    if not keep_tokenizer_json:
        (tokenizer_dir / "tokenizer.json").unlink(missing_ok=True)
    shutil.move(str(folder / "_spiece" / "spiece.model"), tokenizer_dir / "spiece.model")
    shutil.rmtree(folder / "_spiece")


def t5_encoder(vocab_size: int, *, umt5: bool = False, d_model: int = 32):
    """A one-layer (UM)T5 encoder with `d_model` outputs."""
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    config_class, model_class = (UMT5Config, UMT5EncoderModel) if umt5 else (T5Config, T5EncoderModel)
    seed()
    return model_class(config_class(
        vocab_size=vocab_size, d_model=d_model, d_kv=8, d_ff=64, num_layers=1, num_heads=4,
        relative_attention_num_buckets=8, feed_forward_proj="gated-gelu", is_encoder_decoder=False,
    ))


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
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(write_tiny_clip_tokenizer(tokenizer_folder), model_max_length=77)
    seed()
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
        max_position_embeddings=77, projection_dim=32,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    ))
    return tokenizer, text_encoder


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


def qwen_tiny_bpe(vocab_size: int = 1024) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Vocabulary and merges of a byte-level BPE trained (in well under a second) on the paper's two
    VLM instructions, so that the tiny model's prompts stay short; all 256 bytes are in it, so any text tokenizes."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers


    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    corpus = [B1_INSTRUCTION, C1_INSTRUCTION, "A photo of a cat yawning. You are a helpful assistant.", string.printable]
    bpe.train_from_iterator(corpus * 4, trainer=trainer)
    state = json.loads(bpe.to_str())["model"]
    return state["vocab"], [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in state["merges"]]



def qwen2_tokenizer(*, chat_template: bool = True):
    """Qwen2's byte-level BPE (tiny vocabulary from `qwen_tiny_bpe`) with Qwen2.5-VL's
    special tokens and (unless `chat_template` is False) its chat template, which
    HunyuanVideo-1.5 applies to every prompt."""
    from transformers import Qwen2Tokenizer

    vocab, merges = qwen_tiny_bpe()
    tokenizer = Qwen2Tokenizer(vocab=vocab, merges=merges, errors="replace", model_max_length=32768)
    tokenizer.add_special_tokens({"additional_special_tokens": list(QWEN2_VL_SPECIAL_TOKENS[1:])})
    tokenizer.eos_token, tokenizer.pad_token = "<|im_end|>", "<|endoftext|>"
    if chat_template:
        tokenizer.chat_template = QWEN2_VL_CHAT_TEMPLATE
    return tokenizer


