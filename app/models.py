"""Import every model so Alembic and create_all see the whole schema."""

from app.auth.models import SmsCode, User  # noqa: F401
from app.catalog.models import Bundle, BundleItem, Hall, Material, ServiceItem, Window  # noqa: F401
from app.core.models import AuditLog  # noqa: F401
from app.jobs import OutboxJob  # noqa: F401
from app.sms.models import SmsMessage  # noqa: F401
