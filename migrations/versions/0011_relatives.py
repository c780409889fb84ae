"""relatives: a family member named on a booking or an application (为家人办)

Revision ID: 0011_relatives
Revises: 0001_initial
Create Date: 2026-11-23 11:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_relatives'
down_revision = '0001_initial'
branch_labels = None
depends_on = ('0004_booking', '0005_applications')

TABLES = ('booking', 'application')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('relative_name', sa.String(length=40), nullable=True))
            batch_op.add_column(sa.Column('relative_relation', sa.String(length=10), nullable=True))
            batch_op.add_column(sa.Column('relative_phone', sa.String(length=11), nullable=True))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('relative_phone')
            batch_op.drop_column('relative_relation')
            batch_op.drop_column('relative_name')
