"""progress: courier delivery sent (寄出) with company and tracking number, and the matter's hall

Revision ID: 0132_result_delivery_sent
Revises: 0001_initial
Create Date: 2026-12-05 06:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0132_result_delivery_sent'
down_revision = '0001_initial'
branch_labels = None
depends_on = ('0006_progress',)


def upgrade():
    with op.batch_alter_table('result_delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hall_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('courier', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('tracking_no', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('sent_by', sa.Integer(), nullable=True))
        batch_op.create_index('ix_result_delivery_hall_id', ['hall_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_result_delivery_hall_id_hall'),
                                    'hall', ['hall_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_result_delivery_sent_by_user'),
                                    'user', ['sent_by'], ['id'])


def downgrade():
    with op.batch_alter_table('result_delivery', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_result_delivery_sent_by_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_result_delivery_hall_id_hall'), type_='foreignkey')
        batch_op.drop_index('ix_result_delivery_hall_id')
        batch_op.drop_column('sent_by')
        batch_op.drop_column('sent_at')
        batch_op.drop_column('tracking_no')
        batch_op.drop_column('courier')
        batch_op.drop_column('hall_id')
