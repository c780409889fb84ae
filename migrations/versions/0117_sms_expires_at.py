"""sms: a code's end of life on its message, after which it is never sent

Revision ID: 0117_sms_expires_at
Revises: 0008_sms
Create Date: 2026-12-04 18:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0117_sms_expires_at'
down_revision = '0008_sms'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
