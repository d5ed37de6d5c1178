"""f2f_lab: Frame2Frame image editing through video generation (arXiv 2411.16819)."""

from .version import __version__  # noqa: F401
from .errors import F2FError  # noqa: E402
from .pipeline import Frame2Frame  # noqa: E402
from .presets import PRESETS, Preset, get_preset  # noqa: E402
from .results import EditResult  # noqa: E402
from . import stand_ins  # noqa: F401  (registers the "tiny" stand-ins)

# Add-ons register themselves into the core's registries (presets, video models, selectors).
from . import toy  # noqa: E402,F401  (the toy world: the "toy" preset, video model and selector)


def show(result, **kwargs):
    """Show an edit as an ipywidgets frame-strip player (in a notebook)."""
    from .widgets import show as _show

    return _show(result, **kwargs)


__all__ = ["Frame2Frame", "EditResult", "F2FError", "Preset", "PRESETS", "get_preset", "show", "__version__"]
