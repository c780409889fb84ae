"""catalog: a revision counter so web workers know when their cached catalog is old

Revision ID: 0003_catalog
Revises: 0001_initial
Create Date: 2026-11-23 07:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_catalog'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('catalog_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_revision'))
    )
    op.execute("INSERT INTO catalog_revision (id, version) VALUES (1, 1)")


def downgrade():
    op.drop_table('catalog_revision')
