"""licences: 电子证照 records, companies and their people, 亮证 tokens, 用证记录; the catalog's
licence type per item (issued) and per material (免提交), and what an application carries

Revision ID: 0130_licences
Revises: 0120_photo_reading
Create Date: 2026-12-05 06:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0130_licences'
down_revision = '0120_photo_reading'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'company',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('credit_code', sa.String(length=18), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('credit_code'),
    )
    op.create_table(
        'company_member',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['company.id']),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('company_id', 'user_id'),
    )
    op.create_table(
        'licence',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('type_code', sa.String(length=40), nullable=False),
        sa.Column('number', sa.String(length=60), nullable=False),
        sa.Column('holder_name', sa.String(length=120), nullable=False),
        sa.Column('holder_user_id', sa.Integer(), nullable=True),
        sa.Column('company_id', sa.Integer(), nullable=True),
        sa.Column('department', sa.String(length=80), nullable=False),
        sa.Column('hall_id', sa.Integer(), nullable=True),
        sa.Column('issued_on', sa.Date(), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('status_reason', sa.Text(), nullable=True),
        sa.Column('application_id', sa.Integer(), nullable=True),
        sa.Column('replaced_by_id', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['holder_user_id'], ['user.id']),
        sa.ForeignKeyConstraint(['company_id'], ['company.id']),
        sa.ForeignKeyConstraint(['hall_id'], ['hall.id']),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.ForeignKeyConstraint(['replaced_by_id'], ['licence.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('type_code', 'number'),
    )
    op.create_index('ix_licence_holder', 'licence', ['holder_user_id', 'type_code'])
    op.create_index('ix_licence_company', 'licence', ['company_id', 'type_code'])
    op.create_table(
        'licence_show',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('licence_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=12), nullable=False),
        sa.Column('code', sa.String(length=8), nullable=False),
        sa.Column('purpose', sa.String(length=120), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.Column('used_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['licence_id'], ['licence.id']),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.ForeignKeyConstraint(['used_by'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token'),
    )
    op.create_index('ix_licence_show_code', 'licence_show', ['code'])
    op.create_table(
        'licence_use',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('licence_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('hall_id', sa.Integer(), nullable=True),
        sa.Column('purpose', sa.String(length=200), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['licence_id'], ['licence.id']),
        sa.ForeignKeyConstraint(['actor_id'], ['user.id']),
        sa.ForeignKeyConstraint(['hall_id'], ['hall.id']),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_licence_use_licence', 'licence_use', ['licence_id', 'created_at'])
    with op.batch_alter_table('service_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('licence_type', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('licence_years', sa.Integer(), nullable=True))
    with op.batch_alter_table('material', schema=None) as batch_op:
        batch_op.add_column(sa.Column('licence_type', sa.String(length=40), nullable=True))
    with op.batch_alter_table('app_material', schema=None) as batch_op:
        batch_op.add_column(sa.Column('licence_type', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('licence_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('licence_note', sa.String(length=120), nullable=True))
        batch_op.create_foreign_key('fk_app_material_licence', 'licence', ['licence_id'], ['id'])


def downgrade():
    with op.batch_alter_table('app_material', schema=None) as batch_op:
        batch_op.drop_constraint('fk_app_material_licence', type_='foreignkey')
        batch_op.drop_column('licence_note')
        batch_op.drop_column('licence_id')
        batch_op.drop_column('licence_type')
    with op.batch_alter_table('material', schema=None) as batch_op:
        batch_op.drop_column('licence_type')
    with op.batch_alter_table('service_item', schema=None) as batch_op:
        batch_op.drop_column('licence_years')
        batch_op.drop_column('licence_type')
    op.drop_index('ix_licence_use_licence', table_name='licence_use')
    op.drop_table('licence_use')
    op.drop_index('ix_licence_show_code', table_name='licence_show')
    op.drop_table('licence_show')
    op.drop_index('ix_licence_company', table_name='licence')
    op.drop_index('ix_licence_holder', table_name='licence')
    op.drop_table('licence')
    op.drop_table('company_member')
    op.drop_table('company')
