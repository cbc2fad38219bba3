"""`statusapp serve` without starting it: the Reflex and Granian internals it relies on, the
re-serve loop's back-off, the build hash, and how the port is chosen (CLI and `make run PORT=`).
The real thing (workers killed under a running app) is tests/e2e/test_respawn.py."""

from __future__ import annotations

import inspect
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from statusapp import cli, serve

ROOT = Path(__file__).resolve().parents[1]


def test_reflex_and_granian_internals_that_serve_relies_on_still_exist():
    """statusapp/serve.py mirrors `reflex run --env prod` with Reflex's own (partly private)
    functions; a Reflex or Granian upgrade that renames one must fail here, not in production."""
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server as Granian
    from reflex_base import constants
    from reflex_base.config import Config, get_config, reload_config
    from reflex_base.environment import environment
    from reflex_base.utils import log

    from reflex.istate.manager import reset_disk_state_manager
    from reflex.reflex import _init
    from reflex.utils import build, exec as rx_exec, path_ops, prerequisites

    for fn in (get_config, reload_config, reset_disk_state_manager, _init, log.enable_managed_logging,
               build.set_env_json, build.setup_frontend_prod, path_ops.file_lock,
               prerequisites.assert_in_reflex_dir, prerequisites.needs_reinit, prerequisites.get_web_dir,
               prerequisites.compile_or_validate_app, rx_exec.should_prerender_routes,
               rx_exec.get_app_instance_from_file, rx_exec._granian_log_dictconfig,
               rx_exec._backend_start_method, rx_exec._preload_for_fork, rx_exec._get_backend_workers,
               Config._set_persistent):
        assert callable(fn)
    assert {"compile", "check_if_schema_up_to_date", "prerender_routes", "trigger"} <= set(
        inspect.signature(prerequisites.compile_or_validate_app).parameters)
    for var in ("REFLEX_COMPILE_CONTEXT", "REFLEX_ENV_MODE", "REFLEX_SKIP_COMPILE",
                "REFLEX_MOUNT_FRONTEND_COMPILED_APP"):
        assert hasattr(environment, var), var
    assert constants.CompileContext.RUN and constants.Env.PROD and constants.Dirs.STATIC
    assert Interfaces.ASGI and LogLevels("warning")
    granian_params = inspect.signature(Granian.__init__).parameters
    assert {"respawn_failed_workers", "workers_kill_timeout", "factory", "log_dictconfig"} <= set(granian_params)
    # The re-serve loop tells "stopped by a signal" from "gave up on crashing workers" by this flag.
    assert Granian(target="statusapp.statusapp:app").interrupt_signal is False


def test_granian_options_add_the_respawn_to_reflexs_own(monkeypatch):
    monkeypatch.delenv("GRANIAN_LOG_LEVEL", raising=False)
    options = serve.granian_options(host="127.0.0.1", port=8123, workers=2)
    assert options["respawn_failed_workers"] is True
    assert options["target"] == "statusapp.statusapp:app" and options["factory"] is True
    assert (options["address"], options["port"], options["workers"]) == ("127.0.0.1", 8123, 2)


def test_backoff_doubles_to_the_cap_and_resets_after_healthy_serving():
    b = serve.Backoff(first=1, cap=8, healthy_s=60)
    assert [b.delay(2) for _ in range(6)] == [1, 2, 4, 8, 8, 8]
    assert b.delay(61) == 1  # it served a while before giving up: start again quickly
    assert b.delay(3) == 2


class FakeGranian:
    """Stands in for granian.server.Server: `outcomes` says what each serve() does."""

    def __init__(self, outcome: str):
        self.outcome = outcome
        self.interrupt_signal = False

    def serve(self) -> None:
        if self.outcome == "crash-loop":  # what Granian does on its 5.5 s rule
            raise SystemExit(1)
        if self.outcome == "signal-with-dead-children":
            self.interrupt_signal = True
            raise SystemExit(1)
        return None  # stopped by SIGTERM/SIGINT


def _serving(outcomes: list[str]):
    made = []

    def make() -> FakeGranian:
        made.append(FakeGranian(outcomes[len(made)]))
        return made[-1]

    return make, made


@pytest.fixture
def keep_signal_handlers():
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, h in saved.items():
        signal.signal(s, h)


def test_granian_giving_up_is_logged_and_served_again_with_growing_delays(keep_signal_handlers, capsys):
    make, made = _serving(["crash-loop", "crash-loop", "crash-loop", "stopped"])
    started = time.monotonic()
    assert serve.serve_until_stopped(make, backoff=serve.Backoff(first=0.05, cap=0.1)) == 0
    elapsed = time.monotonic() - started
    assert len(made) == 4
    assert 0.25 <= elapsed < 5, "waited 0.05 + 0.1 + 0.1 s between the four starts"
    lines = [line for line in capsys.readouterr().err.splitlines() if "worker crash loop" in line]
    assert len(lines) == 3
    assert "Serving again in 0.05 s (restart 1" in lines[0] and "in 0.1 s (restart 3" in lines[2]


def test_a_stop_signal_is_never_answered_by_serving_again(keep_signal_handlers):
    make, made = _serving(["signal-with-dead-children", "stopped"])
    assert serve.serve_until_stopped(make) == 0
    assert len(made) == 1


def test_sigterm_during_the_backoff_stops_at_once(keep_signal_handlers, capsys):
    make, made = _serving(["crash-loop", "stopped"])
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    started = time.monotonic()
    try:
        assert serve.serve_until_stopped(make, backoff=serve.Backoff(first=30)) == 0
    finally:
        timer.cancel()
    assert time.monotonic() - started < 5 and len(made) == 1
    assert "stop requested during the back-off" in capsys.readouterr().err


def test_build_hash_follows_what_the_build_reads_and_nothing_else(tmp_path, monkeypatch):
    monkeypatch.delenv("VITE_MINIFY", raising=False)
    web = tmp_path / ".web"
    (web / "app" / "routes").mkdir(parents=True)
    (web / "build" / "client").mkdir(parents=True)
    (web / "app" / "routes" / "index.jsx").write_text("export default 1")
    (web / "env.json").write_text('{"EVENT": "ws://localhost:3000/_event"}')
    first = serve.frontend_digest(web)
    (web / "build" / "client" / "index.html").write_text("<html>")  # the build's own output
    (web / "reflex.json").write_text('{"last_run": 2}')  # a run timestamp
    (web / serve.BUILD_STAMP).write_text(first)
    assert serve.frontend_digest(web) == first
    (web / "env.json").write_text('{"EVENT": "ws://localhost:8080/_event"}')  # another port
    assert serve.frontend_digest(web) != first
    (web / "env.json").write_text('{"EVENT": "ws://localhost:3000/_event"}')
    monkeypatch.setenv("VITE_MINIFY", "false")
    assert serve.frontend_digest(web) != first


def test_cli_passes_port_workers_and_rebuild(monkeypatch):
    seen = {}
    monkeypatch.setattr(serve, "serve", lambda **kw: seen.update(kw) or 0)
    assert cli.main(["serve", "--port", "8080", "--workers", "2", "--rebuild"]) == 0
    assert seen == {"port": 8080, "host": None, "workers": 2, "rebuild": True}


def _make_run_dry(*args: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("PORT", "STATUSAPP_PUBLIC_URL", "MAKEFLAGS")}
    return subprocess.run(["make", "-n", "-C", str(ROOT), "run", *args], env={**clean, **env},
                          capture_output=True, text=True, timeout=60, check=True).stdout


def test_make_run_serves_on_the_chosen_port():
    assert "statusapp serve --port 3000" in _make_run_dry()
    assert "statusapp serve --port 8080" in _make_run_dry("PORT=8080")
    assert "statusapp serve --port 8081" in _make_run_dry(PORT="8081")
