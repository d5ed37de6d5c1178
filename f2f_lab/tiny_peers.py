"""Compatibility: the names `f2f_lab.baselines` still imports from here, now in `f2f_lab.stand_ins.tiny_editors`.

This module goes once the editors ask for their stand-ins by key (`load_pipeline(..., stand_in="chronoedit")`).
"""

from .stand_ins.tiny_editors import (  # noqa: F401
    CHRONOEDIT_DISTILL_LORA,
    tiny_chronoedit,
    tiny_flux_kontext,
    tiny_qwen_image_edit,
)
