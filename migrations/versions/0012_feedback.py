"""feedback: 办不成事 reports, 我要问 questions, and the departments staff answer for

Revision ID: 0012_feedback
Revises: 0001_initial
Create Date: 2026-11-23 11:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_feedback'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff_department',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_staff_department_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_department')),
    sa.UniqueConstraint('user_id', 'department', name='uq_staff_department_user_department')
    )
    with op.batch_alter_table('staff_department', schema=None) as batch_op:
        batch_op.create_index('ix_staff_department_department', ['department'], unique=False)

    op.create_table('unresolved_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reply_due_at', sa.DateTime(), nullable=False),
    sa.Column('resolve_due_at', sa.DateTime(), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('replied_at', sa.DateTime(), nullable=True),
    sa.Column('replied_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['citizen_id'], ['user.id'], name=op.f('fk_unresolved_report_citizen_id_user')),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_unresolved_report_hall_id_hall')),
    sa.ForeignKeyConstraint(['item_id'], ['service_item.id'], name=op.f('fk_unresolved_report_item_id_service_item')),
    sa.ForeignKeyConstraint(['replied_by_id'], ['user.id'], name=op.f('fk_unresolved_report_replied_by_id_user')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['user.id'], name=op.f('fk_unresolved_report_resolved_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unresolved_report'))
    )
    with op.batch_alter_table('unresolved_report', schema=None) as batch_op:
        batch_op.create_index('ix_unresolved_report_citizen', ['citizen_id', 'created_at'], unique=False)
        batch_op.create_index('ix_unresolved_report_hall_status', ['hall_id', 'status'], unique=False)

    op.create_table('question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=80), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('faq_question', sa.Text(), nullable=True),
    sa.Column('faq_answer', sa.Text(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_id'], ['user.id'], name=op.f('fk_question_answered_by_id_user')),
    sa.ForeignKeyConstraint(['citizen_id'], ['user.id'], name=op.f('fk_question_citizen_id_user')),
    sa.ForeignKeyConstraint(['item_id'], ['service_item.id'], name=op.f('fk_question_item_id_service_item')),
    sa.ForeignKeyConstraint(['published_by_id'], ['user.id'], name=op.f('fk_question_published_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question'))
    )
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.create_index('ix_question_citizen', ['citizen_id', 'created_at'], unique=False)
        batch_op.create_index('ix_question_department_status', ['department', 'status'], unique=False)
        batch_op.create_index('ix_question_item_published', ['item_id', 'published_at'], unique=False)


def downgrade():
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_index('ix_question_item_published')
        batch_op.drop_index('ix_question_department_status')
        batch_op.drop_index('ix_question_citizen')

    op.drop_table('question')
    with op.batch_alter_table('unresolved_report', schema=None) as batch_op:
        batch_op.drop_index('ix_unresolved_report_hall_status')
        batch_op.drop_index('ix_unresolved_report_citizen')

    op.drop_table('unresolved_report')
    with op.batch_alter_table('staff_department', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_department_department')

    op.drop_table('staff_department')
