"""Cover art: a generated default (3000x3000 JPEG) or the publisher's own file, checked.

Apple wants a square RGB JPEG or PNG of 1400-3000 px whose extension matches its
content; we check a configured cover against that instead of publishing a
cover directories would reject.
"""

from __future__ import annotations

import functools
import io
import math
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError

if TYPE_CHECKING:
    from PIL import Image

SIZE = 3000
MAX_BYTES = 512 * 1024
MAX_INPUT_BYTES = 20 * 2**20  # a configured cover larger than this is refused unread


@functools.lru_cache(maxsize=4)
def generate_cover(title: str = "AI论文早班车", subtitle: str = "每日 AI 论文 · 双人对谈") -> bytes:
    """A calm gradient with a waveform and the show's Chinese name, as a JPEG under 512 KB."""
    from PIL import Image, ImageDraw, ImageFont

    from .visuals import cjk_font

    img = Image.new("RGB", (SIZE, SIZE))
    draw = ImageDraw.Draw(img)
    top, bottom = (20, 24, 64), (92, 38, 120)
    for y in range(SIZE):
        f = y / (SIZE - 1)
        draw.line([(0, y), (SIZE, y)],
                  fill=tuple(int(a + (b - a) * f) for a, b in zip(top, bottom, strict=True)))
    # a waveform across the middle: two voices, drawn as bars
    bars = 60
    width = SIZE * 0.8 / bars
    for i in range(bars):
        x = SIZE * 0.1 + i * width
        h = (0.25 + 0.75 * abs(math.sin(i * 0.55) * math.cos(i * 0.17))) * SIZE * 0.22
        colour = (255, 196, 64) if i % 2 else (120, 220, 255)
        draw.rounded_rectangle([x + width * 0.2, SIZE * 0.55 - h / 2, x + width * 0.8, SIZE * 0.55 + h / 2],
                               radius=int(width * 0.3), fill=colour)
    font = str(cjk_font())
    size = 420
    while size > 120 and draw.textlength(title, font=ImageFont.truetype(font, size)) > SIZE * 0.86:
        size -= 20
    draw.text((SIZE / 2, SIZE * 0.24), title, font=ImageFont.truetype(font, size), fill="white",
              anchor="mm", stroke_width=max(2, size // 40), stroke_fill="white")
    draw.text((SIZE / 2, SIZE * 0.84), subtitle, font=ImageFont.truetype(font, 150), fill=(230, 230, 240),
              anchor="mm")
    for quality in (88, 80, 70, 60):
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=quality, optimize=True, progressive=True)
        if buf.tell() <= MAX_BYTES:
            break
    return buf.getvalue()


def _jpeg(img: Image.Image) -> bytes:
    """``img`` as an RGB JPEG under MAX_BYTES where the quality allows (it is embedded in every MP3)."""
    for quality in (90, 85, 80, 70, 60):
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=quality, optimize=True, progressive=True)
        if buf.tell() <= MAX_BYTES:
            break
    return buf.getvalue()


def load_cover(path: Path) -> tuple[bytes, str]:
    """Read a configured cover safely and re-encode it: (JPEG bytes, 'jpg').

    The file is read with a size limit, only regular files are read (``/dev/zero`` never ends),
    its size is checked from the header before any pixel is decoded (a decompression bomb is
    refused, not decoded), and what is published is our own re-encoding, never the file itself."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise ConfigError(path, "show.cover: not a regular file")
        with path.open("rb") as f:
            data = f.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise ConfigError(path, f"show.cover: cannot read ({exc.strerror or exc})") from exc
    if len(data) > MAX_INPUT_BYTES:
        raise ConfigError(path, f"show.cover: larger than {MAX_INPUT_BYTES // 2**20} MB; "
                                "use a 1400-3000 px square JPEG or PNG")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            kind = img.format
            if kind not in ("JPEG", "PNG"):
                raise ConfigError(path, f"show.cover: must be JPEG or PNG, not {kind}")
            if img.width != img.height or not 1400 <= img.width <= SIZE:
                raise ConfigError(path, f"show.cover: must be square, 1400-3000 px "
                                        f"(is {img.width}x{img.height})")
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ConfigError(path, "show.cover: refused as a decompression bomb") from exc
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError) as exc:
        raise ConfigError(path, f"show.cover: not a readable image ({exc})") from exc
    flat: Image.Image = img.convert("RGB")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")  # transparency over white, not black
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
    return _jpeg(flat), "jpg"


PICTURES = 2  # bump when pictures or the cover are drawn differently, to refresh their cache


def cover_bytes(root: Path, cover: str | None, title: str) -> tuple[bytes, str]:
    """The configured cover (``[show] cover``, checked) or the generated one, and its extension."""
    from .store import cached_artifact

    if cover:
        path = Path(cover) if Path(cover).is_absolute() else root / cover
        if not path.exists():
            raise ConfigError(root / "podcast.toml", f"show.cover: {path} does not exist")
        if path.is_dir():
            raise ConfigError(path, "show.cover: is a directory, not an image")
        return load_cover(path)
    return cached_artifact("cover", [PICTURES, title], lambda: generate_cover(title)), "jpg"
