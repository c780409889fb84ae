"""The OCR engine: RapidOCR with the PP-OCR models its wheel ships, loaded once per process.

Nothing is downloaded: rapidocr-onnxruntime carries its three ONNX models (detection, direction,
recognition) inside the package. Loading takes about half a second and 150 MB, so a process
keeps one engine for its life; `preload()` lets a forking worker load it before it forks, and
its work horses share it.
"""

import io
import threading

from PIL import Image, ImageFilter, ImageOps

from app.reading.extract import Line

# Photos are read at this long edge: the compressed copy is 1600 px; text on an ID card or a
# licence photographed whole is still 20+ px high here, and detection costs about the square of
# the size. A photo whose field shows but cannot be read is read again at CLOSE_EDGE (the whole
# copy): bench/ocr.py found that recovers about a third of those, for a tenth of the photos.
LONG_EDGE = 1280
CLOSE_EDGE = 1600
_engine = None
_lock = threading.Lock()


def engine(threads: int = 2):
    """This process's engine, loaded on first use (threads: onnxruntime's per model)."""
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                from rapidocr_onnxruntime import RapidOCR

                # "max": detection never enlarges a photo (it does shrink one over 2000 px, and
                # ours never are); the size read at is the one prepare() gives.
                _engine = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1,
                                   det_limit_type="max")
    return _engine


def preload(threads: int = 2) -> None:
    """Load the engine now (a worker before it forks work horses)."""
    engine(threads)


def loaded() -> bool:
    return _engine is not None


def prepare(data: bytes, long_edge: int | None = None, sharpen: bool = False):
    """The photo as the engine takes it: upright, RGB, at most LONG_EDGE, in BGR order;
    `sharpen` stretches the contrast and sharpens edges (for a dim or soft photo's numbers)."""
    import numpy as np  # here, not at import: web processes that never read need not load it

    long_edge = long_edge or LONG_EDGE
    with Image.open(io.BytesIO(data)) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
        image.thumbnail((long_edge, long_edge), Image.Resampling.BILINEAR)
        if sharpen:
            image = ImageOps.autocontrast(image, cutoff=1).filter(
                ImageFilter.UnsharpMask(radius=2, percent=150, threshold=2))
        return np.ascontiguousarray(np.asarray(image)[:, :, ::-1])


def read_lines(data: bytes, threads: int = 2, long_edge: int | None = None,
               sharpen: bool = False) -> list[Line]:
    """The text boxes on a photo, each with its confidence and corners."""
    with _lock_for_run:
        result, _ = engine(threads)(prepare(data, long_edge, sharpen))
    return [Line(text=str(text), score=float(score), box=tuple(tuple(map(float, p)) for p in box))
            for box, text, score in result or []]


# One photo at a time per process: onnxruntime already uses the threads it is given, and two
# readings at once in one process would only fight over them (and double the peak memory).
_lock_for_run = threading.Lock()
