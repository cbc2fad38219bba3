"""security: custom domains proven by DNS before they serve, login attempts by address

Revision ID: 0004_security
Revises: 0003_api

Custom domains: `custom_domain` becomes a claim (no longer unique) and `verified_domain`
(unique) the domain that serves the page. Existing domains are NOT carried over as verified:
each gets a token and serves again once its TXT record is checked from the console.
"""
import secrets
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0004_security'
down_revision: Union[str, None] = '0003_api'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# SQLite reflects the unnamed UNIQUE(custom_domain) of 0001 without a name: give it one.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _custom_domain_unique_name() -> str:
    return "status_page_custom_domain_key" if op.get_bind().dialect.name == "postgresql" else "uq_status_page_custom_domain"


def upgrade() -> None:
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempt_ip_at', ['client_ip', 'created_at'], unique=False)

    with op.batch_alter_table('status_page', schema=None, naming_convention=_NAMING) as batch_op:
        batch_op.drop_constraint(_custom_domain_unique_name(), type_='unique')
        batch_op.add_column(sa.Column('domain_token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('verified_domain', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
        batch_op.add_column(sa.Column('domain_checked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('domain_check_result', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_status_page_custom_domain'), ['custom_domain'], unique=False)
        batch_op.create_unique_constraint('uq_status_page_verified_domain', ['verified_domain'])

    with op.batch_alter_table('status_page', schema=None) as batch_op:
        batch_op.alter_column('domain_token', server_default=None)
        batch_op.alter_column('domain_check_result', server_default=None)

    bind = op.get_bind()
    page = sa.table('status_page', sa.column('id', sa.Integer), sa.column('domain_token', sa.String))
    ids = [row.id for row in bind.execute(sa.text("SELECT id FROM status_page WHERE custom_domain IS NOT NULL"))]
    for page_id in ids:
        bind.execute(page.update().where(page.c.id == page_id).values(domain_token=secrets.token_hex(16)))


def downgrade() -> None:
    with op.batch_alter_table('status_page', schema=None) as batch_op:
        batch_op.drop_constraint('uq_status_page_verified_domain', type_='unique')
        batch_op.drop_index(batch_op.f('ix_status_page_custom_domain'))
        batch_op.drop_column('domain_check_result')
        batch_op.drop_column('domain_checked_at')
        batch_op.drop_column('verified_domain')
        batch_op.drop_column('domain_token')
        batch_op.create_unique_constraint(_custom_domain_unique_name(), ['custom_domain'])

    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempt_ip_at')
