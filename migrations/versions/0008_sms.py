"""sms: quiet-hours hold, claim time, retry schedule, resends, receipt bookkeeping

Revision ID: 0008_sms
Revises: 0001_initial
Create Date: 2026-11-23 07:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_sms'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_after', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('sending_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('claim_job_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('send_job_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('next_retry_at', sa.DateTime(), nullable=True))
        # Existing rows get 0; new rows get the model's default.
        batch_op.add_column(sa.Column('retries', sa.Integer(), nullable=False,
                                      server_default=sa.text('0')))
        batch_op.add_column(sa.Column('resends', sa.Integer(), nullable=False,
                                      server_default=sa.text('0')))
        batch_op.add_column(sa.Column('error_code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('receipt_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_sms_message_provider_id', ['provider_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.drop_index('ix_sms_message_provider_id')
        batch_op.drop_column('receipt_at')
        batch_op.drop_column('error_code')
        batch_op.drop_column('resends')
        batch_op.drop_column('retries')
        batch_op.drop_column('next_retry_at')
        batch_op.drop_column('send_job_id')
        batch_op.drop_column('claim_job_id')
        batch_op.drop_column('sending_at')
        batch_op.drop_column('send_after')
