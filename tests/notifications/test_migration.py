"""Upgrading an existing database: outbox rows written before the sender existed are marked
processed, so old incidents never reach the first subscribers."""

from __future__ import annotations

import datetime as dt

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from statusapp.settings import PROJECT_ROOT


def test_old_outbox_rows_are_marked_processed(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "0002_org_change_seq")
    engine = create_engine(url)
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO organization (name, created_at, change_seq) VALUES ('Acme', :t, 1)"), {"t": now})
        conn.execute(text("INSERT INTO domain_event (organization_id, kind, payload, created_at) "
                          "VALUES (1, 'incident.created', '{}', :t)"), {"t": now})
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT processed_at FROM domain_event")).scalar() is not None
    engine.dispose()
