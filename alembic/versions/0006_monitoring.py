"""monitoring: monitors, raw checks and daily rollups, the checker's heartbeat; the monitor's
verdict on services, incidents opened by a monitor, who posted an update, response-time charts

Revision ID: 0006_monitoring
Revises: 0005_subscribers
Create Date: 2026-11-25 16:24:35.952882
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0006_monitoring'
down_revision: Union[str, None] = '0005_subscribers'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('checker_heartbeat',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('leader', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('leader_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('beat_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('monitors', sa.Integer(), nullable=False),
    sa.Column('checks_per_minute', sa.Integer(), nullable=False),
    sa.Column('lag_p95_ms', sa.Float(), nullable=True),
    sa.Column('lag_max_ms', sa.Float(), nullable=True),
    sa.Column('pending_writes', sa.Integer(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('monitor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('interval_seconds', sa.Integer(), nullable=False),
    sa.Column('check', sa.JSON(), nullable=False),
    sa.Column('failures_to_confirm', sa.Integer(), nullable=False),
    sa.Column('successes_to_recover', sa.Integer(), nullable=False),
    sa.Column('failure_status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('auto_incident', sa.Boolean(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('push_token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('recent', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('last_checked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_ok', sa.Boolean(), nullable=True),
    sa.Column('last_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('last_latency_ms', sa.Float(), nullable=True),
    sa.Column('last_push_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('push_token_hash'),
    sa.UniqueConstraint('service_id')
    )
    with op.batch_alter_table('monitor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitor_organization_id'), ['organization_id'], unique=False)

    op.create_table('monitor_daily',
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('checks', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('avg_latency_ms', sa.Float(), nullable=True),
    sa.Column('p95_latency_ms', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('service_id', 'day')
    )
    op.create_table('monitor_check',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('monitor_id', sa.Integer(), nullable=False),
    sa.Column('checked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('degraded', sa.Boolean(), nullable=False),
    sa.Column('latency_ms', sa.Float(), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.ForeignKeyConstraint(['monitor_id'], ['monitor.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('monitor_check', schema=None) as batch_op:
        batch_op.create_index('ix_monitor_check_monitor_at', ['monitor_id', 'checked_at'], unique=False)

    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opened_by_monitor_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_incident_opened_by_monitor_id_monitor', 'monitor', ['opened_by_monitor_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('incident_update', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), server_default='manual', nullable=False))

    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.add_column(sa.Column('monitor_status', sqlmodel.sql.sqltypes.AutoString(length=32), server_default='operational', nullable=False))

    with op.batch_alter_table('status_page', schema=None) as batch_op:
        batch_op.add_column(sa.Column('show_response_times', sa.Boolean(), server_default='1', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('status_page', schema=None) as batch_op:
        batch_op.drop_column('show_response_times')

    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_column('monitor_status')

    with op.batch_alter_table('incident_update', schema=None) as batch_op:
        batch_op.drop_column('source')

    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_constraint('fk_incident_opened_by_monitor_id_monitor', type_='foreignkey')
        batch_op.drop_column('opened_by_monitor_id')

    with op.batch_alter_table('monitor_check', schema=None) as batch_op:
        batch_op.drop_index('ix_monitor_check_monitor_at')

    op.drop_table('monitor_check')
    op.drop_table('monitor_daily')
    with op.batch_alter_table('monitor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitor_organization_id'))

    op.drop_table('monitor')
    op.drop_table('checker_heartbeat')
