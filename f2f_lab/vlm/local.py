"""A vision-language model inside this process, through transformers: the `open` preset's VLM.

`LocalVLM` is the same kind of object as `vlm.client.VLMClient` (`chat(messages) -> ChatReply`,
`describe()`, `.model`): the captioner (B.1 with its in-context examples) and the selector
(C.1 over the numbered collage) build the same OpenAI-style messages and never know which
one answers. The messages are turned into the model's own chat template (text parts and
images in the order given, assistant turns kept as the in-context answers), the processor
makes the visual tokens, and the model answers greedily unless told otherwise.

    vlm = LocalVLM()                       # Qwen/Qwen2.5-VL-7B-Instruct, bf16, from the hub cache
    vlm = LocalVLM("tiny")                 # the tiny random-weight build (answers are gibberish)
    reply = vlm.chat([user_turn("What is this?", [image])])

Why Qwen2.5-VL-7B-Instruct: it is the open model the project's docs already name for
OpenAI-compatible servers, transformers has its classes (`Qwen2_5_VLForConditionalGeneration`,
`AutoProcessor`), it takes many images in one conversation (the nine in-context images plus
the source) and reads digits in images well, which frame selection needs. Newer Qwen VLs
(Qwen3-VL) load through `--vlm-model` when transformers has them (`AutoModelForImageTextToText`).

Memory (placement="swap", the default on a GPU): the VLM is loaded once onto the CPU, before
the video model, and moved to the GPU only for each `chat` and back to the CPU right after
(then `torch.cuda.empty_cache()`). So the two models never sit on the GPU together: the
VLM's 16.6 GB (8.3B parameters in bf16) is there while it captions and while it selects,
the video model's weights and activations while it generates. On one 80 GB GPU the `open`
preset peaks at the video model's own peak (the video model stays resident, the VLM adds
about 18 GB only during a chat); on a 24 GB card with `--offload` the video model's parts
are all on the CPU between its calls, so the VLM's 18 GB fits alone. The price is two
16.6 GB copies per chat (a few seconds each over PCIe), small beside a 50-step video.
Keeping it on the CPU instead (placement="cpu") would cost minutes per answer for 7B
parameters; keeping it on the GPU (placement="gpu") is fastest where memory allows both.
Host memory holds both models between calls (about 17 GB for the VLM).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any

from PIL import Image

from ..errors import F2FError
from ..loading import default_device, default_dtype, explained_load_errors, model_source, out_of_memory
from .client import DEFAULT_MODEL, ChatReply, VLMError, decode_data_url, kept_answer, strip_control

DEFAULT_LOCAL_MODEL = "Qwen/Qwen2.5-VL-7B-Instruct"
PLACEMENTS = ("swap", "gpu", "cpu")
# The default cap: room for one sentence (B.1) or "The selected edit is:x" with a little preamble (C.1).
# A caller whose instruction needs more asks for it per request (`chat(messages, max_tokens=...)`):
# the chain-of-thought captioner does.
MAX_NEW_TOKENS = 256
TINY_MAX_NEW_TOKENS = 32  # the tiny model's answers are gibberish of any length; a short one keeps tiny runs fast
# Sampling, when asked for, is set in full: transformers 5 fills every generation field left unset from
# the model's own generation_config (GenerationMixin._prepare_generation_config), and
# Qwen2.5-VL-7B-Instruct's sets top_k 1 (with top_p 0.001, temperature 0.1): unset, "sampling" stays greedy.
SAMPLING_DEFAULTS = {"temperature": 1.0, "top_p": 1.0, "top_k": 0, "min_p": 0.0, "typical_p": 1.0,
                     "epsilon_cutoff": 0.0, "eta_cutoff": 0.0}


def local_model_id(model: str | None, *, tiny: bool = False) -> str:
    """The model a local backend loads: `model`, or the default when it names none (or OpenAI's gpt-4o).

    The presets name gpt-4o, the paper's VLM, which has no open weights; a local backend
    asked for it loads Qwen2.5-VL-7B-Instruct, or the tiny stand-in in a tiny preset.
    """
    if model is None or model == DEFAULT_MODEL:
        return "tiny" if tiny else DEFAULT_LOCAL_MODEL
    return model


def to_chat_template(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Image.Image]]:
    """OpenAI-style messages as a transformers chat conversation, and their images in order.

    Text parts become {"type": "text"}, data-URL images {"type": "image"} (the processor puts
    the visual tokens there), roles and order are kept; string contents become one text part.
    """
    conversation, images = [], []
    for number, message in enumerate(messages, 1):
        content = message.get("content")
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else []
        if not isinstance(content, str):
            for part in content or []:
                kind = part.get("type")
                if kind == "text":
                    parts.append({"type": "text", "text": part["text"]})
                elif kind == "image_url":
                    url = part["image_url"]["url"] if isinstance(part["image_url"], dict) else part["image_url"]
                    images.append(decode_data_url(url).convert("RGB"))
                    parts.append({"type": "image"})
                else:
                    raise VLMError(f"Message {number} has a '{kind}' part; the local VLM takes text and data-URL images.")
        conversation.append({"role": message["role"], "content": parts})
    return conversation, images


class LocalVLM:
    """A transformers vision-language model answering OpenAI-style chats in this process.

    Args:
        model: a hub id (default Qwen/Qwen2.5-VL-7B-Instruct, read from the hub cache,
            downloaded on first use), a local folder, or "tiny" (random weights, offline).
        revision: the hub revision to load (recorded; else the loaded commit is).
        device: where it answers: "cuda" when a GPU is visible, else "cpu".
        torch_dtype: bfloat16 on CUDA, float32 on a CPU.
        placement: "swap" (on the CPU between chats, moved to the GPU for each; the default
            on CUDA), "gpu" (stays on the GPU) or "cpu" (runs on the CPU; the default there).
        max_new_tokens: the default cap on an answer's length (256; the tiny model: 32); a request
            that needs more passes `max_tokens` to `chat`.
        do_sample, temperature, top_p, top_k: False (greedy) by default. With do_sample every
            sampling field is set here (temperature 1, top_p 1, top_k 0 = off, unless given), so
            none is taken from the model's generation_config (Qwen2.5-VL-7B's top_k 1 would make
            sampling greedy).
        min_pixels, max_pixels: override the image processor's resize range (the model's own
            by default: 3136 to 12845056 pixels for Qwen2.5-VL).
        network, processor: an already built model and processor to use instead of loading
            `model` (the GPU check's full-size random weights).
    """

    backend = "local"

    def __init__(
        self,
        model: str = DEFAULT_LOCAL_MODEL,
        *,
        revision: str | None = None,
        device: str | None = None,
        torch_dtype=None,
        placement: str | None = None,
        max_new_tokens: int | None = None,
        do_sample: bool = False,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        min_pixels: int | None = None,
        max_pixels: int | None = None,
        network=None,
        processor=None,
    ):
        self.model = model
        self.device = device or default_device()
        self.placement = placement or ("swap" if self.device.startswith("cuda") else "cpu")
        if self.placement not in PLACEMENTS:
            raise F2FError(f"Unknown VLM placement '{self.placement}'. Choose one of: {', '.join(PLACEMENTS)}.")
        if self.placement != "cpu" and not self.device.startswith("cuda"):
            raise F2FError(f"placement='{self.placement}' moves the VLM to a GPU; on '{self.device}' use placement='cpu'.")
        self.torch_dtype = torch_dtype or default_dtype(self.device)
        self.generation = {"do_sample": bool(do_sample), "num_beams": 1, "max_new_tokens": int(
            max_new_tokens or (TINY_MAX_NEW_TOKENS if model == "tiny" else MAX_NEW_TOKENS)),
                           "repetition_penalty": 1.0}
        if do_sample:
            given = {"temperature": temperature, "top_p": top_p, "top_k": top_k}
            self.generation.update(SAMPLING_DEFAULTS, **{k: v for k, v in given.items() if v is not None})
        if network is None:
            network, processor = self._load(model, revision)
        self.network = network.eval()
        self.processor = processor
        image_processor = processor.image_processor
        if min_pixels is not None:
            image_processor.size["shortest_edge"] = int(min_pixels)
        if max_pixels is not None:
            image_processor.size["longest_edge"] = int(max_pixels)
        self.revision = revision or getattr(network.config, "_commit_hash", None)
        # Where the weights live between chats: the CPU, unless they stay on the GPU.
        self.network.to(self.device if self.placement == "gpu" else "cpu")

    def _load(self, model: str, revision: str | None):
        from transformers import AutoModelForImageTextToText, AutoProcessor


        source = model_source(model, "vlm:qwen2.5-vl")
        with explained_load_errors(model, "the local VLM (about 17 GB for Qwen2.5-VL-7B)",
                                   "Or name another model with --vlm-model, or use --vlm openai."):
            processor = AutoProcessor.from_pretrained(source, revision=revision)
            network = AutoModelForImageTextToText.from_pretrained(source, revision=revision, dtype=self.torch_dtype)
        return network, processor

    def describe(self) -> dict[str, Any]:
        """The client's settings for a run record."""
        sizes = self.processor.image_processor.size
        return {
            "backend": self.backend,
            "model": self.model,
            "revision": self.revision,
            "class": type(self.network).__name__,
            "dtype": str(self.torch_dtype).replace("torch.", ""),
            "device": self.device,
            "placement": self.placement,
            "generation": dict(self.generation),
            "image_pixels": {"min": sizes["shortest_edge"], "max": sizes["longest_edge"]},
        }

    @contextmanager
    def on_device(self):
        """The weights on `device` for the block; with placement "swap", back on the CPU after it."""
        if self.placement != "swap":
            yield
            return
        import torch

        self.network.to(self.device)
        try:
            yield
        finally:
            self.network.to("cpu")
            if torch.cuda.is_available():
                torch.cuda.empty_cache()

    def chat(self, messages: list[dict[str, Any]], *, max_tokens: int | None = None) -> ChatReply:
        """Answer `messages` (OpenAI chat format, images as data URLs); VLMError when it cannot.

        max_tokens: this request's cap on the answer's length (default the client's
        `max_new_tokens`); the record's `generation` says which cap it ran with.
        """
        import torch
        from transformers import GenerationConfig


        conversation, images = to_chat_template(messages)
        prompt = self.processor.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
        inputs = self.processor(text=[prompt], images=images or None, return_tensors="pt")
        own = self.network.generation_config
        generation = dict(self.generation)
        if max_tokens is not None:
            generation["max_new_tokens"] = int(max_tokens)
        settings = GenerationConfig(**generation, eos_token_id=own.eos_token_id, pad_token_id=own.pad_token_id,
                                    bos_token_id=own.bos_token_id)
        start = time.perf_counter()
        with out_of_memory(f"the local VLM '{self.model}' answered",
                           "Use placement='swap' (the default on a GPU) and --offload, or a smaller --vlm-model."):
            with self.on_device():
                moved = time.perf_counter() - start
                where = next(self.network.parameters()).device  # the inputs go where the weights are
                # Everything the processor made: Qwen2.5-VL's multimodal rotary positions need mm_token_type_ids too.
                batch = {k: v.to(where) for k, v in inputs.items()}
                if "pixel_values" in batch:
                    batch["pixel_values"] = batch["pixel_values"].to(self.torch_dtype)
                with torch.inference_mode():
                    output = self.network.generate(**batch, generation_config=settings)
                answered = time.perf_counter() - start
        latency = time.perf_counter() - start
        prompt_length = inputs["input_ids"].shape[1]
        new = output[0, prompt_length:].cpu()
        ends = set(settings.eos_token_id if isinstance(settings.eos_token_id, list) else [settings.eos_token_id])
        stopped = len(new) > 0 and int(new[-1]) in ends
        text = strip_control(self.processor.decode(new, skip_special_tokens=True)).strip()  # as a server's answer
        image_id = getattr(self.network.config, "image_token_id", None)
        record = {
            "backend": self.backend,
            "model": self.model,
            "revision": self.revision,
            "generation": generation,
            "answer": kept_answer(text),
            "latency_s": round(latency, 3),
            "placement": self.placement,
            "device": str(where),
            "move_s": round(moved + (latency - answered), 3) if self.placement == "swap" else 0.0,
            # Plain names: the record writer drops keys that look like secrets ("token").
            "usage": {"prompt": int(prompt_length), "completion": int(len(new)), "total": int(prompt_length + len(new))},
            "images": len(images),
            "image_positions": None if image_id is None else int((inputs["input_ids"] == image_id).sum()),
            "finish_reason": "stop" if stopped else "length",
        }
        return ChatReply(text=text, record=record)
