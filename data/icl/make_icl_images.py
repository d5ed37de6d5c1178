"""Make the in-context example images of data/icl_examples.json (run from the repository root).

    .venv/bin/python data/icl/make_icl_images.py

Eight are simple drawings made here with PIL (the paper's own example images are not
published); two are public-domain / CC0 photos from scikit-image's bundled data. See
LICENSES.md. The output is deterministic.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

HERE = Path(__file__).resolve().parent
SIZE = (384, 256)


def vertical_gradient(size, top, bottom):
    w, h = size
    t = np.linspace(0.0, 1.0, h)[:, None, None]
    colours = (1 - t) * np.array(top, float) + t * np.array(bottom, float)
    return Image.fromarray(np.repeat(colours, w, axis=1).round().astype(np.uint8))


def grand_canyon_predawn():
    """Rounded sandstone domes under a dark pre-dawn sky (the sun has not risen yet)."""
    image = vertical_gradient(SIZE, (18, 24, 58), (92, 70, 110))
    draw = ImageDraw.Draw(image)
    w, h = SIZE
    for stars in range(40):  # a few faint stars, deterministic
        x, y = (stars * 97) % w, (stars * 53) % (h // 2)
        draw.point((x, y), fill=(200, 200, 230))
    # three ranges of domes, far (light) to near (dark)
    ranges = [(150, (110, 62, 58), 0.0), (185, (88, 46, 40), 1.3), (220, (60, 32, 28), 2.1)]
    for base, colour, phase in ranges:
        points = [(0, h)]
        for x in range(0, w + 1, 4):
            bumps = 18 * abs(math.sin(x / 38.0 + phase)) + 8 * abs(math.sin(x / 13.0 + phase))
            points.append((x, base - bumps))
        points.append((w, h))
        draw.polygon(points, fill=colour)
        for y in range(int(base) - 10, h, 9):  # rock strata
            draw.line([(0, y), (w, y + 2)], fill=tuple(max(0, c - 12) for c in colour), width=1)
    return image.filter(ImageFilter.SMOOTH)


def empty_shot_glasses():
    """Two empty shot glasses on a bar counter."""
    image = vertical_gradient(SIZE, (40, 34, 30), (25, 20, 18))
    draw = ImageDraw.Draw(image)
    w, h = SIZE
    draw.rectangle([0, 170, w, h], fill=(96, 58, 32))  # counter
    draw.line([(0, 170), (w, 170)], fill=(140, 92, 54), width=3)
    for cx in (140, 244):
        top, bottom, half_top, half_bottom = 80, 190, 38, 30
        outline = [(cx - half_top, top), (cx + half_top, top), (cx + half_bottom, bottom), (cx - half_bottom, bottom)]
        draw.polygon(outline, fill=(70, 64, 62))
        draw.rectangle([cx - half_bottom, bottom - 16, cx + half_bottom, bottom], fill=(150, 150, 150))  # thick base
        draw.line(outline + [outline[0]], fill=(220, 220, 225), width=3)
        draw.ellipse([cx - half_top, top - 6, cx + half_top, top + 6], outline=(230, 230, 235), width=2)
        draw.line([(cx - 26, top + 14), (cx - 20, bottom - 24)], fill=(245, 245, 250), width=3)  # highlight
    return image


def magician_with_hat():
    """A magician in a tuxedo holding an upturned top hat in front of a red curtain."""
    image = Image.new("RGB", SIZE, (120, 14, 22))
    draw = ImageDraw.Draw(image)
    w, h = SIZE
    for x in range(0, w, 24):  # curtain folds
        draw.rectangle([x, 0, x + 10, h], fill=(96, 8, 16))
    draw.rectangle([0, 226, w, h], fill=(60, 40, 30))  # stage floor
    cx = w // 2
    draw.polygon([(cx - 70, h), (cx - 60, 110), (cx + 60, 110), (cx + 70, h)], fill=(15, 15, 18))  # tuxedo
    draw.polygon([(cx - 16, 110), (cx + 16, 110), (cx, 170)], fill=(240, 240, 240))  # shirt
    draw.polygon([(cx - 10, 114), (cx + 10, 114), (cx, 122)], fill=(180, 0, 0))  # bow tie
    draw.ellipse([cx - 28, 48, cx + 28, 108], fill=(231, 190, 160))  # head
    draw.ellipse([cx - 12, 70, cx - 6, 76], fill=(30, 30, 30))
    draw.ellipse([cx + 6, 70, cx + 12, 76], fill=(30, 30, 30))
    draw.arc([cx - 12, 80, cx + 12, 96], 20, 160, fill=(120, 40, 40), width=2)
    draw.rectangle([cx - 30, 40, cx + 30, 56], fill=(25, 20, 15))  # hair
    # the upturned top hat held in both hands at waist height, opening up
    draw.rectangle([cx - 34, 170, cx + 34, 222], fill=(8, 8, 10))
    draw.ellipse([cx - 46, 160, cx + 46, 182], fill=(20, 20, 24), outline=(70, 70, 80), width=2)
    draw.ellipse([cx - 34, 164, cx + 34, 178], fill=(2, 2, 2))
    for side in (-1, 1):
        draw.ellipse([cx + side * 44 - 9, 186, cx + side * 44 + 9, 204], fill=(245, 245, 245))  # white gloves
    return image


def unlit_candle():
    """A white candle with an unlit wick on a brass holder in a dim room."""
    image = vertical_gradient(SIZE, (34, 30, 40), (20, 18, 24))
    draw = ImageDraw.Draw(image)
    w, h = SIZE
    draw.rectangle([0, 200, w, h], fill=(52, 40, 34))  # table
    cx = w // 2
    draw.ellipse([cx - 50, 186, cx + 50, 212], fill=(160, 120, 50))  # holder
    draw.rectangle([cx - 20, 70, cx + 20, 196], fill=(236, 232, 220))
    draw.ellipse([cx - 20, 62, cx + 20, 78], fill=(246, 244, 236))
    draw.line([(cx, 70), (cx + 1, 52)], fill=(20, 20, 20), width=3)  # wick
    return image


def boat_without_sail():
    """A small sailboat with a bare mast on a calm sea."""
    image = vertical_gradient(SIZE, (140, 190, 235), (205, 228, 245))
    draw = ImageDraw.Draw(image)
    w, h = SIZE
    draw.rectangle([0, 170, w, h], fill=(40, 96, 150))  # sea
    for y in range(178, h, 10):
        for x in range((y * 7) % 30, w, 30):
            draw.line([(x, y), (x + 12, y)], fill=(90, 140, 190), width=1)
    cx = w // 2
    draw.polygon([(cx - 70, 168), (cx + 70, 168), (cx + 52, 196), (cx - 52, 196)], fill=(245, 245, 240))  # hull
    draw.line([(cx - 70, 168), (cx + 70, 168)], fill=(120, 60, 40), width=3)
    draw.line([(cx, 168), (cx, 40)], fill=(110, 80, 50), width=4)  # mast
    draw.line([(cx, 150), (cx + 56, 150)], fill=(110, 80, 50), width=3)  # boom, sail furled
    draw.line([(cx + 2, 148), (cx + 54, 148)], fill=(235, 235, 225), width=5)
    return image


def snowman_in_sun():
    """A snowman with a carrot nose and a red scarf on a sunny lawn."""
    image = vertical_gradient(SIZE, (120, 180, 240), (190, 220, 245))
    draw = ImageDraw.Draw(image)
    w, h = SIZE
    draw.ellipse([300, 20, 350, 70], fill=(255, 220, 80))  # sun
    draw.rectangle([0, 200, w, h], fill=(100, 170, 80))
    cx = w // 2 - 30
    draw.ellipse([cx - 44, 130, cx + 44, 214], fill=(250, 250, 252), outline=(200, 205, 215))
    draw.ellipse([cx - 32, 80, cx + 32, 140], fill=(250, 250, 252), outline=(200, 205, 215))
    draw.ellipse([cx - 22, 42, cx + 22, 86], fill=(250, 250, 252), outline=(200, 205, 215))
    draw.ellipse([cx - 10, 56, cx - 4, 62], fill=(20, 20, 20))
    draw.ellipse([cx + 4, 56, cx + 10, 62], fill=(20, 20, 20))
    draw.polygon([(cx, 66), (cx, 72), (cx + 22, 70)], fill=(240, 120, 20))  # carrot
    draw.rectangle([cx - 24, 84, cx + 24, 94], fill=(200, 30, 40))  # scarf
    draw.rectangle([cx + 10, 90, cx + 20, 118], fill=(200, 30, 40))
    return image


def house_in_meadow():
    """A small house with a red roof in a green meadow under a grey sky."""
    image = vertical_gradient(SIZE, (150, 156, 166), (196, 200, 206))
    draw = ImageDraw.Draw(image)
    w, h = SIZE
    draw.rectangle([0, 180, w, h], fill=(96, 140, 72))
    draw.rectangle([120, 120, 264, 200], fill=(222, 206, 170))  # walls
    draw.polygon([(108, 124), (192, 64), (276, 124)], fill=(168, 44, 36))  # roof
    draw.rectangle([176, 156, 206, 200], fill=(100, 64, 40))  # door
    for x in (134, 224):
        draw.rectangle([x, 136, x + 26, 160], fill=(150, 190, 220), outline=(255, 255, 255), width=2)
    draw.rectangle([228, 76, 244, 104], fill=(120, 70, 60))  # chimney
    return image


def red_balloon():
    """A full red balloon on a string against a pale wall."""
    image = vertical_gradient(SIZE, (236, 232, 222), (210, 204, 192))
    draw = ImageDraw.Draw(image)
    w, h = SIZE
    draw.rectangle([0, 220, w, h], fill=(150, 120, 90))  # floor
    cx = w // 2
    draw.line([(cx, 150), (cx - 6, 190), (cx + 4, 222)], fill=(90, 90, 90), width=2)
    draw.ellipse([cx - 50, 30, cx + 50, 146], fill=(212, 24, 30))
    draw.polygon([(cx - 7, 152), (cx + 7, 152), (cx, 142)], fill=(180, 18, 24))
    draw.ellipse([cx - 30, 50, cx - 14, 76], fill=(246, 120, 120))  # highlight
    return image


def skimage_image(name, size):
    from skimage import data

    array = getattr(data, name)()
    if array.dtype == bool:
        array = np.where(array, 255, 0).astype(np.uint8)
    image = Image.fromarray(array).convert("RGB")
    return ImageOps.fit(image, size, Image.Resampling.LANCZOS)


DRAWINGS = {
    "grand_canyon_predawn.png": grand_canyon_predawn,
    "empty_shot_glasses.png": empty_shot_glasses,
    "magician_with_hat.png": magician_with_hat,
    "unlit_candle.png": unlit_candle,
    "boat_without_sail.png": boat_without_sail,
    "snowman_in_sun.png": snowman_in_sun,
    "house_in_meadow.png": house_in_meadow,
    "red_balloon.png": red_balloon,
}
PHOTOS = {  # file: (skimage.data name, size)
    "rocket_on_pad.jpg": ("rocket", (384, 256)),
    "cameraman.jpg": ("camera", (256, 256)),
}


def main() -> None:
    for filename, draw in DRAWINGS.items():
        draw().save(HERE / filename)
    for filename, (name, size) in PHOTOS.items():
        image = skimage_image(name, size)
        if filename.endswith(".jpg"):
            image.save(HERE / filename, quality=90)
        else:
            image.save(HERE / filename)
    print(f"wrote {len(DRAWINGS) + len(PHOTOS)} images to {HERE}")


if __name__ == "__main__":
    main()
