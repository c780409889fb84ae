"""photo reading (智能预审): the phone's check and the worker's reading of each photo, document
kinds and example photos on materials

Revision ID: 0120_photo_reading
Revises: 0001_initial
Create Date: 2026-12-04 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0120_photo_reading'
down_revision = '0001_initial'
branch_labels = None
depends_on = ('0005_applications',)


def upgrade():
    with op.batch_alter_table('material', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_kind', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('example_key', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('example_thumb_key', sa.String(length=40), nullable=True))
    with op.batch_alter_table('app_material', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_kind', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('source_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_app_material_source_id_material'),
                                    'material', ['source_id'], ['id'], ondelete='SET NULL')
    op.create_table('photo_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('upload_id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=True),
    sa.Column('phone_issues', sa.String(length=40), nullable=True),
    sa.Column('phone_kept', sa.Boolean(), nullable=True),
    sa.Column('phone_retakes', sa.Integer(), nullable=False),
    sa.Column('brightness', sa.Integer(), nullable=True),
    sa.Column('sharpness', sa.Double(), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('found_kind', sa.String(length=24), nullable=True),
    sa.Column('issues', sa.JSON(), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=True),
    sa.Column('seconds', sa.Double(), nullable=True),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.Column('hint', sa.String(length=10), nullable=True),
    sa.Column('verdict', sa.String(length=10), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_photo_check_hall_id_hall')),
    sa.ForeignKeyConstraint(['upload_id'], ['upload.id'], name=op.f('fk_photo_check_upload_id_upload'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photo_check')),
    sa.UniqueConstraint('upload_id', name=op.f('uq_photo_check_upload_id'))
    )
    with op.batch_alter_table('photo_check', schema=None) as batch_op:
        batch_op.create_index('ix_photo_check_hall_decided', ['hall_id', 'decided_at'], unique=False)


def downgrade():
    with op.batch_alter_table('photo_check', schema=None) as batch_op:
        batch_op.drop_index('ix_photo_check_hall_decided')
    op.drop_table('photo_check')
    with op.batch_alter_table('app_material', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_app_material_source_id_material'),
                                 type_='foreignkey')
        batch_op.drop_column('source_id')
        batch_op.drop_column('document_kind')
    with op.batch_alter_table('material', schema=None) as batch_op:
        batch_op.drop_column('example_thumb_key')
        batch_op.drop_column('example_key')
        batch_op.drop_column('document_kind')
