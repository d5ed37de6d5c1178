"""Canvas geometry (Sec. 5.2), loading of odd inputs, collages and strips, the image encoder."""

import base64
import io

import numpy as np
import pytest
from PIL import Image

from f2f_lab.errors import F2FError
from f2f_lab.imaging import (collage, encode_image, from_canvas, image_data_url, image_hash, load_image, save_video,
                             strip, to_canvas)


def _smooth(width, height):
    """A smooth colour ramp: resampling changes it very little."""
    x = np.linspace(0, 1, width)[None, :, None]
    y = np.linspace(0, 1, height)[:, None, None]
    rgb = np.concatenate([x + 0 * y, y + 0 * x, (x + y) / 2], axis=2)
    return Image.fromarray((rgb * 200 + 30).astype(np.uint8))


def test_square_source_is_480_centred_with_120px_black_bars():
    canvas, placement = to_canvas(_smooth(300, 300), (720, 480))
    assert canvas.size == (720, 480)
    assert placement.box == (120, 0, 600, 480)
    pixels = np.asarray(canvas)
    assert pixels[:, :120].max() == 0 and pixels[:, 600:].max() == 0
    assert pixels[:, 120:600].min() > 0  # the image itself starts exactly at column 120
    assert from_canvas(canvas, placement, size=512).size == (512, 512)


@pytest.mark.parametrize(
    "size, box, out",
    [
        ((600, 400), (0, 0, 720, 480), (512, 341)),  # 3:2 fills the canvas
        ((400, 600), (200, 0, 520, 480), (341, 512)),  # portrait: 320 wide, 200 px each side
        ((1000, 200), (0, 168, 720, 312), (512, 102)),  # wide panorama: bars above and below
    ],
)
def test_non_square_sources_keep_their_aspect_ratio(size, box, out):
    canvas, placement = to_canvas(_smooth(*size), (720, 480))
    assert placement.box == box
    assert from_canvas(canvas, placement, size=512).size == out


def test_canvas_and_back_is_nearly_lossless():
    source = _smooth(480, 480)
    canvas, placement = to_canvas(source)
    back = from_canvas(canvas, placement, size=480)
    diff = np.abs(np.asarray(back, dtype=float) - np.asarray(source, dtype=float))
    assert diff.mean() < 1.0


def test_from_canvas_refuses_a_frame_of_another_size():
    canvas, placement = to_canvas(_smooth(64, 64), (96, 64))
    with pytest.raises(ValueError):
        from_canvas(canvas.resize((720, 480)), placement)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "CMYK", "L", "1"])
def test_odd_modes_become_rgb(mode, tmp_path):
    image = _smooth(40, 30).convert(mode)
    path = tmp_path / f"image.{'tiff' if mode == 'CMYK' else 'png'}"
    image.save(path)
    loaded = load_image(path)
    assert loaded.mode == "RGB" and loaded.size == (40, 30)


def test_transparency_is_composited_on_white():
    clear = Image.new("RGBA", (20, 20), (255, 0, 0, 0))
    assert load_image(clear).getpixel((5, 5)) == (255, 255, 255)


def test_16_bit_images_use_their_full_range(tmp_path):
    ramp = (np.linspace(0, 65535, 64 * 32).reshape(32, 64)).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(ramp).save(path)
    assert Image.open(path).mode.startswith("I")
    loaded = np.asarray(load_image(path))
    assert loaded.min() == 0 and loaded.max() == 255  # not clipped to white, not crushed to black


def test_arrays_are_accepted():
    array = np.zeros((20, 30, 3), dtype=np.float32)
    array[..., 0] = 1.0
    assert load_image(array).getpixel((0, 0)) == (255, 0, 0)


def test_missing_unreadable_and_tiny_inputs_give_clear_errors(tmp_path):
    with pytest.raises(F2FError, match="No image file"):
        load_image(tmp_path / "nope.png")
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    with pytest.raises(F2FError, match="Cannot read"):
        load_image(bad)
    with pytest.raises(F2FError, match="at least 16"):
        load_image(Image.new("RGB", (8, 8)))
    with pytest.raises(F2FError, match="aspect ratio"):
        to_canvas(Image.new("RGB", (4000, 16)), (720, 480))


def test_very_large_and_very_small_images_fit_the_canvas():
    for size in [(6000, 4000), (16, 16)]:
        canvas, placement = to_canvas(load_image(Image.new("RGB", size, (10, 200, 30))))
        assert canvas.size == (720, 480)
        assert placement.size == ((720, 480) if size[0] > 16 else (480, 480))


def test_image_hash_follows_pixels_not_objects():
    a, b = _smooth(32, 32), _smooth(32, 32)
    assert image_hash(a) == image_hash(b)
    b.putpixel((0, 0), (0, 0, 0))
    assert image_hash(a) != image_hash(b)


def test_collage_puts_source_above_numbered_tiles():
    source = Image.new("RGB", (64, 64), (255, 0, 0))
    tiles = [Image.new("RGB", (64, 64), (0, 0, 255)) for _ in range(12)]
    board = collage(source, tiles, tile_size=100, columns=4, gap=8)
    assert board.width == 4 * 100 + 5 * 8
    assert board.height == 150 + 3 * 100 + 5 * 8  # source at 1.5 tiles, three rows of tiles
    pixels = np.asarray(board)
    assert tuple(pixels[8 + 140, board.width // 2]) == (255, 0, 0)  # source in the top band
    assert tuple(pixels[board.height - 20, board.width - 20]) == (0, 0, 255)  # a tile below


def test_strip_outlines_only_the_chosen_frame():
    frames = [Image.new("RGB", (32, 32), (0, 0, c)) for c in range(0, 250, 50)]
    marked = np.asarray(strip(frames, chosen=2, height=48))
    plain = np.asarray(strip(frames, chosen=None, height=48))
    orange = np.all(marked == (255, 140, 0), axis=-1)
    assert orange.any() and not np.all(plain == (255, 140, 0), axis=-1).any()


def test_strip_labels_thumbnails_with_given_labels_one_each():
    frames = [Image.new("RGB", (32, 32), (90, 90, 90)) for _ in range(3)]
    numbered = np.asarray(strip(frames, height=48))
    labelled = np.asarray(strip(frames, height=48, labels=["source", "0.3", "0.5"]))
    assert numbered.shape == labelled.shape and not np.array_equal(numbered, labelled)
    with pytest.raises(ValueError, match="one label per thumbnail"):
        strip(frames, indices=[0, 2], labels=["a", "b", "c"])


def test_save_video_writes_an_mp4(tmp_path):
    frames = [Image.new("RGB", (64, 48), (c, c, c)) for c in range(0, 200, 20)]
    path = save_video(frames, tmp_path / "v.mp4", fps=8)
    assert path.stat().st_size > 0
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def _decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_encoder_writes_rgb_jpeg_by_default_and_lossless_png_on_request():
    image = _smooth(40, 30)
    jpeg = _decode(encode_image(image.convert("RGBA")))
    assert jpeg.format == "JPEG" and jpeg.mode == "RGB" and jpeg.size == (40, 30)
    assert np.abs(np.asarray(jpeg, dtype=int) - np.asarray(image, dtype=int)).mean() < 4
    png = _decode(encode_image(image, "png"))
    assert png.format == "PNG" and np.array_equal(np.asarray(png.convert("RGB")), np.asarray(image))
    noisy = Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    assert len(encode_image(noisy, quality=50)) < len(encode_image(noisy))  # quality reaches the JPEG writer (95 default)
    with pytest.raises(ValueError, match="'JPEG' or 'PNG'"):
        encode_image(image, "GIF")


def test_encoder_shrinks_to_max_side_keeping_the_aspect_ratio_and_never_enlarges():
    assert _decode(encode_image(_smooth(1600, 1000), max_side=768)).size == (768, 480)
    assert _decode(encode_image(_smooth(1000, 1600), max_side=400)).size == (250, 400)
    assert _decode(encode_image(_smooth(300, 200), max_side=768)).size == (300, 200)


def test_data_url_wraps_the_encoded_bytes():
    image = _smooth(50, 20)
    url = image_data_url(image, max_side=25, quality=80)
    header, _, payload = url.partition(",")
    assert header == "data:image/jpeg;base64"
    assert base64.b64decode(payload) == encode_image(image, "JPEG", quality=80, max_side=25)
    assert image_data_url(image, image_format="png").startswith("data:image/png;base64,")
    with pytest.raises(ValueError):
        image_data_url(image, image_format="webp")
