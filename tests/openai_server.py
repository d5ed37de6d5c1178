"""The local OpenAI-compatible test server; it lives in the package (`f2f_lab.testing.openai_server`)
because `f2f gpu-check` answers its end-to-end edit's VLM calls with it too."""

from f2f_lab.testing.openai_server import (  # noqa: F401  (the tests import them from here)
    OpenAIServer,
    RecordedRequest,
    Reply,
    ScriptItem,
    error,
    openai_server,
    stall,
)
