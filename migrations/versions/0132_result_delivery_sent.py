"""progress: courier delivery sent (寄出) with company and tracking number, and the matter's hall;
push-only notices (the queue's 前面还有 N 人) recorded per subscription like pushed SMS

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
    with op.batch_alter_table('push_sent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice', sa.String(length=80), nullable=True))
        batch_op.alter_column('message_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_unique_constraint('uq_push_sent_notice_subscription',
                                          ['notice', 'subscription_id'])


def downgrade():
    op.execute("DELETE FROM push_sent WHERE message_id IS NULL")
    with op.batch_alter_table('push_sent', schema=None) as batch_op:
        batch_op.drop_constraint('uq_push_sent_notice_subscription', type_='unique')
        batch_op.alter_column('message_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('notice')
    with op.batch_alter_table('result_delivery', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_result_delivery_sent_by_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_result_delivery_hall_id_hall'), type_='foreignkey')
        batch_op.drop_index('ix_result_delivery_hall_id')
        batch_op.drop_column('sent_by')
        batch_op.drop_column('sent_at')
        batch_op.drop_column('tracking_no')
        batch_op.drop_column('courier')
        batch_op.drop_column('hall_id')
