"""Compatibility: the names `f2f_lab.baselines` still imports from here, now in `f2f_lab.stand_ins`.

This module goes once the editors ask for their stand-ins by key (`load_pipeline(..., stand_in="flux")`).
"""

from .stand_ins.tiny_editors import tiny_flux, tiny_stable_diffusion  # noqa: F401
