"""TEMPORARY until f2f_lab.stand_ins registers these: the "tiny" stand-ins of the editors' models.

The editors ask `loading.load_pipeline(..., stand_in=<key>)`; until package S's
`f2f_lab/stand_ins` registers the keys, they point at today's builders. Drop this module
(and its import in `editors/__init__.py`) when stand_ins lands.
"""

from __future__ import annotations

from ..loading import register_stand_ins


def _stable_diffusion():
    from ..tiny import tiny_stable_diffusion

    return tiny_stable_diffusion()


def _flux():
    from ..tiny import tiny_flux

    return tiny_flux()


def _flux_kontext():
    from ..tiny_peers import tiny_flux_kontext

    return tiny_flux_kontext()


def _qwen_image_edit():
    from ..tiny_peers import tiny_qwen_image_edit

    return tiny_qwen_image_edit()


def _chronoedit():
    from ..tiny_peers import tiny_chronoedit

    return tiny_chronoedit()


register_stand_ins("tiny", {"stable-diffusion": _stable_diffusion, "flux": _flux, "flux-kontext": _flux_kontext,
                            "qwen-image-edit": _qwen_image_edit, "chronoedit": _chronoedit})
