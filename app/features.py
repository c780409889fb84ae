"""Every feature's views, tables, jobs and demo rows, imported by name.

A feature is a package under app/ with a blueprint `bp` in its __init__ (registered by name in
create_app, app/factory.py), views that add themselves to `bp` (routes.py, and for some others),
and optionally `models.py`, `jobs.py` and `demo.py`, all imported here: the views before the
blueprint is registered, the models so that Alembic sees the whole schema, the jobs so that the
worker knows them all, the demo modules for `flask demo load`. The package's __init__ imports
none of its views, so that importing a feature's models never loads its views and services
(and through them half the app). Adding a feature is adding its lines here and in create_app.
"""

from app import jobs as outbox  # the outbox table
from app.applications import jobs as applications_jobs
from app.applications import material_pages as applications_materials
from app.applications import models as applications_models
from app.applications import routes as applications_routes
from app.applications import staff as applications_staff
from app.auth import cli as auth_cli
from app.auth import models as auth_models
from app.auth import routes as auth_routes
from app.booking import admin as booking_admin
from app.booking import cli as booking_cli
from app.booking import demo as booking_demo
from app.booking import jobs as booking_jobs
from app.booking import models as booking_models
from app.booking import routes as booking_routes
from app.booking import staff as booking_staff
from app.catalog import admin as catalog_admin
from app.catalog import admin_bundles as catalog_bundles
from app.catalog import admin_transfer as catalog_transfer
from app.catalog import models as catalog_models
from app.catalog import places as catalog_places
from app.catalog import routes as catalog_routes
from app.catalog import workdays as catalog_workdays
from app.core import links
from app.core import models as core_models
from app.feedback import demo as feedback_demo
from app.feedback import models as feedback_models
from app.feedback import routes as feedback_routes
from app.help import demo as help_demo
from app.help import models as help_models
from app.help import routes as help_routes
from app.licences import demo as licences_demo
from app.licences import models as licences_models
from app.licences import routes as licences_routes
from app.ops import routes as ops_routes
from app.pages import routes as pages_routes
from app.progress import jobs as progress_jobs
from app.progress import models as progress_models
from app.progress import routes as progress_routes
from app.ratings import demo as ratings_demo
from app.ratings import jobs as ratings_jobs
from app.ratings import models as ratings_models
from app.ratings import routes as ratings_routes
from app.ratings import staff as ratings_staff
from app.reading import demo as reading_demo
from app.reading import jobs as reading_jobs
from app.reading import models as reading_models
from app.reading import routes as reading_routes
from app.sms import demo as sms_demo
from app.sms import jobs as sms_jobs
from app.sms import models as sms_models
from app.sms import routes as sms_routes
from app.sso import models as sso_models
from app.sso import routes as sso_routes

VIEWS = (pages_routes, auth_routes, auth_cli, catalog_routes, catalog_admin,
         catalog_bundles, catalog_transfer, catalog_places, sms_routes, booking_routes,
         booking_staff, booking_admin, booking_cli, applications_routes, applications_materials,
         applications_staff, progress_routes, ratings_routes, ratings_staff, help_routes,
         feedback_routes, sso_routes, reading_routes, licences_routes, ops_routes)

MODELS = (outbox, links, core_models, auth_models, catalog_models, catalog_workdays, sms_models,
          booking_models, applications_models, progress_models, ratings_models, help_models,
          feedback_models, sso_models, reading_models, licences_models)

JOBS = (sms_jobs, booking_jobs, applications_jobs, progress_jobs, ratings_jobs, reading_jobs)

DEMO = (sms_demo, booking_demo, ratings_demo, help_demo, feedback_demo, reading_demo,
        licences_demo)  # in this order: bookings before their ratings
