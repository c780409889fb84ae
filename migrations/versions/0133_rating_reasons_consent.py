"""ratings: a bad rating's several reasons; auth: each person's agreement to each version of the
用户服务协议, 隐私政策 and the sensitive-information consent before ID photos

Revision ID: 0133_rating_reasons_consent
Revises: 0007_ratings
Create Date: 2026-12-05 06:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0133_rating_reasons_consent'
down_revision = '0007_ratings'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reasons', sa.JSON(), nullable=True))
    op.create_table(
        'consent',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('document', sa.String(length=20), nullable=False),
        sa.Column('version', sa.String(length=20), nullable=False),
        sa.Column('scope', sa.String(length=40), nullable=False),
        sa.Column('agreed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_consent_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consent')),
        sa.UniqueConstraint('user_id', 'document', 'version', 'scope',
                            name='uq_consent_user_document_version_scope'),
    )


def downgrade():
    op.drop_table('consent')
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.drop_column('reasons')
