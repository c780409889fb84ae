"""item fields: an item's own questions (申请表字段) and an application's answers to them

Revision ID: 0013_item_fields
Revises: 0001_initial
Create Date: 2026-11-23 12:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_item_fields'
down_revision = '0001_initial'
branch_labels = None
depends_on = ('0003_catalog', '0005_applications')


def upgrade():
    with op.batch_alter_table('service_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('form_fields', sa.JSON(), nullable=True))
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answers', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_column('answers')
    with op.batch_alter_table('service_item', schema=None) as batch_op:
        batch_op.drop_column('form_fields')
