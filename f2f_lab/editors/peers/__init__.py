"""Peers of Frame2Frame, newer than the paper: instruction editors that take an edit instruction.

| method       | model (paper preset)                 | pipeline                  |
|--------------|--------------------------------------|---------------------------|
| `chronoedit` | nvidia/ChronoEdit-14B-Diffusers      | ChronoEditPipeline        |
| `kontext`    | black-forest-labs/FLUX.1-Kontext-dev | FluxKontextPipeline       |
| `qwen-edit`  | Qwen/Qwen-Image-Edit-2509            | QwenImageEditPlusPipeline |

They are not in the paper; the instruction is derived from the target caption
(`f2f_lab.instructions`), by a template or a VLM, and recorded.
"""

from .chronoedit import ChronoEditEditor, ChronoEditSettings, fuse_lora
from .instruction import InstructionEditor, area_size
from .kontext import KontextEditor, KontextSettings
from .qwen_edit import QwenImageEditEditor, QwenImageEditSettings

# In the order of the CLI's choices and the tables.
PEERS = (ChronoEditEditor, KontextEditor, QwenImageEditEditor)

__all__ = [
    "PEERS", "InstructionEditor", "area_size", "ChronoEditEditor", "ChronoEditSettings", "fuse_lora",
    "KontextEditor", "KontextSettings", "QwenImageEditEditor", "QwenImageEditSettings",
]
