"""Photo compression on generated 12 MP document photos: the project's compress() against a naive
Pillow pipeline and libvips, all to 1600 px JPEG plus a 320 px thumbnail at the same quality.

Run from the repo root: .venv/bin/python bench/images.py
Targets: project >= 1.5x faster than naive and no slower than 1.2x libvips; median copy under
150 KB; median SSIM >= 0.95 against a lossless LANCZOS resize; peak memory under 40 MB a job.
"""

import io
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyvips  # noqa: E402
from PIL import (  # noqa: E402
    ExifTags,
    Image,
    ImageChops,
    ImageDraw,
    ImageFilter,
    ImageFont,
    ImageMath,
    ImageOps,
)

from app.uploads.imaging import LONG_EDGE, QUALITY, THUMB_EDGE, compress, fit  # noqa: E402

PHOTOS = 8
RUNS = 5
SCENE = (4000, 3000)  # stored sensor size: 12 MP
PAGE = (2100, 2970)  # A4 at about 250 dpi
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
# Phones held upright store a landscape frame and orientation 6; a few shoot sideways or flipped.
ORIENTATIONS = [6, 6, 1, 6, 3, 6, 8, 1]
TARGET_SPEEDUP_NAIVE = 1.5
TARGET_VS_VIPS = 1.2
TARGET_KB = 150
TARGET_SSIM = 0.95
TARGET_MB = 40

TITLES = ["个人信息登记表", "在职证明", "社会保险参保缴费证明", "房屋租赁合同", "营业执照申请书",
          "婚姻状况声明书", "居住证申领登记表", "不动产登记申请书"]
PHRASES = ["兹证明", "申请人", "身份证号码", "户籍所在地", "现居住地址", "工作单位", "联系电话",
           "经审核", "符合有关规定", "特此证明", "本人承诺", "以上信息真实有效", "如有虚假",
           "愿承担相应法律责任", "按照国家有关规定", "办理相关手续", "自即日起", "有效期", "至",
           "年", "月", "日", "业务范围", "注册资本", "人民币", "万元", "法定代表人", "租赁期限",
           "房屋坐落于", "建筑面积", "平方米", "月租金", "乙方", "甲方", "双方协商一致",
           "签订本合同",
           "第一条", "第二条", "第三条", "社会保险", "养老保险", "医疗保险", "缴费基数", "连续缴费",
           "个月", "政务服务中心", "窗口", "受理", "材料齐全", "予以登记"]
LATIN = ["Applicant", "ID number", "Address", "Employer", "Phone", "certify", "approved",
         "registration", "valid until", "signature", "date", "office", "hereby", "records"]
COLUMNS = ["序号", "项目", "内容", "备注"]
SEAL_TEXT = "兴安盟政务服务管理局"


# ---- photos ----

def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The CJK font when installed, else Pillow's own (Latin only)."""
    if CJK_FONT.exists():
        return ImageFont.truetype(str(CJK_FONT), size)
    return ImageFont.load_default(size)


def words(rng: random.Random, n: int) -> str:
    """Plausible form text."""
    if CJK_FONT.exists():
        return "".join(rng.choice(PHRASES) for _ in range(n)) + "。"
    return " ".join(rng.choice(LATIN) for _ in range(n)) + "."


def wrap(draw: ImageDraw.ImageDraw, text: str, face, width: int) -> list[str]:
    """Lines no wider than width, broken anywhere (Chinese has no spaces)."""
    lines, line = [], ""
    for ch in text:
        if draw.textlength(line + ch, font=face) > width:
            lines.append(line)
            line = ""
        line += ch
    return [*lines, line]


def seal(diameter: int, rng: random.Random) -> Image.Image:
    """A red round seal: ring, star, name on the arc, uneven ink."""
    size, red = diameter + 40, (205, 32, 36, 255)
    im = Image.new("RGBA", (size, size))
    draw = ImageDraw.Draw(im)
    c, r = size / 2, diameter / 2
    draw.ellipse((c - r, c - r, c + r, c + r), outline=red, width=diameter // 28)
    star = [(c + (r * 0.28 if k % 2 == 0 else r * 0.11) * math.sin(math.pi * k / 5),
             c - (r * 0.28 if k % 2 == 0 else r * 0.11) * math.cos(math.pi * k / 5))
            for k in range(10)]
    draw.polygon(star, fill=red)
    face = font(int(r * 0.24))
    text = SEAL_TEXT if CJK_FONT.exists() else "SERVICE CENTRE OFFICE"
    for i, ch in enumerate(text):
        angle = -120 + 240 * (i + 0.5) / len(text)
        tile = Image.new("RGBA", (int(r * 0.4), int(r * 0.4)))
        ImageDraw.Draw(tile).text((tile.width / 2, tile.height / 2), ch, font=face, fill=red,
                                  anchor="mm")
        tile = tile.rotate(-angle, Image.Resampling.BICUBIC, expand=True)
        x = c + r * 0.68 * math.sin(math.radians(angle)) - tile.width / 2
        y = c - r * 0.68 * math.cos(math.radians(angle)) - tile.height / 2
        im.alpha_composite(tile, (int(x), int(y)))
    draw.text((c, c + r * 0.5), "业务专用章" if CJK_FONT.exists() else "OFFICIAL",
              font=font(int(r * 0.17)), fill=red, anchor="mm")
    ink = Image.effect_noise((size // 12, size // 12), 60).resize((size, size),
                                                                 Image.Resampling.BICUBIC)
    alpha = ImageChops.multiply(im.getchannel("A"), ink.point(lambda v: min(235, 100 + v)))
    im.putalpha(alpha)
    return im.rotate(rng.uniform(-25, 25), Image.Resampling.BICUBIC)


def page(rng: random.Random, index: int) -> Image.Image:
    """One A4 page: title, text, a table, a signature line and a red seal."""
    im = Image.new("RGBA", PAGE, (246, 244, 236, 255))
    draw = ImageDraw.Draw(im)
    margin, body, ink = 190, font(40), (30, 30, 34, 255)
    draw.text((PAGE[0] / 2, 260), TITLES[index % len(TITLES)] if CJK_FONT.exists()
              else "APPLICATION FORM", font=font(84), fill=ink, anchor="mm")
    y = 400
    for _ in range(rng.randint(2, 4)):
        for line in wrap(draw, "  " + words(rng, rng.randint(14, 30)), body, PAGE[0] - 2 * margin):
            draw.text((margin, y), line, font=body, fill=ink)
            y += 64
        y += 24
    rows, widths = rng.randint(6, 11), [160, 430, 800, 330]
    x0 = margin
    for row in range(rows + 1):
        x = x0
        for col, width in enumerate(widths):
            draw.rectangle((x, y, x + width, y + 82), outline=ink, width=3)
            cell = (COLUMNS[col] if CJK_FONT.exists() else f"Col {col}") if row == 0 else (
                str(row) if col == 0 else words(rng, 2 if col == 1 else 3)[:11 if col == 2 else 6])
            draw.text((x + 18, y + 41), cell, font=body, fill=ink, anchor="lm")
            x += width
        y += 82
    y += 60
    for line in wrap(draw, "  " + words(rng, rng.randint(8, 16)), body, PAGE[0] - 2 * margin):
        draw.text((margin, y), line, font=body, fill=ink)
        y += 64
    sign_y = max(y + 120, PAGE[1] - 560)
    draw.text((PAGE[0] - margin - 720, sign_y), "申请人(签字):" if CJK_FONT.exists()
              else "Signature:", font=body, fill=ink)
    draw.line((PAGE[0] - margin - 420, sign_y + 52, PAGE[0] - margin, sign_y + 52), fill=ink,
              width=3)
    draw.text((PAGE[0] - margin - 560, sign_y + 150), "2025年5月20日" if CJK_FONT.exists()
              else "20 May 2025", font=body, fill=ink)
    stamp = seal(430, rng)
    im.alpha_composite(stamp, (PAGE[0] - margin - 520 + rng.randint(-40, 40), sign_y - 60))
    return im


def solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting, for an 8 by 8 system."""
    n = len(b)
    m = [row[:] + [v] for row, v in zip(a, b, strict=True)]
    for i in range(n):
        p = max(range(i, n), key=lambda k: abs(m[k][i]))
        m[i], m[p] = m[p], m[i]
        for k in range(i + 1, n):
            f = m[k][i] / m[i][i]
            m[k] = [x - f * y for x, y in zip(m[k], m[i], strict=True)]
    out = [0.0] * n
    for i in reversed(range(n)):
        out[i] = (m[i][n] - sum(m[i][k] * out[k] for k in range(i + 1, n))) / m[i][i]
    return out


def perspective(dst: list[tuple[float, float]], src: list[tuple[float, float]]) -> list[float]:
    """Pillow's PERSPECTIVE coefficients taking scene points dst back to page points src."""
    a, b = [], []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        a.append([x, y, 1, 0, 0, 0, -x * u, -y * u])
        a.append([0, 0, 0, x, y, 1, -x * v, -y * v])
        b += [u, v]
    return solve(a, b)


def desk(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A wood-grain desk: stretched noise for the grain, blotches for the tone."""
    grain = Image.effect_noise((size[0] // 8, 40), 50).resize(size, Image.Resampling.BICUBIC)
    blotch = Image.effect_noise((16, 12), 40).resize(size, Image.Resampling.BICUBIC)
    tone = ImageChops.add(grain, blotch, scale=2.0)
    dark, light = rng.choice([((70, 45, 28), (150, 105, 70)), ((90, 90, 95), (170, 170, 175))])
    return ImageOps.colorize(tone, dark, light)


def make_photo(path: Path, seed: int, orientation: int) -> None:
    """A phone photo of one page: perspective, desk, shadow, uneven light, blur, noise, EXIF."""
    rng = random.Random(seed)
    upright = SCENE if orientation in (1, 3) else SCENE[::-1]
    w, h = upright
    paper = page(rng, seed)
    ph = h * rng.uniform(0.8, 0.88)
    pw = ph * PAGE[0] / PAGE[1]
    cx, cy = w / 2 + rng.uniform(-80, 80), h / 2 + rng.uniform(-60, 60)
    quad = [(cx - pw / 2 + rng.uniform(-20, 110), cy - ph / 2 + rng.uniform(-20, 90)),
            (cx + pw / 2 + rng.uniform(-110, 20), cy - ph / 2 + rng.uniform(-20, 90)),
            (cx + pw / 2 + rng.uniform(-30, 60), cy + ph / 2 + rng.uniform(-60, 20)),
            (cx - pw / 2 + rng.uniform(-60, 30), cy + ph / 2 + rng.uniform(-60, 20))]
    corners = [(0, 0), (PAGE[0], 0), PAGE, (0, PAGE[1])]
    warped = paper.transform(upright, Image.Transform.PERSPECTIVE, perspective(quad, corners),
                             Image.Resampling.BICUBIC)
    scene = desk(upright, rng).convert("RGBA")
    shadow = Image.new("L", (w // 8, h // 8))
    ImageDraw.Draw(shadow).polygon([(x / 8 + 4, y / 8 + 6) for x, y in quad], fill=120)
    shadow = shadow.filter(ImageFilter.GaussianBlur(6)).resize(upright, Image.Resampling.BICUBIC)
    scene.paste((0, 0, 0, 255), mask=shadow)
    scene.alpha_composite(warped)
    light = Image.new("L", (3, 3))
    light.putdata([rng.randint(175, 255) for _ in range(9)])
    light = light.resize(upright, Image.Resampling.BICUBIC).convert("RGB")
    photo = ImageChops.multiply(scene.convert("RGB"), light)
    photo = photo.filter(ImageFilter.GaussianBlur(0.8))
    noise = Image.effect_noise(upright, 3)
    photo = ImageChops.add(photo, Image.merge("RGB", (noise, noise, noise)), 1.0, -128)
    # Stored as the sensor saw it: a viewer applying the orientation gets the upright scene.
    turn = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90,
            8: Image.Transpose.ROTATE_270}.get(orientation)
    stored = photo if turn is None else photo.transpose(turn)
    stored.save(path, "JPEG", quality=92, subsampling="4:2:0", exif=camera_exif(orientation))


def camera_exif(orientation: int) -> Image.Exif:
    """What a phone writes: make, model, time, orientation and where the photo was taken."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Xiaomi"
    exif[ExifTags.Base.Model] = "Redmi Note 12"
    exif[ExifTags.Base.DateTime] = "2025:05:20 09:41:07"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (46.0, 4.0, 48.6)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (122.0, 4.0, 12.3)
    return exif


# ---- the three pipelines: bytes in, (copy, thumbnail) JPEG bytes out ----

def project(data: bytes) -> tuple[bytes, bytes]:
    result = compress(data, long_edge=LONG_EDGE, thumb_edge=THUMB_EDGE, quality=QUALITY)
    return result.image_bytes, result.thumb_bytes


def naive(data: bytes) -> tuple[bytes, bytes]:
    im = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    im = im.resize(fit(im.size, LONG_EDGE), Image.Resampling.LANCZOS)
    im.info = {}
    thumb = im.resize(fit(im.size, THUMB_EDGE), Image.Resampling.LANCZOS)
    return pillow_jpeg(im), pillow_jpeg(thumb)


def pillow_jpeg(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=QUALITY, subsampling="4:2:0", optimize=True)
    return buf.getvalue()


def vips(data: bytes) -> tuple[bytes, bytes]:
    # thumbnail_buffer shrinks on load and autorotates; copy_memory so that the thumbnail does
    # not run the whole pipeline from the JPEG again.
    im = pyvips.Image.thumbnail_buffer(data, LONG_EDGE, height=LONG_EDGE, size="down")
    im = im.copy_memory()
    thumb = im.thumbnail_image(THUMB_EDGE, height=THUMB_EDGE, size="down")
    return vips_jpeg(im), vips_jpeg(thumb)


def vips_jpeg(im: pyvips.Image) -> bytes:
    return im.jpegsave_buffer(Q=QUALITY, subsample_mode="on", optimize_coding=True,
                              keep=pyvips.enums.ForeignKeep.NONE)


PIPELINES = {"project": project, "naive": naive, "vips": vips}


# ---- SSIM (Wang et al. 2004: 11-tap Gaussian, sigma 1.5, on luma), Pillow only ----

SIGMA, RADIUS = 1.5, 5
_G = [math.exp(-(k * k) / (2 * SIGMA * SIGMA)) for k in range(-RADIUS, RADIUS + 1)]
GAUSS = [g / sum(_G) for g in _G]
C1, C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2


def blur(im: Image.Image) -> Image.Image:
    """Separable Gaussian over the valid region (shrinks by 2*RADIUS) of a mode F image."""
    for axis in (0, 1):
        w, h = im.size
        acc = None
        for k, g in enumerate(GAUSS):
            box = (k, 0, w - 2 * RADIUS + k, h) if axis == 0 else (0, k, w, h - 2 * RADIUS + k)
            part = im.crop(box)
            acc = (ImageMath.lambda_eval(lambda a, g=g: a["p"] * g, p=part) if acc is None else
                   ImageMath.lambda_eval(lambda a, g=g: a["s"] + a["p"] * g, s=acc, p=part))
        im = acc
    return im


def ssim(reference: Image.Image, candidate: Image.Image) -> float:
    """Mean SSIM of the luma of two same-size images."""
    x = reference.convert("L").convert("F")
    y = candidate.convert("L").convert("F")
    mx, my = blur(x), blur(y)
    xx = blur(ImageMath.lambda_eval(lambda a: a["x"] * a["x"], x=x))
    yy = blur(ImageMath.lambda_eval(lambda a: a["y"] * a["y"], y=y))
    xy = blur(ImageMath.lambda_eval(lambda a: a["x"] * a["y"], x=x, y=y))
    smap = ImageMath.lambda_eval(
        lambda a: (a["mx"] * a["my"] * 2 + C1) * ((a["xy"] - a["mx"] * a["my"]) * 2 + C2)
        / ((a["mx"] * a["mx"] + a["my"] * a["my"] + C1)
           * (a["xx"] - a["mx"] * a["mx"] + a["yy"] - a["my"] * a["my"] + C2)),
        mx=mx, my=my, xx=xx, yy=yy, xy=xy)
    # A BOX resize to one pixel is an exact mean; ImageStat bins mode F into a histogram.
    return smap.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))


def reference(data: bytes) -> Image.Image:
    """Full decode, upright, LANCZOS to the target size, never compressed."""
    im = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    return im.resize(fit(im.size, LONG_EDGE), Image.Resampling.LANCZOS)


# ---- peak memory, in a fresh process per pipeline ----

def rss_kb(field: str) -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+)", status).group(1))


def memory_child(name: str, path: str) -> None:
    """Warm up on a small photo, reset the peak RSS, run one job, print the rise in MB."""
    small = io.BytesIO()
    Image.new("RGB", (640, 480), "white").save(small, "JPEG", exif=camera_exif(6))
    PIPELINES[name](small.getvalue())  # loads codecs, starts vips threads
    data = Path(path).read_bytes()
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS (Linux >= 4.0)
    before = rss_kb("VmRSS")
    PIPELINES[name](data)
    print(json.dumps({"mb": (rss_kb("VmHWM") - before) / 1024}))


def peak_mb(name: str, path: Path) -> float:
    out = subprocess.run([sys.executable, __file__, "--memory", name, str(path)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["mb"]


# ---- the run ----

def timed(fn, data: bytes) -> tuple[float, float, tuple[bytes, bytes]]:
    """Wall and CPU milliseconds (CPU over all threads: libvips uses several) and the output."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(data)
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, out


def measure(paths: list[Path]) -> tuple[dict, dict, dict, dict]:
    """Per photo and pipeline: median wall and CPU ms, size and SSIM of the copy."""
    ms, cpu, kb, sim = ({name: [] for name in PIPELINES} for _ in range(4))
    for path in paths:
        data = path.read_bytes()
        runs = {name: ([], []) for name in PIPELINES}
        outputs = {name: fn(data) for name, fn in PIPELINES.items()}
        for _ in range(RUNS):  # in turn, so that load from other processes hits all three alike
            for name, fn in PIPELINES.items():
                wall, used, outputs[name] = timed(fn, data)
                runs[name][0].append(wall)
                runs[name][1].append(used)
        ref = reference(data)
        for name, (image, thumb) in outputs.items():
            ms[name].append(statistics.median(runs[name][0]))
            cpu[name].append(statistics.median(runs[name][1]))
            kb[name].append(len(image) / 1024)
            out = Image.open(io.BytesIO(image))
            assert max(Image.open(io.BytesIO(thumb)).size) == THUMB_EDGE, name
            if out.size != ref.size:  # rounding of odd aspect ratios; never more than 1 px
                out = out.resize(ref.size, Image.Resampling.LANCZOS)
            sim[name].append(ssim(ref, out))
    return ms, cpu, kb, sim


def main() -> int:
    pyvips.cache_set_max(0)  # the operation cache would hand back results for repeated input
    with tempfile.TemporaryDirectory(prefix="bench-images-") as tmp:
        started = time.perf_counter()
        paths = []
        for i in range(PHOTOS):
            path = Path(tmp) / f"IMG_{i:04d}.jpg"
            make_photo(path, seed=i, orientation=ORIENTATIONS[i % len(ORIENTATIONS)])
            paths.append(path)
        sizes = [p.stat().st_size / 1024 for p in paths]
        print(f"{PHOTOS} photos of {SCENE[0]}x{SCENE[1]} (orientations {ORIENTATIONS[:PHOTOS]}), "
              f"JPEG q92 with EXIF and GPS, median {statistics.median(sizes):.0f} KB, made in "
              f"{time.perf_counter() - started:.1f}s; font: "
              f"{CJK_FONT if CJK_FONT.exists() else 'Pillow default (no CJK)'}")
        print(f"each pipeline: bytes in, {LONG_EDGE} px copy + {THUMB_EDGE} px thumbnail out, JPEG "
              f"q{QUALITY} 4:2:0 baseline optimised, no metadata; {RUNS} timed runs each after "
              f"a warm-up, median per photo, then median over photos; libvips "
              f"{pyvips.version(0)}.{pyvips.version(1)} with its cache off and its own threads")
        ms, cpu, kb, sim = measure(paths)
        biggest = max(paths, key=lambda p: p.stat().st_size)
        mem = {name: peak_mb(name, biggest) for name in PIPELINES}
        input_kb = biggest.stat().st_size / 1024
    print(f"done in {time.perf_counter() - started:.0f}s, load average "
          f"{Path('/proc/loadavg').read_text().split()[0]} on {os.cpu_count()} CPUs")
    return report(ms, cpu, kb, sim, mem, input_kb)


def report(ms, cpu, kb, sim, mem, input_kb: float) -> int:
    med = {name: statistics.median(ms[name]) for name in ms}
    print(f"\n{'pipeline':<9} {'median ms':>10} {'min..max ms':>13} {'CPU ms':>7} "
          f"{'median KB':>10} {'median SSIM':>12} {'min SSIM':>9} {'peak MB':>8}")
    for name in ms:
        print(f"{name:<9} {med[name]:>10.1f} {min(ms[name]):>6.0f}..{max(ms[name]):<5.0f} "
              f"{statistics.median(cpu[name]):>7.1f} {statistics.median(kb[name]):>10.1f} "
              f"{statistics.median(sim[name]):>12.4f} {min(sim[name]):>9.4f} {mem[name]:>8.1f}")
    print("\nSSIM: mean of the 11x11 Gaussian (sigma 1.5) SSIM map on luma, against a full decode "
          "resized with LANCZOS and kept uncompressed.")
    print(f"peak MB: one job on the largest photo ({input_kb:.0f} KB, already in memory) in a "
          "fresh process per pipeline, after a warm-up on a small photo; the rise of VmHWM over "
          "VmRSS once /proc/self/clear_refs has reset the high-water mark, so C allocations "
          "(Pillow, libjpeg, libvips) count.")
    speedup, vs_vips = med["naive"] / med["project"], med["project"] / med["vips"]
    size, quality = statistics.median(kb["project"]), statistics.median(sim["project"])
    checks = {
        f"project {speedup:.2f}x faster than naive (>= {TARGET_SPEEDUP_NAIVE})":
            speedup >= TARGET_SPEEDUP_NAIVE,
        f"project {vs_vips:.2f}x libvips' time (<= {TARGET_VS_VIPS})": vs_vips <= TARGET_VS_VIPS,
        f"median copy {size:.0f} KB (< {TARGET_KB})": size < TARGET_KB,
        f"median SSIM {quality:.4f} (>= {TARGET_SSIM})": quality >= TARGET_SSIM,
        f"peak {mem['project']:.1f} MB a job (< {TARGET_MB})": mem["project"] < TARGET_MB,
    }
    print()
    for label, ok in checks.items():
        print(f"  {'ok  ' if ok else 'MISS'} {label}")
    verdict = "PASS" if all(checks.values()) else "FAIL"
    print(f"images: {verdict} project {med['project']:.0f}ms naive {med['naive']:.0f}ms "
          f"({speedup:.1f}x) vips {med['vips']:.0f}ms ({vs_vips:.2f}x) {size:.0f}KB "
          f"ssim {quality:.2f} mem {mem['project']:.0f}MB")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--memory"]:
        memory_child(sys.argv[2], sys.argv[3])
    else:
        sys.exit(main())
