"""jobs: the outbox row owns its job: the RQ job carrying it, and a daily job's day

Revision ID: 0117_outbox_one_owner
Revises: 0001_initial
Create Date: 2026-12-04 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0117_outbox_one_owner'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carrier', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('key', sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_job_key'), ['key'])


def downgrade():
    with op.batch_alter_table('outbox_job', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_outbox_job_key'), type_='unique')
        batch_op.drop_column('key')
        batch_op.drop_column('carrier')
