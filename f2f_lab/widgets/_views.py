"""The one image view both widgets use: JPEG bytes in a stock `ipywidgets.Image`."""

from __future__ import annotations

import ipywidgets as widgets
from PIL import Image

from ..imaging import encode_image

JPEG_QUALITY = 88  # for the screen: a few kB per thumbnail, no visible loss at these sizes


def jpeg_bytes(image: Image.Image, max_side: int) -> bytes:
    """What an `Image` widget sends to the browser: JPEG, longer side at most `max_side`."""
    return encode_image(image, "JPEG", quality=JPEG_QUALITY, max_side=max_side)


def image_widget(image: Image.Image, side: int, css_class: str) -> widgets.Image:
    """`image` shown `side` CSS pixels wide; sent at twice that for sharp small views, at most 512 px."""
    view = widgets.Image(
        value=jpeg_bytes(image, max_side=2 * side if side < 256 else 512),
        format="jpeg",
        layout=widgets.Layout(width=f"{side}px", height="auto", object_fit="contain"),
    )
    view.add_class(css_class)
    return view
