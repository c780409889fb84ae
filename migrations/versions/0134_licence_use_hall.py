"""licences: 用证记录 by hall, newest first (the staff's page of a hall's licence uses)

Revision ID: 0134_licence_use_hall
Revises: 0130_licences
Create Date: 2026-12-06 02:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0134_licence_use_hall'
down_revision = '0130_licences'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_licence_use_hall', 'licence_use', ['hall_id', 'created_at'])


def downgrade():
    op.drop_index('ix_licence_use_hall', table_name='licence_use')
