"""booking: slot rules, slots (CHECK booked <= capacity), bookings, queue tickets and counters

Revision ID: 0004_booking
Revises: 0001_initial
Create Date: 2026-11-23 07:34:13.512425

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004_booking'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('slot_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('window_group', sa.String(length=4), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start', sa.Time(), nullable=False),
    sa.Column('end', sa.Time(), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('slot_minutes > 0 AND capacity >= 0', name=op.f('ck_slot_rule_positive')),
    sa.CheckConstraint('weekday >= 0 AND weekday <= 6', name=op.f('ck_slot_rule_weekday_range')),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_slot_rule_hall_id_hall')),
    sa.ForeignKeyConstraint(['item_id'], ['service_item.id'], name=op.f('fk_slot_rule_item_id_service_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slot_rule'))
    )
    with op.batch_alter_table('slot_rule', schema=None) as batch_op:
        batch_op.create_index('ix_slot_rule_hall_item', ['hall_id', 'item_id'], unique=False)

    op.create_table('ticket_counter',
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('window_group', sa.String(length=4), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_ticket_counter_hall_id_hall')),
    sa.PrimaryKeyConstraint('hall_id', 'window_group', 'day', name=op.f('pk_ticket_counter'))
    )
    op.create_table('slot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('window_group', sa.String(length=4), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('booked', sa.Integer(), nullable=False),
    sa.CheckConstraint('booked >= 0 AND booked <= capacity', name=op.f('ck_slot_not_overbooked')),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_slot_hall_id_hall')),
    sa.ForeignKeyConstraint(['item_id'], ['service_item.id'], name=op.f('fk_slot_item_id_service_item')),
    sa.ForeignKeyConstraint(['rule_id'], ['slot_rule.id'], name=op.f('fk_slot_rule_id_slot_rule'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slot')),
    sa.UniqueConstraint('hall_id', 'item_id', 'starts_at', name='uq_slot_hall_item_start')
    )
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.create_index('ix_slot_hall_day', ['hall_id', 'day'], unique=False)

    op.create_table('booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=12), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('bundle_id', sa.Integer(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('idem_key', sa.String(length=40), nullable=False),
    sa.Column('changed_from_id', sa.Integer(), nullable=True),
    sa.Column('cancel_reason', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.Column('checked_in_at', sa.DateTime(), nullable=True),
    sa.Column('no_show_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['bundle_id'], ['bundle.id'], name=op.f('fk_booking_bundle_id_bundle')),
    sa.ForeignKeyConstraint(['changed_from_id'], ['booking.id'], name=op.f('fk_booking_changed_from_id_booking')),
    sa.ForeignKeyConstraint(['citizen_id'], ['user.id'], name=op.f('fk_booking_citizen_id_user')),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_booking_hall_id_hall')),
    sa.ForeignKeyConstraint(['item_id'], ['service_item.id'], name=op.f('fk_booking_item_id_service_item')),
    sa.ForeignKeyConstraint(['slot_id'], ['slot.id'], name=op.f('fk_booking_slot_id_slot')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking')),
    sa.UniqueConstraint('citizen_id', 'idem_key', name='uq_booking_citizen_idem'),
    sa.UniqueConstraint('number', name=op.f('uq_booking_number'))
    )
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index('ix_booking_citizen', ['citizen_id', 'created_at'], unique=False)
        batch_op.create_index('ix_booking_hall_day', ['hall_id', 'day'], unique=False)
        batch_op.create_index('uq_booking_active_item_day', ['citizen_id', 'item_id', 'day'], unique=True, sqlite_where=sa.text("status IN ('booked', 'checked_in', 'called')"), postgresql_where=sa.text("status IN ('booked', 'checked_in', 'called')"))

    op.create_table('ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('window_group', sa.String(length=4), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('window_id', sa.Integer(), nullable=True),
    sa.Column('recalls', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('called_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_ticket_booking_id_booking')),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_ticket_hall_id_hall')),
    sa.ForeignKeyConstraint(['item_id'], ['service_item.id'], name=op.f('fk_ticket_item_id_service_item')),
    sa.ForeignKeyConstraint(['window_id'], ['window.id'], name=op.f('fk_ticket_window_id_window')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_ticket_booking_id')),
    sa.UniqueConstraint('hall_id', 'window_group', 'day', 'seq', name='uq_ticket_number')
    )
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_queue', ['hall_id', 'day', 'status'], unique=False)



def downgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_queue')

    op.drop_table('ticket')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('uq_booking_active_item_day', sqlite_where=sa.text("status IN ('booked', 'checked_in', 'called')"), postgresql_where=sa.text("status IN ('booked', 'checked_in', 'called')"))
        batch_op.drop_index('ix_booking_hall_day')
        batch_op.drop_index('ix_booking_citizen')

    op.drop_table('booking')
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.drop_index('ix_slot_hall_day')

    op.drop_table('slot')
    op.drop_table('ticket_counter')
    with op.batch_alter_table('slot_rule', schema=None) as batch_op:
        batch_op.drop_index('ix_slot_rule_hall_item')

    op.drop_table('slot_rule')
