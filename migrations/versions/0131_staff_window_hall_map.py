"""staff home and halls on a phone: a clerk's remembered window, a hall's map link, a window
closed for the day

Revision ID: 0131_staff_window_hall_map
Revises: 0001_initial
Create Date: 2026-12-05 06:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0131_staff_window_hall_map'
down_revision = '0001_initial'  # the tables it changes; each feature is a branch (upgrade heads)
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('window_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_user_window_id_window'), 'window',
                                    ['window_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('hall', schema=None) as batch_op:
        batch_op.add_column(sa.Column('map_url', sa.String(length=300), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('window', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_on', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('window', schema=None) as batch_op:
        batch_op.drop_column('closed_on')
    with op.batch_alter_table('hall', schema=None) as batch_op:
        batch_op.drop_column('map_url')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_user_window_id_window'), type_='foreignkey')
        batch_op.drop_column('window_id')
