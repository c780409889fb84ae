"""help: assisted handling (帮办代办) requests, home-visit areas, actions on a citizen's behalf

Revision ID: 0010_help
Revises: 0001_initial
Create Date: 2026-11-23 11:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_help'
down_revision = '0001_initial'
branch_labels = None
depends_on = ('0003_catalog', '0004_booking', '0005_applications')


def upgrade():
    op.create_table('help_area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_help_area_hall_id_hall'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_help_area')),
    sa.UniqueConstraint('hall_id', 'name', name='uq_help_area_hall_name')
    )
    op.create_table('help_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=True),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('contact_name', sa.String(length=40), nullable=False),
    sa.Column('contact_phone', sa.String(length=11), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('details', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('helper_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(), nullable=True),
    sa.Column('feedback', sa.Text(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['help_area.id'], name=op.f('fk_help_request_area_id_help_area'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['citizen_id'], ['user.id'], name=op.f('fk_help_request_citizen_id_user')),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_help_request_hall_id_hall')),
    sa.ForeignKeyConstraint(['helper_id'], ['user.id'], name=op.f('fk_help_request_helper_id_user')),
    sa.ForeignKeyConstraint(['item_id'], ['service_item.id'], name=op.f('fk_help_request_item_id_service_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_help_request')),
    sa.UniqueConstraint('number', name=op.f('uq_help_request_number'))
    )
    with op.batch_alter_table('help_request', schema=None) as batch_op:
        batch_op.create_index('ix_help_request_citizen', ['citizen_id', 'created_at'], unique=False)
        batch_op.create_index('ix_help_request_hall_status', ['hall_id', 'status'], unique=False)

    op.create_table('on_behalf',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=True),
    sa.Column('idem_key', sa.String(length=40), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_on_behalf_application_id_application')),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_on_behalf_booking_id_booking')),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], name=op.f('fk_on_behalf_created_by_user')),
    sa.ForeignKeyConstraint(['item_id'], ['service_item.id'], name=op.f('fk_on_behalf_item_id_service_item')),
    sa.ForeignKeyConstraint(['request_id'], ['help_request.id'], name=op.f('fk_on_behalf_request_id_help_request')),
    sa.ForeignKeyConstraint(['slot_id'], ['slot.id'], name=op.f('fk_on_behalf_slot_id_slot')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_on_behalf'))
    )
    with op.batch_alter_table('on_behalf', schema=None) as batch_op:
        batch_op.create_index('ix_on_behalf_request', ['request_id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('on_behalf', schema=None) as batch_op:
        batch_op.drop_index('ix_on_behalf_request')
    op.drop_table('on_behalf')
    with op.batch_alter_table('help_request', schema=None) as batch_op:
        batch_op.drop_index('ix_help_request_hall_status')
        batch_op.drop_index('ix_help_request_citizen')
    op.drop_table('help_request')
    op.drop_table('help_area')
