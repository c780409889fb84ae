"""ops: the request id on each outbox job, so the worker's log lines carry it

Revision ID: 0020_ops_request_id
Revises: 0001_initial
Create Date: 2026-11-23 11:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_ops_request_id'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_job', schema=None) as batch_op:
        batch_op.drop_column('request_id')
