"""`statusapp serve`: build the frontend with Reflex, then serve app and frontend on one port with
Granian, replacing any worker that dies.

Why not `reflex run --env prod`: Reflex 0.10.1 starts Granian without `respawn_failed_workers`,
so one worker killed from outside (the OOM killer, `kill -9`) makes Granian shut every worker
down, and Reflex has no way to pass Granian options through. This module does what
`reflex run --env prod --single-port` does, with Reflex's own functions (reflex/reflex.py `_run`
and `_run_prod`, reflex/utils/exec.py `run_granian_backend_prod`), and changes only how Granian
is started. The private Reflex names it relies on are imported by tests/test_serve.py, so a
Reflex upgrade that renames one fails there first.

Two levels of recovery:
- Granian replaces a dead worker at once (`respawn_failed_workers=True`); the other workers
  never stop serving.
- Granian itself gives up when a replaced worker dies again within 5.5 s (its crash-loop rule,
  granian/server/common.py `_serve_loop`), e.g. when workers cannot start because the database
  is down. Then `serve_until_stopped` starts Granian again after a back-off that doubles up to
  `Backoff.cap`, so a worker that cannot start never spins hot. A supervisor (systemd, see
  deploy/statusapp.service) restarts the whole command if it exits.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

DEFAULT_PORT = 3000
BUILD_STAMP = "statusapp-build.sha256"
# What the frontend build (vite) does not read, or writes itself: left out of the build hash.
_UNHASHED_DIRS = {"build", "node_modules", ".react-router", "backend"}
_UNHASHED_FILES = {"reflex.json", "reflex.install_frontend_packages.cached", BUILD_STAMP}
WORKERS_KILL_TIMEOUT_S = 10  # a worker that ignores SIGTERM on shutdown is killed after this


def say(message: str) -> None:
    """One line on stderr (the journal under systemd), whatever the log configuration."""
    print(f"statusapp serve: {message}", file=sys.stderr, flush=True)


# ---- the frontend build -----------------------------------------------------------------------
def frontend_digest(web: Path) -> str:
    """Hash of everything the frontend build reads in `.web` (compiled pages, env.json with the
    port, package.json, public/) and of the VITE_* settings: the same digest means the last
    build is still right, so a restart skips the 5-10 s vite build."""
    h = hashlib.sha256()
    for path in sorted(web.rglob("*")):
        rel = path.relative_to(web)
        if rel.parts[0] in _UNHASHED_DIRS or rel.name in _UNHASHED_FILES or not path.is_file():
            continue
        h.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    for key in sorted(k for k in os.environ if k.startswith("VITE_")):
        h.update(f"{key}={os.environ[key]}\0".encode())
    return h.hexdigest()


def build_frontend(port: int, *, rebuild: bool = False) -> None:
    """Compile the app and build the static frontend for `port` (baked into the build as the
    backend URL), as `reflex run --env prod` does; the vite build is skipped when nothing it
    reads changed since the last build."""
    from reflex_base import constants
    from reflex_base.config import get_config, reload_config
    from reflex_base.environment import environment

    from reflex.istate.manager import reset_disk_state_manager
    from reflex.utils import build, exec as rx_exec, path_ops, prerequisites

    environment.REFLEX_COMPILE_CONTEXT.set(constants.CompileContext.RUN)
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    prerequisites.assert_in_reflex_dir()
    config = get_config()
    if prerequisites.needs_reinit():  # first start, or a new Reflex version: writes .web, installs packages
        from reflex.reflex import _init

        _init(name=config.app_name)
    reset_disk_state_manager()

    web = prerequisites.get_web_dir()
    with path_ops.file_lock(web):
        config._set_persistent(frontend_port=port, backend_port=port)
        reload_config()
        started = time.monotonic()
        if not prerequisites.compile_or_validate_app(
            compile=True, check_if_schema_up_to_date=True,
            prerender_routes=rx_exec.should_prerender_routes(), trigger="initial",
        ):
            raise SystemExit(1)
        compiled = time.monotonic()
        build.set_env_json()
        stamp = web / BUILD_STAMP
        digest = frontend_digest(web)
        index = web / constants.Dirs.STATIC / "index.html"
        if rebuild or not index.exists() or not stamp.exists() or stamp.read_text() != digest:
            stamp.unlink(missing_ok=True)  # a build that fails half-way must not look current
            build.setup_frontend_prod(Path.cwd())
            stamp.write_text(digest)
            what = "frontend built"
        else:
            what = "frontend unchanged, build skipped"
        say(f"app compiled in {compiled - started:.1f} s; {what} ({time.monotonic() - compiled:.1f} s)")


# ---- Granian ------------------------------------------------------------------------------------
def granian_options(*, host: str, port: int, workers: int) -> dict[str, Any]:
    """Reflex's own Granian arguments (exec.py `run_granian_backend_prod`) plus the respawn."""
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from reflex_base.config import get_config

    from reflex.utils import exec as rx_exec

    level = os.getenv("GRANIAN_LOG_LEVEL") or get_config().loglevel.subprocess_level().value
    return dict(
        target=rx_exec.get_app_instance_from_file(),
        factory=True,  # App.__call__ builds the ASGI app (with the static frontend) in each worker
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        log_level=LogLevels(level),
        log_dictconfig=rx_exec._granian_log_dictconfig(),
        workers=workers,
        respawn_failed_workers=True,
        workers_kill_timeout=WORKERS_KILL_TIMEOUT_S,
    )


def prepare_workers() -> None:
    """What Reflex does in the parent before Granian forks: workers mount the built frontend and
    never compile; with fork, the app is imported here once (workers share its pages) and the
    heap frozen. The app's factory is not called here, so the parent holds no database
    connection for the workers to inherit."""
    import multiprocessing

    from reflex_base.environment import environment

    from reflex.utils import exec as rx_exec

    environment.REFLEX_SKIP_COMPILE.set(True)
    environment.REFLEX_MOUNT_FRONTEND_COMPILED_APP.set(True)
    if (method := rx_exec._backend_start_method()) is not None:
        multiprocessing.set_start_method(method, force=True)
        if method == "fork" and not rx_exec._preload_for_fork(None):
            multiprocessing.set_start_method("spawn", force=True)


class Server(Protocol):
    interrupt_signal: bool

    def serve(self) -> None: ...


@dataclass
class Backoff:
    """Delay before starting Granian again after it gave up: doubles from `first` to `cap` while
    it keeps giving up soon after starting; back to `first` once it had served `healthy_s`."""

    first: float = 1.0
    cap: float = 30.0
    healthy_s: float = 60.0
    _next: float = field(default=0.0, init=False, repr=False)

    def delay(self, served_s: float) -> float:
        if served_s >= self.healthy_s or not self._next:
            self._next = self.first
        current = self._next
        self._next = min(self.cap, current * 2)
        return current


def serve_until_stopped(make_server: Callable[[], Server], *, backoff: Backoff | None = None) -> int:
    """Run Granian; when it exits on its crash-loop rule, log it and start it again after the
    back-off. Returns on SIGINT/SIGTERM (0), also when one arrives during the back-off."""
    backoff = backoff or Backoff()
    stop = threading.Event()

    def request_stop(*_args: object) -> None:
        stop.set()

    restarts = 0
    while True:
        server = make_server()
        started = time.monotonic()
        try:
            server.serve()  # installs its own SIGINT/SIGTERM handlers
            return 0  # stopped by a signal
        except SystemExit:
            # Ours again before looking, so a signal arriving now is not lost to the old server.
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, request_stop)
            if server.interrupt_signal or stop.is_set():
                return 0  # asked to stop (workers that got the signal too make Granian exit 1)
        restarts += 1
        served = time.monotonic() - started
        wait = backoff.delay(served)
        say(f"Granian stopped after {served:.1f} s: a replaced worker died again within 5.5 s "
            f"(worker crash loop). Serving again in {wait:g} s (restart {restarts}; the delay "
            f"doubles up to {backoff.cap:g} s while workers keep failing).")
        if stop.wait(wait):
            say("stop requested during the back-off; exiting")
            return 0


def serve(*, port: int | None = None, host: str | None = None, workers: int | None = None,
          rebuild: bool = False) -> int:
    """`statusapp serve`: build once, then serve with dead workers replaced (see module doc)."""
    from granian.server import Server as Granian
    from reflex_base.config import get_config
    from reflex_base.utils import log

    from reflex.utils import exec as rx_exec

    log.enable_managed_logging()  # Reflex's console output, as under the `reflex` command
    config = get_config()
    if not port:
        try:
            port = int(os.environ.get("PORT") or config.frontend_port or DEFAULT_PORT)
        except ValueError:
            raise SystemExit(f"statusapp serve: PORT must be a port number, not {os.environ['PORT']!r}") from None
    host = host or config.backend_host
    build_frontend(port, rebuild=rebuild)
    workers = workers or int(os.environ.get("GRANIAN_WORKERS") or rx_exec._get_backend_workers())
    if workers > 1 and not get_config().redis_url:
        say(f"WARNING: {workers} workers without REDIS_URL: each worker keeps its own visitors' "
            "state and live updates, so set REDIS_URL (or run 1 worker)")
    prepare_workers()
    options = granian_options(host=host, port=port, workers=workers)
    say(f"serving http://{host}:{port} with {workers} worker{'s' if workers > 1 else ''}; "
        "a worker that dies is replaced")
    return serve_until_stopped(lambda: Granian(**options))
