"""Pixels in and out: loading, the video canvas, collages, strips, video files and encoded bytes.

The paper's geometry (Sec. 5.2): CogVideoX works on a fixed 720x480 canvas, so a square
source is resized to 480x480 and padded with 120 px of black on each side; the chosen
frame's central 480x480 is cropped and resized to 512x512.

The general rule used here, of which that is the square case: the source is scaled,
keeping its aspect ratio, to the largest size that fits inside the canvas, and centred on
black. Cropping back takes exactly that box and resizes it so that its longer side is
`size` pixels (the shorter side keeps the aspect ratio, rounded to the nearest pixel).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, Union

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from .errors import F2FError
from .records import atomic_path

ImageInput = Union[str, os.PathLike, Image.Image, np.ndarray]

MIN_SIDE = 16  # below this a source has too few pixels to say anything about
CHOSEN_COLOUR = (255, 140, 0)


@dataclass(frozen=True)
class Placement:
    """Where a source image sits on the video canvas.

    canvas: (width, height) of the canvas; box: (left, top, right, bottom) of the placed
    image in canvas pixels; source_size: (width, height) of the source before resizing.
    """

    canvas: tuple[int, int]
    box: tuple[int, int, int, int]
    source_size: tuple[int, int]
    stretched: bool = False  # True when the source was resized to fill the canvas ("aspect" geometry)

    @property
    def size(self) -> tuple[int, int]:
        left, top, right, bottom = self.box
        return right - left, bottom - top

    def output_size(self, size: int) -> tuple[int, int]:
        """(width, height) of a crop-back whose longer side is `size` (at the source's aspect when stretched)."""
        width, height = self.source_size if self.stretched else self.size
        scale = size / max(width, height)
        return max(1, round(width * scale)), max(1, round(height * scale))


def load_image(source: ImageInput) -> Image.Image:
    """Read a path, PIL image or HxWxC array into an 8-bit RGB image, or raise F2FError.

    Transparent images are composited on white, 16-bit and float images are rescaled to
    8 bits, CMYK/palette/greyscale are converted, and EXIF rotation is applied.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise F2FError(f"No image file at '{path}'. Check the path.")
        try:
            with Image.open(path) as opened:
                opened.load()
                image = ImageOps.exif_transpose(opened)
        except Image.DecompressionBombError as exc:
            raise F2FError(f"'{path}' is too large to open safely ({exc}). Resize it first.") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise F2FError(
                f"Cannot read '{path}' as an image ({type(exc).__name__}: {exc}). "
                "Use a PNG, JPEG or WebP file."
            ) from None
    elif isinstance(source, Image.Image):
        image = source
    elif isinstance(source, np.ndarray):
        image = _array_to_image(source)
    else:
        raise F2FError(f"Expected an image path, a PIL image or an array, got {type(source).__name__}.")

    image = _to_rgb(image)
    if min(image.size) < MIN_SIDE:
        raise F2FError(
            f"The image is only {image.width}x{image.height} pixels; "
            f"at least {MIN_SIDE} px per side is needed."
        )
    return image


def _array_to_image(array: np.ndarray) -> Image.Image:
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise F2FError(f"An image array must be HxW, HxWx1, HxWx3 or HxWx4; got shape {array.shape}.")
    if array.dtype != np.uint8:
        array = np.asarray(array, dtype=np.float64)
        if array.max(initial=0.0) > 1.0:  # assume the integer range of the dtype's values
            array = array / 255.0
        array = (np.clip(array, 0.0, 1.0) * 255.0).round().astype(np.uint8)
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    return Image.fromarray(array)


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image.copy()
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # PIL's own convert clips these to 0..255; rescale the real range instead.
        values = np.asarray(image, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
        grey = (scaled * 255.0).round().astype(np.uint8)
        return Image.fromarray(np.stack([grey] * 3, axis=-1))
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def image_hash(image: Image.Image) -> str:
    """A short content hash of an image's pixels (size and RGB bytes)."""
    rgb = image.convert("RGB")
    digest = hashlib.sha256(f"{rgb.width}x{rgb.height}".encode())
    digest.update(rgb.tobytes())
    return digest.hexdigest()[:16]


def encode_image(image: Image.Image, format: str = "JPEG", *, quality: int = 95, max_side: int | None = None) -> bytes:
    """`image` as JPEG or PNG bytes, in RGB, shrunk (never enlarged) so its longer side is at most `max_side`.

    The one encoder behind every image that leaves the process: the notebook widgets'
    views (JPEG bytes in `Image` widgets) and the VLM requests (`image_data_url`). JPEG at
    quality 95 shows no visible loss; PNG is lossless and larger. Other formats: ValueError.
    """
    format = format.upper()
    if format not in ("JPEG", "PNG"):
        raise ValueError(f"image_format must be 'JPEG' or 'PNG', not {format!r}")
    image = image.convert("RGB")
    if max_side is not None and max(image.size) > max_side:
        image = ImageOps.contain(image, (max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    if format == "JPEG":
        image.save(buffer, format="JPEG", quality=quality)
    else:
        image.save(buffer, format="PNG")
    return buffer.getvalue()


def image_data_url(image: Image.Image, *, image_format: str = "JPEG", max_side: int | None = None, quality: int = 95) -> str:
    """`image` as a base64 data URL ("data:image/jpeg;base64,..."), shrunk to `max_side` if larger.

    This is how images travel inside a chat-completions request: a 1064x1192 collage at JPEG
    quality 95 is a few hundred kB.
    """
    data = encode_image(image, image_format, quality=quality, max_side=max_side)
    return f"data:image/{image_format.lower()};base64,{base64.b64encode(data).decode('ascii')}"


def to_canvas(image: Image.Image, canvas: tuple[int, int] = (720, 480)) -> tuple[Image.Image, Placement]:
    """Fit `image` inside a black canvas of (width, height), centred, aspect ratio kept."""
    canvas_w, canvas_h = canvas
    width, height = image.size
    scale = min(canvas_w / width, canvas_h / height)
    new_w = min(canvas_w, max(1, round(width * scale)))
    new_h = min(canvas_h, max(1, round(height * scale)))
    if min(new_w, new_h) < 8:
        raise F2FError(
            f"A {width}x{height} image becomes {new_w}x{new_h} on the {canvas_w}x{canvas_h} canvas; "
            "its aspect ratio is too extreme. Crop it first."
        )
    left, top = (canvas_w - new_w) // 2, (canvas_h - new_h) // 2
    board = Image.new("RGB", canvas, (0, 0, 0))
    board.paste(image.convert("RGB").resize((new_w, new_h), Image.Resampling.LANCZOS), (left, top))
    return board, Placement(canvas=canvas, box=(left, top, left + new_w, top + new_h), source_size=(width, height))


def aspect_canvas(
    source_size: tuple[int, int], pixel_budget: int, multiple: int, max_size: tuple[int, int] | None = None
) -> tuple[int, int]:
    """(width, height) at the source's aspect ratio within `pixel_budget` pixels, multiples of `multiple`.

    The exact-aspect size of that area is scaled down to `max_size` when given, then each
    side is rounded down to the multiple (at least one multiple), so the area never exceeds
    the budget; the aspect ratio then differs from the source's by under one multiple.
    """
    width, height = source_size
    scale = (pixel_budget / (width * height)) ** 0.5
    if max_size is not None:
        scale = min(scale, max_size[0] / width, max_size[1] / height)
    return (max(multiple, int(width * scale) // multiple * multiple),
            max(multiple, int(height * scale) // multiple * multiple))


def fill_canvas(image: Image.Image, canvas: tuple[int, int]) -> tuple[Image.Image, Placement]:
    """Resize `image` to fill a canvas of (width, height) made at its aspect ratio (`aspect_canvas`): no bars."""
    width, height = image.size
    board = image.convert("RGB").resize(canvas, Image.Resampling.LANCZOS)
    return board, Placement(canvas=canvas, box=(0, 0, *canvas), source_size=(width, height), stretched=True)


class LetterboxCanvas(tuple):
    """A (width, height) canvas the source is letterboxed on whatever the geometry: the model's
    size rule cannot take the source's aspect ratio (CogVideoX 1.5 beyond 1360:768)."""


def place_on_canvas(image: Image.Image, canvas: tuple[int, int], geometry: str = "letterbox") -> tuple[Image.Image, Placement]:
    """The source on the video canvas by a geometry policy: "letterbox" (`to_canvas`) or "aspect" (`fill_canvas`)."""
    if geometry == "letterbox" or isinstance(canvas, LetterboxCanvas):
        return to_canvas(image, canvas)
    if geometry == "aspect":
        return fill_canvas(image, canvas)
    raise F2FError(f"Unknown geometry '{geometry}'; use 'letterbox' (the paper's) or 'aspect'.")


def from_canvas(frame: Image.Image, placement: Placement, size: int = 512) -> Image.Image:
    """Crop the placed box out of a canvas-sized frame and resize it so its longer side is `size`."""
    if frame.size != placement.canvas:
        raise ValueError(f"frame is {frame.size}, expected the canvas size {placement.canvas}")
    return frame.crop(placement.box).resize(placement.output_size(size), Image.Resampling.LANCZOS)


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow built without FreeType: fixed small bitmap font
        return ImageFont.load_default()


def _label(draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, size: int) -> None:
    """White text on a black outline: legible on any frame."""
    draw.text(xy, text, font=_font(size), fill=(255, 255, 255), stroke_width=max(2, size // 8), stroke_fill=(0, 0, 0))


def _fit_height(image: Image.Image, height: int) -> Image.Image:
    width = max(1, round(image.width * height / image.height))
    return image.resize((width, height), Image.Resampling.LANCZOS)


def strip(
    frames: Sequence[Image.Image],
    indices: Sequence[int] | None = None,
    chosen: int | None = None,
    height: int = 128,
    gap: int = 4,
    labels: Sequence[str] | None = None,
) -> Image.Image:
    """A row of thumbnails of `frames[i]` for i in `indices`, `chosen` outlined.

    Each thumbnail is labelled with its index, or with `labels` (one per thumbnail shown, e.g.
    `["source", "0.3", "0.5"]` for a strip that is not a video's frames).
    """
    indices = list(range(len(frames))) if indices is None else list(indices)
    labels = [str(i) for i in indices] if labels is None else [str(label) for label in labels]
    if len(labels) != len(indices):
        raise ValueError(f"{len(labels)} labels for {len(indices)} thumbnails; give one label per thumbnail")
    thumbs = [_fit_height(frames[i], height) for i in indices]
    border = max(3, height // 24)
    width = sum(t.width for t in thumbs) + gap * (len(thumbs) + 1)
    canvas = Image.new("RGB", (width, height + 2 * gap + 2 * border), (24, 24, 24))
    draw = ImageDraw.Draw(canvas)
    x = gap
    for index, thumb, label in zip(indices, thumbs, labels):
        y = gap + border
        if index == chosen:
            draw.rectangle([x - border, y - border, x + thumb.width + border - 1, y + height + border - 1], fill=CHOSEN_COLOUR)
        canvas.paste(thumb, (x, y))
        _label(draw, (x + 4, y + 2), label, max(10, height // 6))
        x += thumb.width + gap
    return canvas


def collage(
    source: Image.Image,
    tiles: Sequence[Image.Image],
    numbers: Sequence[int] | None = None,
    tile_size: int = 256,
    columns: int = 4,
    gap: int = 8,
) -> Image.Image:
    """The frame-selection collage of Sec. 3.3: the source on top, numbered tiles beneath.

    Tiles are numbered 1..n unless `numbers` says otherwise; numbers are drawn large
    (a quarter of a tile) with an outline so that a VLM reads them reliably.
    """
    numbers = list(range(1, len(tiles) + 1)) if numbers is None else list(numbers)
    rows = max(1, -(-len(tiles) // columns))
    thumbs = [ImageOps.contain(t, (tile_size, tile_size), Image.Resampling.LANCZOS) for t in tiles]
    top = ImageOps.contain(source, (tile_size * 3 // 2, tile_size * 3 // 2), Image.Resampling.LANCZOS)
    width = columns * tile_size + (columns + 1) * gap
    height = top.height + rows * tile_size + (rows + 2) * gap
    board = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(board)
    board.paste(top, ((width - top.width) // 2, gap))
    font_size = max(12, tile_size // 4)
    _label(draw, ((width - top.width) // 2 + 6, gap + 2), "source", max(12, font_size // 2))
    for k, (number, thumb) in enumerate(zip(numbers, thumbs)):
        row, col = divmod(k, columns)
        x = gap + col * (tile_size + gap) + (tile_size - thumb.width) // 2
        y = top.height + 2 * gap + row * (tile_size + gap) + (tile_size - thumb.height) // 2
        board.paste(thumb, (x, y))
        _label(draw, (x + 6, y + 2), str(number), font_size)
    return board


def save_video(frames: Sequence[Image.Image], path: str | os.PathLike, fps: int = 8) -> Path:
    """Write frames as an H.264 MP4 (through diffusers' exporter and imageio-ffmpeg), atomically."""
    from diffusers.utils import export_to_video

    # Even sizes keep every player happy; macro_block_size=1 avoids a silent rescale.
    even = [f if f.width % 2 == 0 and f.height % 2 == 0 else f.crop((0, 0, f.width // 2 * 2, f.height // 2 * 2)) for f in frames]
    with atomic_path(path) as tmp:
        export_to_video(even, tmp, fps=fps, macro_block_size=1)
    return Path(path)


def save_image(image: Image.Image, path: str | os.PathLike) -> Path:
    """Save a PNG atomically: a reader never sees half a file."""
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")
    return Path(path)
