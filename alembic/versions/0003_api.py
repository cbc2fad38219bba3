"""api keys, attribution of changes to API keys

Revision ID: 0003_api
Revises: 0002_org_change_seq
Create Date: 2026-11-25 16:10:02.969959
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0003_api'
down_revision: Union[str, None] = "0002_org_change_seq"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_key_organization_id'), ['organization_id'], unique=False)

    with op.batch_alter_table('incident_update', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by_api_key_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_incident_update_created_by_api_key_id', 'api_key', ['created_by_api_key_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('service_status_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_api_key_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_service_status_change_actor_api_key_id', 'api_key', ['actor_api_key_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('service_status_change', schema=None) as batch_op:
        batch_op.drop_constraint('fk_service_status_change_actor_api_key_id', type_='foreignkey')
        batch_op.drop_column('actor_api_key_id')

    with op.batch_alter_table('incident_update', schema=None) as batch_op:
        batch_op.drop_constraint('fk_incident_update_created_by_api_key_id', type_='foreignkey')
        batch_op.drop_column('created_by_api_key_id')

    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_key_organization_id'))

    op.drop_table('api_key')
