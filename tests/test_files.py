"""The data folder and the SQLite files are private to the user running the app."""

from __future__ import annotations

import stat

from statusapp import db
from statusapp.settings import get_settings


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_dir_and_database_files_are_private(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setattr(get_settings(), "data_dir", data)
    url = f"sqlite:///{data / 'statusapp.db'}"
    try:
        db.migrate(url)
        with db.get_engine(url).connect() as conn:  # WAL mode: -wal and -shm exist while connected
            conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (x)")
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            conn.commit()
            files = sorted(p.name for p in data.iterdir())
            assert {"statusapp.db", "statusapp.db-wal", "statusapp.db-shm"} <= set(files)
            assert {p.name: _mode(p) for p in data.iterdir() if p.name.startswith("statusapp.db")} == {
                "statusapp.db": 0o600, "statusapp.db-wal": 0o600, "statusapp.db-shm": 0o600}
        assert _mode(data) == 0o700
    finally:
        engine = db._engines.pop(url, None)
        if engine is not None:
            engine.dispose()


def test_existing_world_readable_files_are_tightened(tmp_path):
    data = tmp_path / "old"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "statusapp.db").touch()
    (data / "statusapp.db").chmod(0o644)
    db.private_sqlite_file(data / "statusapp.db")
    assert (_mode(data), _mode(data / "statusapp.db")) == (0o700, 0o600)
