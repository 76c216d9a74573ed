"""`mockai serve` and `mockai check`: the command line."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import signal
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from mockai import __version__, catalogue
from mockai.errors import MockAIError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockai", description="A local, offline, deterministic double of the OpenAI API.")
    parser.add_argument("--version", action="version", version=f"mockai {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server until Ctrl-C or SIGTERM")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--as-of", dest="as_of", type=catalogue.parse_date, default=None, metavar="YYYY-MM-DD", help="simulated date (default today, UTC)")
    serve.add_argument("--seed", type=int, default=0, help="seed of every generated reply (default 0)")
    serve.add_argument("--scenario", dest="scenarios", action="append", default=[], metavar="FILE", help="load a scenario file (repeatable)")
    serve.add_argument("--rpm", type=int, default=None, help="requests per minute per key and model")
    serve.add_argument("--tpm", type=int, default=None, help="tokens per minute per key and model")
    serve.add_argument("--api-key", default=None, help="require this API key (OpenAI's 401 otherwise)")
    serve.add_argument("--admin-token", default=None, help="require this bearer token on /_mockai/ requests")
    serve.add_argument("--real-time", action="store_true", help="use the wall clock for `created` (default: derived from the request)")
    serve.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])

    check = sub.add_parser("check", help="validate scenario files; exit 1 if any has a mistake")
    check.add_argument("files", nargs="+", metavar="FILE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return serve(args)
        return check(args.files)
    except MockAIError as exc:
        print(f"mockai: {exc}", file=sys.stderr)
        return 2


def serve(args: Any) -> int:
    import uvicorn

    from mockai.app import create_app
    from mockai.responses import quiet_scripted_cuts
    from mockai.server import bind, uvicorn_config
    from mockai.state import MockState, Settings

    settings = Settings(
        host=args.host,
        port=args.port,
        as_of=args.as_of,
        seed=args.seed,
        scenarios=tuple(args.scenarios),
        rpm=args.rpm,
        tpm=args.tpm,
        api_key=args.api_key,
        admin_token=args.admin_token,
        real_time=args.real_time,
    )
    state = MockState.from_settings(settings)
    if not _is_loopback(args.host):
        print(f"mockai: warning: listening on {args.host}, reachable from other machines; it is a test double with no real auth.", file=sys.stderr)
    sock = bind(args.host, args.port)
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # SIGINT/SIGTERM mean "stop serving": exit 0, without uvicorn re-raising the signal.
            def stop(*_: object) -> None:
                self.should_exit = True

            previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            print(f"mockai {__version__} serving http://{host}:{port}/v1 (as of {state.as_of}, seed {state.seed})", flush=True)

    quiet_scripted_cuts()
    Server(uvicorn_config(create_app(state), args.log_level)).run(sockets=[sock])
    return 0


def check(files: Sequence[str]) -> int:
    from mockai.scenarios import check_files

    problems = check_files(files)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"mockai check: {len(problems)} problem(s) in {len(files)} file(s)", file=sys.stderr)
        return 1
    print(f"mockai check: {len(files)} file(s) OK")
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
