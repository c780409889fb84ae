"""Demo data: an example photo (示例图) for each material the demo catalog reads as a document."""

from pathlib import Path

from sqlalchemy import select

from app.catalog.models import Material
from app.extensions import db
from app.reading import examples

EXAMPLES = Path(__file__).resolve().parent.parent / "demo" / "examples"


def load_demo() -> None:
    """Give every document material without an example the sample of its kind (样例 data)."""
    samples = {path.stem: path.read_bytes() for path in EXAMPLES.glob("*.jpg")}
    for material in select_materials():
        data = samples.get(material.document_kind)
        if data and not material.example_key:
            examples.replace(material, data)


def select_materials() -> list[Material]:
    return db.session.scalars(select(Material).where(Material.document_kind.is_not(None),
                                                     Material.retired_at.is_(None))).all()
