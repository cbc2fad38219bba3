"""Start the real app the production way (`statusapp serve`, what `make run` runs) on a free port
with its own database, for the browser tests and the benchmarks. Every wait is bounded."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct-horse-battery"
OPS_TOKEN = "e2e-ops-token"  # lets tests read /healthz's socket counts
APP_FILES = ("rxconfig.py", "statusapp", "assets", "alembic", "alembic.ini", "reflex.lock")


def reflex_env() -> dict[str, str]:
    """The environment Reflex needs on these machines (see README: no downloads)."""
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / '.tools' / 'node_modules' / '.bin'}:{ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}"
    env.update(
        REFLEX_USE_SYSTEM_BUN="1",
        NPM_CONFIG_REGISTRY="https://registry.npmjs.org",
        REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_CHECK_LATEST_VERSION="false",
        REFLEX_HTTP_CLIENT_BIND_ADDRESS="0.0.0.0",
    )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """`statusapp serve` in a subprocess; `url` once `start()` returns. `proc.pid` is Granian's
    main process; the workers are its children (`worker_pids()`)."""

    def __init__(self, *, database_url: str, data_dir: Path, redis_url: str = "", workers: int = 1,
                 log_path: Path | None = None, demo: bool = True, extra_env: dict[str, str] | None = None,
                 quiet_demo: bool = True):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.data_dir = data_dir
        self.redis_url = redis_url
        self.workers = workers
        self.demo = demo
        # The demo has one service degraded "now"; most tests and benchmarks start from a page
        # where everything is operational, so that service is set back before serving.
        self.quiet_demo = quiet_demo
        self.extra_env = dict(extra_env or {})  # e.g. RESEND_API_URL for a benchmark
        self.log_path = log_path or data_dir / "server.log"
        self.proc: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        env = reflex_env()
        env.update(
            STATUSAPP_DATABASE_URL=self.database_url,
            STATUSAPP_DATA_DIR=str(self.data_dir),
            STATUSAPP_ADMIN_EMAIL=ADMIN_EMAIL,
            STATUSAPP_ADMIN_PASSWORD=ADMIN_PASSWORD,
            STATUSAPP_DEMO="1" if self.demo else "0",
            STATUSAPP_PUBLIC_URL=self.url,
            GRANIAN_WORKERS=str(self.workers),
            STATUSAPP_OPS_TOKEN=OPS_TOKEN,
            GRANIAN_LOG_LEVEL="info",  # worker deaths and respawns in server.log
            REFLEX_LOGLEVEL="warning",
        )
        env.update(self.extra_env)
        env.pop("REDIS_URL", None)
        env.pop("STATUSAPP_REDIS_URL", None)
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        env.update(self.extra_env)
        return env

    def _isolated_copy(self) -> Path:
        """A private copy of the app to build and run: the build rewrites .web/ (with the port
        baked in), so two servers (tests, a benchmark, `make run`) must never share one."""
        workdir = self.data_dir / "app"
        if workdir.exists():
            shutil.rmtree(workdir)
        workdir.mkdir(parents=True)
        for name in APP_FILES:
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, workdir / name, ignore=shutil.ignore_patterns("__pycache__"))
            elif src.exists():
                shutil.copy2(src, workdir / name)
        return workdir

    def _quiet_the_demo(self) -> None:
        """Every demo service back to operational, through the domain layer (before serving)."""
        from sqlmodel import select

        from statusapp import db as app_db
        from statusapp.domain import Actor, services
        from statusapp.models import Service
        from statusapp.settings import get_settings

        settings = get_settings()
        saved = settings.database_url
        settings.database_url = self.database_url
        try:
            with app_db.session_scope() as session:
                busy = [(s.id, s.organization_id) for s in session.exec(select(Service)) if s.manual_status != "operational"]
            for service_id, org_id in busy:
                services.set_manual_status(actor=Actor(org_id), service_id=service_id, status="operational")
        finally:
            settings.database_url = saved
            engine = app_db._engines.pop(self.database_url, None)
            if engine is not None:
                engine.dispose()

    def start(self, timeout: float = 300) -> "AppServer":
        env = self.env()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        workdir = self._isolated_copy()
        subprocess.run([str(ROOT / ".venv" / "bin" / "statusapp"), "bootstrap"], env=env, cwd=workdir, check=True,
                       capture_output=True, timeout=120)
        if self.demo and self.quiet_demo:
            self._quiet_the_demo()
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "statusapp"), "serve", "--port", str(self.port)],
            cwd=workdir, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app exited early; see {self.log_path}:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200 and \
                        httpx.get(self.url + "/status/demo" if self.demo else self.url + "/", timeout=5).status_code < 500:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"app did not answer within {timeout}s; see {self.log_path}")

    def worker_pids(self) -> set[int]:
        """Granian's worker processes: the live children of the server process (from /proc)."""
        pids = set()
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid and fields[0] not in ("Z", "X"):
                pids.add(int(entry))
        return pids

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if getattr(self, "_log", None):
            self._log.close()

    def __enter__(self) -> "AppServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
