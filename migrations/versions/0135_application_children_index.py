"""applications: an application's materials and a material's photos found by index, not by
reading every row (every page of an application reads them, issue 19)

Revision ID: 0135_application_children_index
Revises: 0005_applications
Create Date: 2026-12-07 01:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0135_application_children_index'
down_revision = '0005_applications'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_app_material_application_id', 'app_material', ['application_id'])
    op.create_index('ix_upload_material_id', 'upload', ['material_id'])


def downgrade():
    op.drop_index('ix_upload_material_id', table_name='upload')
    op.drop_index('ix_app_material_application_id', table_name='app_material')
