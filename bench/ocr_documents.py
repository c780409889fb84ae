"""Document photos drawn with the CJK font, for bench/ocr.py and the reading tests.

ID cards (front and back), business licences, 户口簿 pages, wrong documents and blank pages,
with random people and companies whose numbers pass their checks; `photograph()` then does to a
page what a phone does: a desk around it, tilt, perspective, blur, dim light, noise and JPEG.
"""

import io
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from app.applications.idcard import check_digit
from app.reading.codes import CREDIT_CHARS, credit_check_char

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
            "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
            "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ("建国华明伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛超斌霞平刚桂兰玉萍红梅鹏飞宇浩然子轩欣"
         "怡雨婷志文博海燕晓东云峰振宏立新春生德胜永福金凤淑珍玉兰小龙俊杰佳琪思远嘉豪雅琴"
         "丹阳凯亮")
REGIONS = ["152201", "152202", "150102", "150203", "110105", "110108", "130102", "210102",
           "220102", "230103", "320102", "330106", "370102", "410105", "440106", "510107"]
PLACES = ["内蒙古自治区乌兰浩特市兴安北大路", "内蒙古自治区乌兰浩特市五一南路",
          "内蒙古自治区阿尔山市", "内蒙古自治区科尔沁右翼前旗", "北京市朝阳区建国路",
          "河北省石家庄市长安区中山东路", "辽宁省沈阳市和平区南京北街",
          "吉林省长春市朝阳区人民大街", "黑龙江省哈尔滨市南岗区西大直街"]
ORG_WORDS = "兴安盛达恒通宏远鑫源华泰金诚博创天成佳和瑞丰"
TRADES = ["商贸", "科技", "建筑工程", "农牧业", "餐饮管理", "物流", "文化传媒", "汽车服务"]
ORG_TYPES = ["有限责任公司(自然人独资)", "有限责任公司(自然人投资或控股)", "个人独资企业"]
NATIONS = ["汉", "蒙古", "满", "回", "朝鲜"]
PAPER = (246, 244, 238)
INK = (24, 24, 28)
LABEL_INK = (60, 90, 140)


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(CJK_FONT), size)


def id_number(rng: random.Random) -> str:
    """A number that passes GB 11643: a real region, a birth date, a sequence, the check."""
    born = f"{rng.randint(1950, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first = rng.choice(REGIONS) + born + f"{rng.randint(0, 999):03d}"
    return first + check_digit(first)


def credit_code(rng: random.Random) -> str:
    """A 统一社会信用代码 that passes GB 32100: 91 (company), a region, a code, the check."""
    body = "".join(rng.choice(CREDIT_CHARS) for _ in range(9))
    first = "91" + rng.choice(REGIONS) + body
    return first + credit_check_char(first)


def person_name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2, 2])))
    return rng.choice(SURNAMES) + given


def company_name(rng: random.Random) -> str:
    words = "".join(rng.sample(ORG_WORDS, 2))
    return f"兴安盟{words}{rng.choice(TRADES)}有限公司"


@dataclass
class Document:
    """A drawn page and what is printed on it."""

    kind: str | None  # id_card, business_licence, household_register, or None (another paper)
    image: Image.Image
    fields: dict = field(default_factory=dict)
    side: str = "front"


def _background(size, rng, tint=(232, 238, 242)) -> Image.Image:
    image = Image.new("RGB", size, tint)
    draw = ImageDraw.Draw(image)
    for _ in range(40):  # the guilloche-like pattern of a card
        x, y = rng.randint(0, size[0]), rng.randint(0, size[1])
        r = rng.randint(40, 200)
        draw.ellipse([x - r, y - r, x + r, y + r], outline=tuple(c - 10 for c in tint))
    return image


def id_card_front(rng: random.Random, name: str | None = None, number: str | None = None
                  ) -> Document:
    name, number = name or person_name(rng), number or id_number(rng)
    image = _background((856, 540), rng)
    draw = ImageDraw.Draw(image)
    small, big = font(22), font(30)
    sex = "男" if int(number[16]) % 2 else "女"
    draw.text((50, 50), "姓名", font=small, fill=LABEL_INK)
    draw.text((130, 44), name, font=big, fill=INK)
    draw.text((50, 112), "性别", font=small, fill=LABEL_INK)
    draw.text((130, 106), sex, font=big, fill=INK)
    draw.text((230, 112), "民族", font=small, fill=LABEL_INK)
    draw.text((310, 106), rng.choice(NATIONS), font=big, fill=INK)
    draw.text((50, 174), "出生", font=small, fill=LABEL_INK)
    draw.text((130, 168), f"{number[6:10]}  年  {int(number[10:12])}  月  {int(number[12:14])}  日",
              font=big, fill=INK)
    draw.text((50, 236), "住址", font=small, fill=LABEL_INK)
    address = rng.choice(PLACES) + f"{rng.randint(1, 300)}号"
    draw.text((130, 230), address[:14], font=big, fill=INK)
    draw.text((130, 274), address[14:], font=big, fill=INK)
    draw.text((50, 440), "公民身份号码", font=small, fill=LABEL_INK)
    draw.text((250, 432), number, font=font(34), fill=INK)
    draw.rectangle([600, 60, 800, 320], fill=(200, 205, 210))  # the portrait
    return Document("id_card", image, {"name": name, "id_number": number})


def id_card_back(rng: random.Random) -> Document:
    image = _background((856, 540), rng)
    draw = ImageDraw.Draw(image)
    draw.ellipse([60, 40, 200, 180], outline=(200, 60, 60), width=6)  # the national emblem
    draw.text((290, 60), "中华人民共和国", font=font(44), fill=INK)
    draw.text((300, 140), "居民身份证", font=font(56), fill=INK)
    draw.text((150, 360), "签发机关", font=font(22), fill=LABEL_INK)
    draw.text((300, 354), "乌兰浩特市公安局", font=font(30), fill=INK)
    year = rng.randint(2012, 2024)
    draw.text((150, 430), "有效期限", font=font(22), fill=LABEL_INK)
    draw.text((300, 424), f"{year}.05.17-{year + 20}.05.17", font=font(30), fill=INK)
    return Document("id_card", image, {}, side="back")


def business_licence(rng: random.Random, name: str | None = None, code: str | None = None
                     ) -> Document:
    name, code = name or company_name(rng), code or credit_code(rng)
    image = Image.new("RGB", (1600, 1130), (250, 246, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle([20, 20, 1580, 1110], outline=(190, 150, 80), width=14)
    draw.text((80, 90), "统一社会信用代码", font=font(26), fill=INK)
    draw.text((80, 130), code, font=font(32), fill=INK)
    draw.text((620, 110), "营 业 执 照", font=font(84), fill=INK)
    rows = [("名称", name), ("类型", rng.choice(ORG_TYPES)), ("法定代表人", person_name(rng)),
            ("经营范围", "许可项目:" + rng.choice(TRADES) + "服务。")]
    for n, (label, value) in enumerate(rows):
        y = 330 + n * 90
        draw.text((120, y), label, font=font(30), fill=INK)
        draw.text((330, y), value, font=font(30), fill=INK)
    founded = f"{rng.randint(2005, 2024)}年{rng.randint(1, 12):02d}月{rng.randint(1, 28):02d}日"
    side = [("注册资本", f"{rng.choice([50, 100, 200, 500])}万(元)"), ("成立日期", founded),
            ("住所", rng.choice(PLACES)[:12] + f"{rng.randint(1, 300)}号")]
    for n, (label, value) in enumerate(side):
        y = 690 + n * 80
        draw.text((120, y), label, font=font(30), fill=INK)
        draw.text((330, y), value, font=font(30), fill=INK)
    draw.text((1050, 960), "登记机关", font=font(30), fill=INK)
    draw.ellipse([1200, 860, 1420, 1080], outline=(210, 40, 40), width=8)  # the seal
    return Document("business_licence", image, {"company_name": name, "credit_code": code})


def household_page(rng: random.Random, name: str | None = None, number: str | None = None
                   ) -> Document:
    name, number = name or person_name(rng), number or id_number(rng)
    image = Image.new("RGB", (1130, 1600), (248, 240, 236))
    draw = ImageDraw.Draw(image)
    draw.text((330, 60), "常住人口登记卡", font=font(52), fill=INK)
    cells = [("姓名", name, "户主或与户主关系", "户主"), ("曾用名", "", "性别",
                                                   "男" if int(number[16]) % 2 else "女"),
             ("出生地", rng.choice(PLACES)[:9], "民族", rng.choice(NATIONS)),
             ("籍贯", rng.choice(PLACES)[:6], "出生日期",
              f"{number[6:10]}年{int(number[10:12])}月{int(number[12:14])}日"),
             ("宗教信仰", "无", "公民身份号码", number),
             ("文化程度", "大学", "婚姻状况", "已婚"), ("兵役状况", "未服兵役", "服务处所", "")]
    # A real 常住人口登记卡 is a small page (about 10 by 14 cm) with 3.5 mm type: text about a
    # fortieth of the page's height, as here.
    for n, (l1, v1, l2, v2) in enumerate(cells):
        y = 180 + n * 120
        draw.rectangle([40, y, 1090, y + 120], outline=(120, 60, 60), width=2)
        draw.line([(540, y), (540, y + 120)], fill=(120, 60, 60), width=2)
        draw.text((56, y + 42), l1, font=font(30), fill=INK)
        draw.text((200, y + 38), v1, font=font(36), fill=INK)
        draw.text((556, y + 44), l2, font=font(24 if len(l2) > 6 else 30), fill=INK)
        long = len(v2) > 12  # the ID number: smaller, right after its label
        draw.text((745 if long else 790, y + (44 if long else 38)), v2,
                  font=font(28 if long else 36), fill=INK)
    return Document("household_register", image, {"name": name, "id_number": number})


WRONG_TITLES = ["变更登记申请书", "股东会决议", "房屋租赁合同", "在职证明", "承诺书"]
WRONG_LINES = ["兹有我单位职工在我单位工作,特此证明。", "甲乙双方经协商一致,签订本合同。",
               "经股东会讨论,一致同意变更公司住所。", "本人承诺以上信息真实有效。",
               "租赁期限自二〇二五年一月一日起至二〇二六年十二月三十一日止。",
               "如有虚假,愿承担相应法律责任。", "请各位股东于会后签字确认。"]


def other_paper(rng: random.Random) -> Document:
    """A page that is no ID card, licence or 户口簿: a letter, a resolution, a contract."""
    image = Image.new("RGB", (1130, 1600), PAPER)
    draw = ImageDraw.Draw(image)
    draw.text((300, 100), rng.choice(WRONG_TITLES), font=font(56), fill=INK)
    for n in range(10):
        draw.text((100, 260 + n * 100), rng.choice(WRONG_LINES), font=font(34), fill=INK)
    return Document(None, image)


def bank_card(rng: random.Random) -> Document:
    """A card that is not an ID card: a bank card with its number."""
    image = _background((856, 540), rng, tint=(70, 110, 160))
    draw = ImageDraw.Draw(image)
    draw.text((50, 50), "中国工商银行", font=font(40), fill=(250, 250, 250))
    draw.text((50, 120), "借记卡 DEBIT", font=font(28), fill=(250, 250, 250))
    number = " ".join(f"{rng.randint(0, 9999):04d}" for _ in range(4))
    draw.text((60, 300), "6222 " + number[5:], font=font(44), fill=(250, 250, 250))
    return Document(None, image)


def blank_page(rng: random.Random) -> Document:
    tone = rng.randint(225, 250)
    return Document(None, Image.new("RGB", (1130, 1600), (tone, tone, tone - 4)))


@dataclass
class Shot:
    """How a phone took the photo."""

    tilt: float = 0.0  # degrees
    skew: float = 0.0  # perspective: 0 flat, 0.08 strong
    blur: float = 0.0  # Gaussian radius at 2000 px
    light: float = 1.0  # 1 full, 0.3 dim
    quality: int = 85
    fill: float = 0.75  # the page's share of the frame's width
    noise: float = 4.0


def random_shot(rng: random.Random, hard: bool = False) -> Shot:
    """A photo a citizen takes: anywhere from good to poor but legible, or (hard) too dark or
    too blurred for anyone to read."""
    shot = Shot(tilt=rng.uniform(-8, 8), skew=rng.uniform(0, 0.07), blur=rng.uniform(0, 2.2),
                light=rng.uniform(0.45, 1.0), quality=rng.randint(50, 90),
                fill=rng.uniform(0.55, 0.92), noise=rng.uniform(2, 8))
    if hard:
        if rng.random() < 0.5:
            shot.blur = rng.uniform(9, 14)
        else:
            shot.light = rng.uniform(0.04, 0.08)
    return shot


def _perspective(image: Image.Image, skew: float, rng: random.Random) -> Image.Image:
    """The page seen a little from one side: each corner pulled in by up to `skew` of the size;
    what falls outside the page stays transparent."""
    w, h = image.size
    seen = [(rng.uniform(0, skew) * w, rng.uniform(0, skew) * h),
            (w - rng.uniform(0, skew) * w, rng.uniform(0, skew) * h),
            (w - rng.uniform(0, skew) * w, h - rng.uniform(0, skew) * h),
            (rng.uniform(0, skew) * w, h - rng.uniform(0, skew) * h)]
    page = [(0, 0), (w, 0), (w, h), (0, h)]
    matrix = []
    for (x, y), (u, v) in zip(seen, page, strict=True):  # output point -> page point
        matrix.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        matrix.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    coefficients = _solve(matrix, [c for corner in page for c in corner])
    return image.transform((w, h), Image.Transform.PERSPECTIVE, coefficients,
                           Image.Resampling.BICUBIC, fillcolor=(0, 0, 0, 0))


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination for the 8 perspective coefficients (no numpy needed)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col and m[col][col]:
                f = m[r][col] / m[col][col]
                m[r] = [x - f * y for x, y in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def photograph(doc: Document, shot: Shot, rng: random.Random, edge: int = 2000) -> bytes:
    """The JPEG a phone sends after our page's downscale: about `edge` px on the long side."""
    page = doc.image.convert("RGBA")
    if shot.skew:
        page = _perspective(page, shot.skew, rng)
    page = page.rotate(shot.tilt, resample=Image.Resampling.BICUBIC, expand=True)
    landscape = doc.image.width > doc.image.height
    frame = (edge, int(edge * 0.75)) if landscape else (int(edge * 0.75), edge)
    desk = Image.new("RGB", frame, (rng.randint(90, 150), rng.randint(70, 120),
                                    rng.randint(50, 90)))
    scale = shot.fill * frame[0] / page.width
    page = page.resize((int(page.width * scale), int(page.height * scale)),
                       Image.Resampling.LANCZOS)
    if page.height > frame[1] * 0.95:  # keep the page inside the frame
        ratio = frame[1] * 0.95 / page.height
        page = page.resize((int(page.width * ratio), int(page.height * ratio)),
                           Image.Resampling.LANCZOS)
    x = (frame[0] - page.width) // 2 + rng.randint(-20, 20)
    y = (frame[1] - page.height) // 2 + rng.randint(-20, 20)
    desk.paste(page, (max(0, x), max(0, y)), page)
    photo = desk
    if shot.blur:
        photo = photo.filter(ImageFilter.GaussianBlur(shot.blur))
    if shot.light != 1.0:
        photo = ImageEnhance.Brightness(photo).enhance(shot.light)
    if shot.noise:
        noise = Image.effect_noise(photo.size, shot.noise * 8).convert("RGB")
        photo = Image.blend(photo, noise, 0.04)
    buf = io.BytesIO()
    photo.save(buf, "JPEG", quality=shot.quality)
    return buf.getvalue()


def angle_text(degrees: float) -> str:
    return f"{degrees:+.1f}°" if not math.isnan(degrees) else "?"
