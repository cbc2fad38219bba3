"""maintenance: one-off windows and recurring series (RRULE), their services and timelines;
the maintenance a status change came from

Revision ID: 0007_maintenance
Revises: 0006_monitoring
Create Date: 2026-11-25 19:14:04.700602
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0007_maintenance'
down_revision: Union[str, None] = '0006_monitoring'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('maintenance_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('rrule', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('dtstart_local', sqlmodel.sql.sqltypes.AutoString(length=19), nullable=False),
    sa.Column('time_zone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('remind_minutes_before', sa.Integer(), nullable=True),
    sa.Column('notify_on_start', sa.Boolean(), nullable=False),
    sa.Column('notify_on_complete', sa.Boolean(), nullable=False),
    sa.Column('auto_start', sa.Boolean(), nullable=False),
    sa.Column('auto_complete', sa.Boolean(), nullable=False),
    sa.Column('generated_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('next_fill_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('cancelled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_by_api_key_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_api_key_id'], ['api_key.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('maintenance_series', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_maintenance_series_next_fill_at'), ['next_fill_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_series_organization_id'), ['organization_id'], unique=False)

    op.create_table('maintenance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('scheduled_for', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('scheduled_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('verifying_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('completed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('cancelled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('auto_start', sa.Boolean(), nullable=False),
    sa.Column('auto_complete', sa.Boolean(), nullable=False),
    sa.Column('notify_on_create', sa.Boolean(), nullable=False),
    sa.Column('remind_minutes_before', sa.Integer(), nullable=True),
    sa.Column('notify_on_start', sa.Boolean(), nullable=False),
    sa.Column('notify_on_complete', sa.Boolean(), nullable=False),
    sa.Column('reminded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('series_id', sa.Integer(), nullable=True),
    sa.Column('occurrence_start', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('detached', sa.Boolean(), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_by_api_key_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_api_key_id'], ['api_key.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['series_id'], ['maintenance_series.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('series_id', 'occurrence_start', name='uq_maintenance_series_occurrence')
    )
    with op.batch_alter_table('maintenance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_maintenance_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_series_id'), ['series_id'], unique=False)
        batch_op.create_index('ix_maintenance_status_for', ['status', 'scheduled_for'], unique=False)

    op.create_table('maintenance_series_service',
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['series_id'], ['maintenance_series.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('series_id', 'service_id')
    )
    with op.batch_alter_table('maintenance_series_service', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_maintenance_series_service_service_id'), ['service_id'], unique=False)

    op.create_table('maintenance_service',
    sa.Column('maintenance_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['maintenance_id'], ['maintenance.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('maintenance_id', 'service_id')
    )
    with op.batch_alter_table('maintenance_service', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_maintenance_service_service_id'), ['service_id'], unique=False)

    op.create_table('maintenance_update',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('maintenance_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('deliver_notifications', sa.Boolean(), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_by_api_key_id', sa.Integer(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_api_key_id'], ['api_key.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['maintenance_id'], ['maintenance.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('maintenance_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_maintenance_update_maintenance_id'), ['maintenance_id'], unique=False)

    with op.batch_alter_table('service_status_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('maintenance_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_service_status_change_maintenance_id_maintenance', 'maintenance', ['maintenance_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('service_status_change', schema=None) as batch_op:
        batch_op.drop_constraint('fk_service_status_change_maintenance_id_maintenance', type_='foreignkey')
        batch_op.drop_column('maintenance_id')

    with op.batch_alter_table('maintenance_update', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_maintenance_update_maintenance_id'))

    op.drop_table('maintenance_update')
    with op.batch_alter_table('maintenance_service', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_maintenance_service_service_id'))

    op.drop_table('maintenance_service')
    with op.batch_alter_table('maintenance_series_service', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_maintenance_series_service_service_id'))

    op.drop_table('maintenance_series_service')
    with op.batch_alter_table('maintenance', schema=None) as batch_op:
        batch_op.drop_index('ix_maintenance_status_for')
        batch_op.drop_index(batch_op.f('ix_maintenance_series_id'))
        batch_op.drop_index(batch_op.f('ix_maintenance_organization_id'))

    op.drop_table('maintenance')
    with op.batch_alter_table('maintenance_series', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_maintenance_series_organization_id'))
        batch_op.drop_index(batch_op.f('ix_maintenance_series_next_fill_at'))

    op.drop_table('maintenance_series')
