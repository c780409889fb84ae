"""The service catalog: halls, windows, service items with their materials, and bundles."""

from datetime import date, datetime

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.timeutil import utcnow
from app.extensions import db

AUDIENCES = {"individual": "个人", "company": "法人"}

item_hall = Table(
    "item_hall", db.metadata,
    Column("item_id", ForeignKey("service_item.id", ondelete="CASCADE"), primary_key=True),
    Column("hall_id", ForeignKey("hall.id", ondelete="CASCADE"), primary_key=True),
)
item_window = Table(
    "item_window", db.metadata,
    Column("item_id", ForeignKey("service_item.id", ondelete="CASCADE"), primary_key=True),
    Column("window_id", ForeignKey("window.id", ondelete="CASCADE"), primary_key=True),
)


class Hall(db.Model):
    """A government service hall (政务服务中心)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    short_name: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40))
    hours: Mapped[str] = mapped_column(String(200))
    area: Mapped[str] = mapped_column(String(80), default="")  # the area it serves
    map_url: Mapped[str] = mapped_column(String(300), default="", server_default="")

    windows: Mapped[list["Window"]] = relationship(back_populates="hall", order_by="Window.code")


class Window(db.Model):
    """A counter in a hall; tickets are numbered per window group."""

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    code: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(80))
    group: Mapped[str] = mapped_column(String(4), default="A")
    closed_on: Mapped[date | None]  # closed for this one local day (暂停服务), open again after

    hall: Mapped[Hall] = relationship(back_populates="windows")
    items: Mapped[list["ServiceItem"]] = relationship(
        secondary=item_window, order_by="ServiceItem.code", back_populates="windows")

    def closed(self, today: date) -> bool:
        return self.closed_on == today


class ServiceItem(db.Model):
    """One service (事项) with everything its guide (办事指南) tells."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    department: Mapped[str] = mapped_column(String(80))
    audience: Mapped[str] = mapped_column(String(12), default="individual")
    topic: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[str] = mapped_column(String(200), default="")
    legal_days: Mapped[int] = mapped_column(default=20)
    promised_days: Mapped[int] = mapped_column(default=5)
    fee: Mapped[str] = mapped_column(String(80), default="不收费")
    visits: Mapped[int] = mapped_column(default=1)
    steps: Mapped[list] = mapped_column(JSON, default=list)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    bookable: Mapped[bool] = mapped_column(default=True)
    prereview: Mapped[bool] = mapped_column(default=True)
    fully_online: Mapped[bool] = mapped_column(default=False)
    courier: Mapped[bool] = mapped_column(default=False)
    # 申请表字段: the item's own questions on the applicant page (see app/catalog/fields.py)
    form_fields: Mapped[list | None] = mapped_column(JSON)
    # 电子证照: the licence type this item issues on 办结 (app/licences/types.py), and for how
    # many years it is valid (None: long-term).
    licence_type: Mapped[str | None] = mapped_column(String(40))
    licence_years: Mapped[int | None]
    views: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]

    materials: Mapped[list["Material"]] = relationship(
        back_populates="item", order_by="Material.position", cascade="all, delete-orphan")
    halls: Mapped[list[Hall]] = relationship(secondary=item_hall, order_by=Hall.id)
    windows: Mapped[list[Window]] = relationship(secondary=item_window, order_by=Window.code,
                                                 back_populates="items")

    @property
    def audience_label(self) -> str:
        return AUDIENCES.get(self.audience, self.audience)

    @property
    def active_materials(self) -> list["Material"]:
        return [m for m in self.materials if m.retired_at is None]


class Material(db.Model):
    """One material an item asks for."""

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"))
    name: Mapped[str] = mapped_column(String(120))
    original: Mapped[bool] = mapped_column(default=True)
    copies: Mapped[int] = mapped_column(default=1)
    notes: Mapped[str] = mapped_column(Text, default="")
    photo_ok: Mapped[bool] = mapped_column(default=True)
    may_be_missing: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    retired_at: Mapped[datetime | None]
    # 智能预审: the document kind the worker reads this material as (app/reading/kinds.yaml),
    # and the example photo (示例图) the upload card shows, compressed, with its thumbnail.
    document_kind: Mapped[str | None] = mapped_column(String(24))
    example_key: Mapped[str | None] = mapped_column(String(40))
    example_thumb_key: Mapped[str | None] = mapped_column(String(40))
    # 免提交: a valid licence of this type stands in for the photo.
    licence_type: Mapped[str | None] = mapped_column(String(40))

    item: Mapped[ServiceItem] = relationship(back_populates="materials")

    @property
    def form_label(self) -> str:
        kind = "原件" if self.original else "复印件"
        return f"{kind} {self.copies} 份"


class Bundle(db.Model):
    """一件事: a theme joining several items into one application."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[str] = mapped_column(String(200), default="")
    audience: Mapped[str] = mapped_column(String(12), default="individual")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]

    entries: Mapped[list["BundleItem"]] = relationship(
        back_populates="bundle", order_by="BundleItem.position", cascade="all, delete-orphan")

    @property
    def items(self) -> list[ServiceItem]:
        return [e.item for e in self.entries]


class BundleItem(db.Model):
    """An item's place in a bundle."""

    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundle.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)

    bundle: Mapped[Bundle] = relationship(back_populates="entries")
    item: Mapped[ServiceItem] = relationship()


class CatalogRevision(db.Model):
    """One row counting catalog changes, so every web worker knows when its cached copy is old."""

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
