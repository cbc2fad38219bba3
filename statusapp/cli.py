"""`statusapp` command: migrate, create-admin, demo, bootstrap, serve (what `make run` calls),
worker (the background jobs alone), api-key create (a REST API key for automation)."""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys

from statusapp import db
from statusapp.demo import ensure_organization, load_demo
from statusapp.domain import Actor, NotFound, ValidationError
from statusapp.domain.apikeys import create_api_key
from statusapp.domain.organizations import count_users, create_user
from statusapp.settings import get_settings


def cmd_migrate(_args) -> int:
    db.migrate_locked()
    print(f"Database is up to date ({_safe_url()}).")
    return 0


def cmd_create_admin(args) -> int:
    db.migrate_locked()
    if args.password_stdin and (args.password or args.generate):
        print("error: --password-stdin excludes --password and --generate", file=sys.stderr)
        return 2
    if args.password:
        print("warning: --password shows the password to other users (ps) and keeps it in shell history;"
              " prefer --password-stdin", file=sys.stderr)
    email = args.email or get_settings().admin_email or input("Admin email: ")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            print("error: no password on standard input", file=sys.stderr)
            return 2
    else:
        password = args.password or get_settings().admin_password
    generated = False
    if not password:
        if sys.stdin.isatty() and not args.generate:
            password = getpass.getpass("Password (min 10 characters): ")
        else:
            password, generated = secrets.token_urlsafe(12), True
    try:
        create_user(organization_id=ensure_organization(), email=email, password=password)
    except ValidationError as exc:
        for field, msg in exc.errors.items():
            print(f"error: {field}: {msg}", file=sys.stderr)
        return 2
    print(f"Created admin {email}.")
    if generated:
        print(f"  password: {password}   (shown once; sign in at {get_settings().public_url}/admin)")
    return 0


def cmd_demo(_args) -> int:
    db.migrate_locked()
    print("Demo page loaded at /status/demo." if load_demo() else "A status page exists already; demo not loaded.")
    return 0


def cmd_bootstrap(_args) -> int:
    """Migrate; create the first admin when there is none; load the demo into an empty database."""
    settings = get_settings()
    db.migrate_locked()
    _ = settings.effective_secret_key  # made once into data/secret_key (mode 0600) when unset
    org_id = ensure_organization()
    if count_users() == 0:
        email = settings.admin_email or "admin@example.com"
        password = settings.admin_password or secrets.token_urlsafe(12)
        try:
            create_user(organization_id=org_id, email=email, password=password)
        except ValidationError as exc:
            for field, msg in exc.errors.items():
                print(f"error: first admin: {field}: {msg}", file=sys.stderr)
            return 2
        print("=" * 64)
        print(f"  First admin created: {email}")
        if not settings.admin_password:
            print(f"  Password (shown once): {password}")
        print(f"  Sign in at {settings.public_url}/admin")
        print("=" * 64)
    if settings.demo and load_demo(org_id):
        print(f"Demo page loaded: {settings.public_url}/status/demo")
    return 0


def cmd_worker(_args) -> int:
    """Run the background jobs without the web app (leader-elected like inside it), telling
    the web workers of each change it commits (statusapp.live.signal)."""
    import asyncio
    import signal

    from statusapp.domain import add_listener
    from statusapp.jobs import get_runner
    from statusapp.live.signal import publish_change, signal_transport

    db.migrate_locked()
    add_listener(publish_change)
    transport = signal_transport() or "none: on SQLite, open pages see its changes at the next outbox poll (2 s)"
    print(f"statusapp worker: jobs {', '.join(j.name for j in get_runner('statusapp worker').jobs) or '(none)'}; "
          f"change signal: {transport}")

    async def main() -> None:
        task = asyncio.ensure_future(get_runner().run())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            pass

    asyncio.run(main())
    return 0


def cmd_api_key_create(args) -> int:
    """Print a new REST API key of an organization (the first one by default), shown once."""
    db.migrate_locked()
    org_id = args.org if args.org is not None else ensure_organization()
    try:
        key = create_api_key(actor=Actor(org_id), name=args.name)
    except ValidationError as exc:
        for field, msg in exc.errors.items():
            print(f"error: {field}: {msg}", file=sys.stderr)
        return 2
    except NotFound:
        print(f"error: org: no organization with id {org_id}", file=sys.stderr)
        return 2
    print(key.token)
    print(f"API key '{key.name}' (id {key.id}) for organization {org_id}: shown once, store it now.", file=sys.stderr)
    return 0


def cmd_serve(args) -> int:
    from statusapp.serve import serve

    return serve(port=args.port, host=args.host, workers=args.workers, rebuild=args.rebuild)


def _safe_url() -> str:
    url = get_settings().effective_database_url
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="statusapp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(fn=cmd_migrate)
    p = sub.add_parser("create-admin", help="create an admin user")
    p.add_argument("--email")
    p.add_argument("--password", help="the password (visible in ps and shell history: prefer --password-stdin)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    p.add_argument("--generate", action="store_true", help="generate and print a password")
    p.set_defaults(fn=cmd_create_admin)
    sub.add_parser("demo", help="load the demo page into an empty database").set_defaults(fn=cmd_demo)
    sub.add_parser("bootstrap", help="migrate, first admin, demo").set_defaults(fn=cmd_bootstrap)
    sub.add_parser("worker", help="run the background jobs without the web app").set_defaults(fn=cmd_worker)
    keys = sub.add_parser("api-key", help="REST API keys").add_subparsers(dest="api_key_command", required=True)
    p = keys.add_parser("create", help="create a key and print it (once) on stdout")
    p.add_argument("--name", required=True, help="what the key is for, e.g. 'deploy bot'")
    p.add_argument("--org", type=int, help="organization id (default: the first organization)")
    p.set_defaults(fn=cmd_api_key_create)
    p = sub.add_parser("serve", help="build the frontend, then serve app and frontend on one port, "
                       "replacing dead workers (run it in the app directory)")
    p.add_argument("--port", type=int, help="default: $PORT, else Reflex's configured port, else 3000")
    p.add_argument("--host", help="address to listen on (default: Reflex's backend_host, 0.0.0.0)")
    p.add_argument("--workers", type=int, help="default: $GRANIAN_WORKERS, else 1 without Redis")
    p.add_argument("--rebuild", action="store_true", help="build the frontend even when nothing changed")
    p.set_defaults(fn=cmd_serve)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
