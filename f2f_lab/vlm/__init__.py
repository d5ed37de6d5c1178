"""The VLM clients of the paper's two VLM steps (captions, B.1; frame selection, C.1), behind one interface.

- `client.VLMClient`: OpenAI's chat-completions protocol (GPT-4o, the paper's; or any
  compatible server: vLLM, Ollama, LM Studio, by `base_url`).
- `local.LocalVLM`: an open model inside this process through transformers (the `open` preset).

Both answer `chat(messages) -> ChatReply` and `describe()`; `make_vlm_client` builds either
by backend name. The captioner and the selector never know which one answers.
"""

from __future__ import annotations

from ..errors import F2FError
from .client import (  # noqa: F401  (the package's face)
    DEFAULT_MODEL,
    LOCAL_PLACEHOLDER_KEY,
    MAX_KEPT_ANSWER,
    NO_VLM_MESSAGE,
    OPENAI_URL,
    ChatReply,
    VLMClient,
    VLMError,
    assistant_turn,
    decode_data_url,
    image_data_url,
    kept_answer,
    public_url,
    redact,
    strip_control,
    user_turn,
)
from .local import DEFAULT_LOCAL_MODEL, LocalVLM, local_model_id

BACKENDS = ("openai", "local")  # "openai": `VLMClient` (OpenAI protocol); "local": `LocalVLM` (transformers)


def make_vlm_client(backend: str = "openai", model: str | None = None, *, tiny: bool = False, device: str | None = None,
                    torch_dtype=None, **options):
    """The VLM client of a backend: "openai" (`VLMClient`, any OpenAI-compatible server) or "local" (`LocalVLM`).

    Args:
        model: the model name; for "local", None or gpt-4o (the paper's, which has no open
            weights) means Qwen/Qwen2.5-VL-7B-Instruct, or the tiny stand-in when `tiny`.
        tiny: the run uses the tiny preset (its local VLM is the tiny random-weight build).
        device, torch_dtype: where and in what precision a local model runs (a remote one
            runs on its server: the OpenAI backend does not use them).
        options: the backend's own (openai: api_key, base_url, timeout, max_retries,
            temperature, max_tokens; local: placement, max_new_tokens, do_sample, ...).
    """
    if backend == "openai":
        return VLMClient(model or DEFAULT_MODEL, **options)
    if backend == "local":
        return LocalVLM(local_model_id(model, tiny=tiny), device=device, torch_dtype=torch_dtype, **options)
    raise F2FError(f"Unknown VLM backend '{backend}'. Choose one of: {', '.join(BACKENDS)}.")
