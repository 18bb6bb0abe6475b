"""Benchmark of the photo pipeline (app/photos/pipeline.py) on a 12-megapixel camera-like JPEG.

Run from the repo root:  .venv/bin/python bench/pipeline.py [--runs N]

Times (median of N runs, default 7):
  pipeline     process_photo(): checks, draft decode, orientation, display + thumbnail JPEGs
  draft floor  Pillow alone: open, draft to the scale the pipeline picks, load
  naive        full decode, LANCZOS resize to 2048 px, thumbnail 320
and, for context only: the pipeline on the same photo stored upright (no turning), and the
naive way doing the pipeline's whole job (orientation, both JPEGs saved, hash).
Peak RSS of the pipeline: a fresh Python process imports app.photos, reads the file and runs
process_photo() once; it reports resource.getrusage(RUSAGE_SELF).ru_maxrss (the whole
process's high-water mark, interpreter and imports included) and the same figure just
before the call, for comparison.

Targets: pipeline <= 3x the draft floor, >= 5x faster than naive, peak RSS <= 150 MB.
The last line printed is one JSON object with the four figures.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from PIL import ExifTags, Image

from app.photos import pipeline

WIDTH, HEIGHT = 4000, 3000
MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 50_000_000


def make_camera_jpeg() -> bytes:
    """4000x3000, gradients plus coarse and fine noise (compresses like a photo), quality 90,
    with EXIF orientation 6, GPS and DateTimeOriginal."""

    def channel(sigma: float, angle: int) -> Image.Image:
        gradient = Image.linear_gradient("L").rotate(angle).resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR)
        coarse = Image.effect_noise((WIDTH // 4, HEIGHT // 4), sigma).resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)
        fine = Image.effect_noise((WIDTH, HEIGHT), 18)
        return Image.blend(Image.blend(gradient, coarse, 0.5), fine, 0.25)

    im = Image.merge("RGB", [channel(60, 0), channel(50, 90), channel(40, 45)])
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "BenchCam"
    exif[ExifTags.Base.Orientation] = 6
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2024:05:01 09:30:00"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.OffsetTimeOriginal] = "+08:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (31.0, 13.0, 45.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (121.0, 28.0, 12.25)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def median_ms(fn, runs: int) -> tuple[float, list[float]]:
    fn()  # warm-up (imports, first-call costs)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), times


def run_pipeline(data: bytes) -> pipeline.ProcessedPhoto:
    return pipeline.process_photo(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)


def draft_decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data), formats=["JPEG"])
    scale = pipeline._draft_scale(max(im.size))
    if scale > 1:
        im.draft("RGB", (im.width // scale, im.height // scale))
    im.load()
    return im


def naive(data: bytes) -> tuple[Image.Image, Image.Image]:
    im = Image.open(io.BytesIO(data))
    im.load()
    w, h = im.size
    f = 2048 / max(w, h)
    display = im.resize((round(w * f), round(h * f)), Image.Resampling.LANCZOS)
    thumb = display.copy()
    thumb.thumbnail((320, 320), Image.Resampling.LANCZOS, reducing_gap=None)
    return display, thumb


def vm_hwm_mb() -> float | None:
    """This process image's own RSS high-water mark (Linux), for a cross-check."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def naive_like_for_like(data: bytes) -> tuple[bytes, bytes, str]:
    """Context only (not a target): the naive way doing all the pipeline's work: orientation,
    both JPEGs saved, the hash."""
    from PIL import ImageOps

    im = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    display = im.copy()
    display.thumbnail((2048, 2048), Image.Resampling.LANCZOS, reducing_gap=None)
    thumb = display.copy()
    thumb.thumbnail((320, 320), Image.Resampling.LANCZOS, reducing_gap=None)
    out, small = io.BytesIO(), io.BytesIO()
    display.save(out, "JPEG", quality=82)
    thumb.save(small, "JPEG", quality=82)
    return out.getvalue(), small.getvalue(), hashlib.sha256(data).hexdigest()


def without_orientation(data: bytes) -> bytes:
    """The same JPEG with its EXIF orientation patched from 6 to 1 (pixels untouched), to show
    what turning the picture costs."""
    entry = struct.pack(">HHIH", ExifTags.Base.Orientation, 3, 1, 6)  # tag, SHORT, count 1, value 6 (Pillow writes big-endian)
    assert data.count(entry) == 1, "orientation entry not found"
    return data.replace(entry, struct.pack(">HHIH", ExifTags.Base.Orientation, 3, 1, 1))


def rss_child(path: str) -> None:
    """In a fresh process: peak RSS (MB) before and after one process_photo()."""
    import resource

    data = Path(path).read_bytes()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = run_pipeline(data)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "baseline_rss_mb": round(before, 1),
        "peak_rss_mb": round(after, 1),
        "vm_hwm_mb": vm_hwm_mb(),
        "display": [result.width, result.height],
    }))


def run_child(*args: str) -> str:
    child = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    return child.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rss-child", metavar="PATH", help=argparse.SUPPRESS)
    parser.add_argument("--make", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child)
        return
    if args.make:
        Path(args.make).write_bytes(make_camera_jpeg())
        return
    runs = max(5, args.runs)

    # ru_maxrss survives fork+exec (Linux hands the parent's high-water mark to the child), so
    # the photo is made in a child of its own and the RSS child starts while this process is small.
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "camera.jpg")
        run_child("--make", path)
        rss = json.loads(run_child("--rss-child", path).strip().splitlines()[-1])
        data = Path(path).read_bytes()

    result = run_pipeline(data)
    scale = pipeline._draft_scale(max(WIDTH, HEIGHT))
    print(f"input: {WIDTH}x{HEIGHT} JPEG, {len(data) / 1e6:.2f} MB, EXIF orientation 6 + GPS")
    print(
        f"output: display {result.width}x{result.height} ({len(result.display) / 1e3:.0f} kB), "
        f"thumbnail {len(result.thumbnail) / 1e3:.1f} kB, draft scale 1/{scale}, captured_at {result.captured_at}"
    )

    pipeline_ms, pipeline_all = median_ms(lambda: run_pipeline(data), runs)
    draft_ms, draft_all = median_ms(lambda: draft_decode(data), runs)
    naive_ms, naive_all = median_ms(lambda: naive(data), runs)
    upright = without_orientation(data)
    upright_ms, upright_all = median_ms(lambda: run_pipeline(upright), runs)
    fair_ms, fair_all = median_ms(lambda: naive_like_for_like(data), runs)

    def line(name: str, median: float, all_runs: list[float]) -> str:
        spread = ", ".join(f"{t:.0f}" for t in all_runs)
        return f"  {name:<22}{median:8.1f} ms   (runs: {spread})"

    print(f"median of {runs} runs:")
    print(line("pipeline", pipeline_ms, pipeline_all))
    print(line("draft floor", draft_ms, draft_all))
    print(line("naive", naive_ms, naive_all))
    print("for context only (not targets):")
    print(line("pipeline, upright photo", upright_ms, upright_all))
    print(line("naive, doing all of it", fair_ms, fair_all))
    print("  (the same photo with orientation 1; naive + orientation + both JPEGs saved + hash)")
    ratio_floor = pipeline_ms / draft_ms
    speedup = naive_ms / pipeline_ms
    print(f"pipeline / draft floor: {ratio_floor:.2f}x  (target <= 3x)  {'ok' if ratio_floor <= 3 else 'MISSED'}")
    print(f"naive / pipeline:       {speedup:.2f}x  (target >= 5x)  {'ok' if speedup >= 5 else 'MISSED'}")
    print(
        f"peak RSS (fresh process, ru_maxrss): {rss['peak_rss_mb']:.1f} MB, "
        f"of which {rss['baseline_rss_mb']:.1f} MB before the call  (target <= 150 MB)  "
        f"{'ok' if rss['peak_rss_mb'] <= 150 else 'MISSED'}"
    )
    if rss.get("vm_hwm_mb"):
        print(f"  cross-check: VmHWM of that process {rss['vm_hwm_mb']:.1f} MB")
    print(json.dumps({
        "pipeline_ms": round(pipeline_ms, 1),
        "draft_decode_ms": round(draft_ms, 1),
        "naive_ms": round(naive_ms, 1),
        "peak_rss_mb": rss["peak_rss_mb"],
    }))


if __name__ == "__main__":
    main()
