"""一次性告知单 as a PNG: inside WeChat printing does nothing, but a picture can be long-pressed and
saved to the phone's album. Drawn by the server with Pillow and a CJK font installed with the
system (fonts-wqy-microhei), so nothing is fetched at run time."""

import io
from datetime import datetime
from functools import cache

import segno
from PIL import Image, ImageDraw, ImageFont

from app.core.timeutil import format_local
from app.licences.types import TYPES

WIDTH, MARGIN = 750, 40  # a phone screen at 2x
INK, MUTED, RULE, ACCENT = (26, 26, 26), (85, 85, 85), (216, 220, 228), (31, 95, 191)


class FontMissing(RuntimeError):
    """The CJK font named by CJK_FONT is not installed."""


@cache
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(path, size)
    except OSError as exc:
        raise FontMissing(path) from exc


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    """Break Chinese text by width, character by character (it has no spaces to break at)."""
    lines, line = [], ""
    for ch in text:
        if draw.textlength(line + ch, font=font) > width:
            lines.append(line)
            line = ch
        else:
            line += ch
    return lines + [line] if line else lines or [""]


def _licence_mark(m) -> str:
    """免提交, in the words of the printable checklist: the picture is the same 一次告知单."""
    kind = TYPES.get(m.licence_type or "")
    return f" · 有{kind.name}电子证照的可免提交" if kind else ""


def blocks(title, items, materials, departments, today) -> list[tuple[str, str, int]]:
    """What the picture says, top to bottom: (text, style, indent), kept apart from the drawing
    so that its words can be checked against the printable checklist without reading pixels."""
    out = [("一次性告知单", "muted", 0), (title, "title", 0)]
    who = "、".join(departments) if departments else (items[0].department if items else "")
    if who:
        out.append((f"参与部门:{who}" if departments else who, "muted", 0))
    out.append((f"请带齐以下材料(共 {len(materials)} 项)", "heading", 0))
    for n, m in enumerate(materials, 1):
        out.append((f"{n}. {m.name}", "body", 0))
        meta = m.form_label + (" · 可容缺" if m.may_be_missing else "") + (
            "" if m.photo_ok else " · 需现场提交") + _licence_mark(m)
        out.append((meta, "muted", 1))
        out.extend((note, "muted", 1) for note in m.notes)
    if not materials:
        out.append(("无需提交材料。", "body", 0))
    out.append(("时限与地点", "heading", 0))
    for item in items:
        out.append((f"{item.name}:承诺 {item.promised_days} 个工作日(法定 {item.legal_days} 个"
                    f"工作日),{item.fee}" + (f",咨询 {item.phone}" if item.phone else ""),
                    "body", 0))
    seen = set()
    for item in items:
        for hall in item.halls:
            if hall.id not in seen:
                seen.add(hall.id)
                out.append((f"{hall.name}:{hall.address};{hall.hours}", "body", 0))
    out.append((f"依据“一次性告知”制度,以上为办理所需的全部材料。告知日期:"
                f"{format_local(today, '%Y年%m月%d日')}", "muted", 0))
    return out


STYLES = {"title": (40, INK, 16), "heading": (32, ACCENT, 24), "body": (30, INK, 8),
          "muted": (26, MUTED, 6)}


def render_png(font_path: str, *, title: str, items: list, materials: list,
               departments: list[str] | None, guide_url: str, today: datetime) -> bytes:
    """The checklist drawn as one tall PNG, with the QR code of its guide at the foot."""
    scratch = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    laid: list[tuple[str, ImageFont.FreeTypeFont, tuple, int, int]] = []
    y = MARGIN
    for text, style, indent in blocks(title, items, materials, departments, today):
        size, colour, gap = STYLES[style]
        font = _font(font_path, size)
        x = MARGIN + indent * 36
        y += gap if style in ("heading", "title") else 0
        for line in _wrap(scratch, text, font, WIDTH - MARGIN - x):
            laid.append((line, font, colour, x, y))
            y += int(size * 1.5)
        y += gap if style not in ("heading", "title") else 4
    qr = segno.make(guide_url, error="m", micro=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=6, border=2)
    qr_image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    y += 24
    qr_top = y
    y += qr_image.height + 16
    caption = "用手机扫码,打开办事指南"
    height = y + 40 + MARGIN
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    for line, font, colour, x, top in laid:
        draw.text((x, top), line, font=font, fill=colour)
    draw.line((MARGIN, qr_top - 12, WIDTH - MARGIN, qr_top - 12), fill=RULE, width=2)
    image.paste(qr_image, ((WIDTH - qr_image.width) // 2, qr_top))
    small = _font(font_path, 26)
    draw.text(((WIDTH - draw.textlength(caption, font=small)) // 2, y), caption, font=small,
              fill=MUTED)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
