"""What pictures and documents cost the bot before the model is asked: the time to check
and downscale a phone photo, to extract a long PDF, and to refuse hostile files (a pixel
bomb, a PDF bomb), with the process's peak memory after each (ru_maxrss).

    python -m bench.files [--repeat 5]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from collections.abc import Callable

from core.errors import CoreError
from core.services.config import CoreConfig
from core.services.documents import extract_text
from core.services.images_in import downscale
from core.services.requests import Attachment
from tests.sample_files import pdf, photo_like, picture, pixel_bomb


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(label: str, repeat: int, work: Callable[[], object]) -> None:
    times, outcome = [], ""
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            work()
            outcome = "ok"
        except CoreError as exc:
            outcome = f"refused ({exc.key})"
        times.append((time.perf_counter() - start) * 1000)
    print(
        f"{label:<44} median {statistics.median(times):8.1f} ms   max {max(times):8.1f} ms"
        f"   peak RSS {_peak_mb():7.1f} MB   {outcome}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    config = CoreConfig()
    photo = photo_like(4032, 3024)  # a 12-megapixel phone photo
    png = picture(4032, 3024, "PNG")  # a flat 12-megapixel screenshot
    pages = pdf([f"Page {n}: " + "lorem ipsum dolor sit amet " * 40 for n in range(50)])
    bomb = pdf(["hello"] * 2, compress_pad=300 * 2**20)
    print(f"inputs: JPEG {len(photo) / 2**20:.1f} MB, PNG {len(png) / 2**20:.1f} MB, "
          f"50-page PDF {len(pages) / 2**10:.0f} kB, PDF bomb {len(bomb) / 2**10:.0f} kB "
          f"(inflates to 600 MB)")  # fmt: skip
    print(f"peak RSS before: {_peak_mb():.1f} MB")
    _measure("downscale 12 MP JPEG to 1024 px", repeat, lambda: downscale(photo, 1024))
    _measure("downscale 12 MP PNG to 1024 px", repeat, lambda: downscale(png, 1024))
    _measure("refuse a 60,000² pixel bomb", repeat, lambda: downscale(pixel_bomb(), 1024))
    _measure(
        "extract a 50-page PDF (8,000-token budget)",
        repeat,
        lambda: extract_text(Attachment("long.pdf", pages), config),
    )
    _measure(
        "refuse a PDF bomb", repeat, lambda: extract_text(Attachment("bomb.pdf", bomb), config)
    )


if __name__ == "__main__":
    main()
