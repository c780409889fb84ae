"""Every feature's tables, jobs and demo rows, imported by name.

A feature is a package under app/ with a blueprint `bp` in its __init__ (registered by name in
create_app, app/__init__.py) and, optionally, `models.py`, `jobs.py` and `demo.py`, imported here:
the models so that Alembic sees the whole schema, the jobs so that the worker knows them all, the
demo modules for `flask load-demo`. Adding a feature is adding its lines here and in create_app.
"""

from app import jobs as outbox  # the outbox table
from app.applications import jobs as applications_jobs
from app.applications import models as applications_models
from app.auth import models as auth_models
from app.booking import demo as booking_demo
from app.booking import jobs as booking_jobs
from app.booking import models as booking_models
from app.catalog import models as catalog_models
from app.core import links, workdays
from app.core import models as core_models
from app.feedback import demo as feedback_demo
from app.feedback import models as feedback_models
from app.help import demo as help_demo
from app.help import models as help_models
from app.licences import demo as licences_demo
from app.licences import models as licences_models
from app.progress import jobs as progress_jobs
from app.progress import models as progress_models
from app.ratings import demo as ratings_demo
from app.ratings import jobs as ratings_jobs
from app.ratings import models as ratings_models
from app.reading import demo as reading_demo
from app.reading import jobs as reading_jobs
from app.reading import models as reading_models
from app.sms import demo as sms_demo
from app.sms import jobs as sms_jobs
from app.sms import models as sms_models
from app.sso import models as sso_models

MODELS = (outbox, links, workdays, core_models, auth_models, catalog_models, sms_models,
          booking_models, applications_models, progress_models, ratings_models, help_models,
          feedback_models, sso_models, reading_models, licences_models)

JOBS = (sms_jobs, booking_jobs, applications_jobs, progress_jobs, ratings_jobs, reading_jobs)

DEMO = (sms_demo, booking_demo, ratings_demo, help_demo, feedback_demo, reading_demo,
        licences_demo)  # in this order: bookings before their ratings
