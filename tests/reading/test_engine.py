"""The real engine on drawn documents: models from the wheel, loaded once per process."""

import random

from app.reading import engine, extract
from app.uploads.imaging import compress
from bench.ocr_documents import Shot, business_licence, id_card_front, photograph


def test_the_engine_is_loaded_once_and_reads_an_id_card_photo():
    rng = random.Random(20)
    card = id_card_front(rng, name="张建国", number="15220119850312002X")
    data = compress(photograph(card, Shot(tilt=5, skew=0.03, blur=0.8, light=0.8), rng))
    first = engine.engine()
    reading = extract.read(engine.read_lines(data.image_bytes), expected="id_card")
    assert engine.engine() is first and engine.loaded()
    assert reading.kind == "id_card"
    assert reading.fields == {"name": "张建国", "id_number": "15220119850312002X"}


def test_a_licence_photo_gives_its_credit_code():
    rng = random.Random(21)
    licence = business_licence(rng, code="91350100M000100Y43")
    data = compress(photograph(licence, Shot(tilt=-4), rng))
    reading = extract.read(engine.read_lines(data.image_bytes), expected="business_licence")
    assert reading.fields["credit_code"] == "91350100M000100Y43"
    assert reading.fields["company_name"] == licence.fields["company_name"]
