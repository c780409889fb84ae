"""A hall whose item asks for the applicant's ID card (read as a document) and a form page."""

import io
import random

import pytest
from applications.conftest import World
from html_kit import one

from app.extensions import db
from app.reading import background
from bench.ocr_documents import Shot, id_card_front, photograph

ID = "15220119850312002X"  # what the applicant types (the 152201********002X)
OTHER = "11010519491231002X"
NAME = "张建国"


def id_photo(number: str = ID, name: str = NAME, seed: int = 1, **shot) -> bytes:
    """A phone photo of an ID card front, clean enough for the engine to read."""
    rng = random.Random(seed)
    options = {"tilt": 3.0, "skew": 0.02, "blur": 0.5, "light": 0.9, "fill": 0.8} | shot
    return photograph(id_card_front(rng, name=name, number=number), Shot(**options), rng)


class ReadingWorld(World):
    """The applications tests' world, with its ID material read as a 居民身份证."""

    def __init__(self, client, auth, run_jobs):
        super().__init__(client, auth, run_jobs)
        self.item.materials[1].document_kind = "id_card"
        db.session.commit()

    def draft(self, phone="13800138000", id_number=ID, name=NAME):
        row = super().draft(phone)
        response = self.client.post(f"/applications/{row.id}/applicant", data={
            "name": name, "id_number": id_number, "phone": phone})
        assert response.status_code == 303
        db.session.refresh(row)
        return row

    def settle(self):
        """Every queued job done: the worker's (Redis), or the reading thread's (inline)."""
        self.run_jobs()
        background.wait()
        self.run_jobs()
        background.wait()

    def upload_id(self, row, data: bytes, **form):
        material = row.materials[1]
        response = self.client.post(
            f"/applications/{row.id}/materials/{material.id}/photos",
            data={"photo": (io.BytesIO(data), "id.jpg"), **form},
            content_type="multipart/form-data", headers={"HX-Request": "true"})
        assert response.status_code == 200, response.get_data(as_text=True)
        self.settle()
        return response

    def card(self, row) -> str:
        """The ID material's card as the status poll finally shows it (its HTML, so a check
        for a number covers attributes too)."""
        page = self.client.get(f"/applications/{row.id}/materials").get_data(as_text=True)
        return str(one(page, f"section.app-material#material-{row.materials[1].id}"))


@pytest.fixture
def world(client, auth, run_jobs):
    return ReadingWorld(client, auth, run_jobs)
