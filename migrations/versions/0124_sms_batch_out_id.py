"""sms: the OutId of the batch call that carried a message, so a retry can ask whether it went

Revision ID: 0124_sms_batch_out_id
Revises: 0008_sms
Create Date: 2026-12-05 01:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0124_sms_batch_out_id'
down_revision = '0008_sms'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch_out_id', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_sms_message_batch_out_id', ['batch_out_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.drop_index('ix_sms_message_batch_out_id')
        batch_op.drop_column('batch_out_id')
