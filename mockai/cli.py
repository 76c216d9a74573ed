"""`mockai serve` and `mockai check`: the command line."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import signal
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from mockai import settings as settings_
from mockai.errors import MockAIError, UsageError
from mockai.version import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockai", description="A local, offline, deterministic double of the OpenAI API."
    )
    parser.add_argument("--version", action="version", version=f"mockai {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server until Ctrl-C or SIGTERM")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    serve.add_argument(
        "--as-of",
        dest="as_of",
        default=None,
        metavar="YYYY-MM-DD",
        help="simulated date (default today, UTC)",
    )
    serve.add_argument("--seed", type=int, default=None, help="seed of every generated reply (default 0)")
    serve.add_argument(
        "--strict", action="store_true", help="a call no rule matches gets a 400 naming the nearest rule"
    )
    serve.add_argument(
        "--scenario",
        dest="scenarios",
        action="append",
        default=[],
        metavar="FILE",
        help="load a scenario file (repeatable)",
    )
    serve.add_argument(
        "--watch",
        action="store_true",
        help="reload the scenario files when they change (checked once a second)",
    )
    serve.add_argument(
        "--scenario-dir",
        default=None,
        metavar="DIR",
        help="folder that PUT /_mockai/scenario?file=NAME may load from",
    )
    serve.add_argument("--rpm", type=int, default=None, help="requests per minute per key and model")
    serve.add_argument("--tpm", type=int, default=None, help="tokens per minute per key and model")
    serve.add_argument("--api-key", default=None, help="require this API key (OpenAI's 401 otherwise)")
    serve.add_argument("--admin-token", default=None, help="require this bearer token on /_mockai/ requests")
    serve.add_argument(
        "--real-time",
        action="store_true",
        help="use the wall clock for `created` (default: derived from the request)",
    )
    serve.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )
    rec = serve.add_argument_group(
        "record and replay", "serve /v1/... from a cassette, or record one through an upstream"
    )
    rec.add_argument(
        "--cassette",
        default=None,
        metavar="PATH",
        help="cassette file (JSON lines; a vcrpy .yaml replays too)",
    )
    rec.add_argument(
        "--record",
        action="store_true",
        help="forward every request to --upstream and record it (same as --record-mode all)",
    )
    rec.add_argument(
        "--record-mode",
        default=None,
        metavar="MODE",
        help="all | new_episodes | none | once (default none: replay only)",
    )
    rec.add_argument(
        "--upstream",
        default=None,
        metavar="URL",
        help="base URL to record from, e.g. https://api.openai.com/v1",
    )
    rec.add_argument(
        "--upstream-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="give up on the upstream after this long (default 600)",
    )
    rec.add_argument(
        "--replay-speed",
        default=None,
        metavar="SPEED",
        help="fast | realtime: replay streams at once or at recorded speed (default fast)",
    )
    rec.add_argument(
        "--match-ignore",
        action="append",
        default=None,
        metavar="FIELD",
        help="body field (dotted path) left out of matching; repeatable; replaces the default: user",
    )
    rec.add_argument(
        "--scrub-header",
        action="append",
        default=[],
        metavar="NAME",
        help="also redact this header in cassettes (repeatable)",
    )
    rec.add_argument(
        "--scrub-field",
        action="append",
        default=[],
        metavar="NAME",
        help="also redact this JSON field in cassettes (repeatable)",
    )

    check = sub.add_parser("check", help="validate scenario files; exit 1 if any has a mistake")
    check.add_argument("files", nargs="+", metavar="FILE")

    env = sub.add_parser(
        "env", help="print the exports that point a shell's OpenAI clients (and tiktoken) at a mockai server"
    )
    env.add_argument("--host", default="127.0.0.1", help="the server's address (default 127.0.0.1)")
    env.add_argument("--port", type=int, default=8000, help="the server's port (default 8000)")

    convert = sub.add_parser(
        "import-vcr", help="convert a vcrpy / pytest-recording YAML cassette into a mockai cassette"
    )
    convert.add_argument("source", metavar="IN.yaml")
    convert.add_argument("target", metavar="OUT.jsonl")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return serve(args)
        if args.command == "import-vcr":
            return import_vcr(args.source, args.target)
        if args.command == "env":
            return env(args.host, args.port)
        return check(args.files)
    except MockAIError as exc:
        print(f"mockai: {str(exc).removeprefix('mockai: ')}", file=sys.stderr)
        return 2


def serve(args: Any) -> int:
    from mockai.server.runner import Server as MockServer, bind, create_app, uvicorn_config
    from mockai.server.state import MockState
    from mockai.wire import quiet_scripted_cuts

    values = {
        "host": args.host,
        "port": args.port,
        "as_of": args.as_of,
        "seed": args.seed,
        "strict": args.strict or None,
        "scenarios": tuple(args.scenarios),
        "watch": args.watch or None,
        "scenario_dir": args.scenario_dir,
        "rpm": args.rpm,
        "tpm": args.tpm,
        "api_key": args.api_key,
        "admin_token": args.admin_token,
        "real_time": args.real_time or None,
        "cassette": args.cassette,
        "record_mode": args.record_mode or ("all" if args.record else None),
        "upstream": args.upstream,
        "upstream_timeout": args.upstream_timeout,
        "replay_speed": args.replay_speed,
        "match_ignore": tuple(args.match_ignore) if args.match_ignore is not None else None,
        "scrub_headers": tuple(args.scrub_header),
        "scrub_fields": tuple(args.scrub_field),
    }
    settings = settings_.merge(values, settings_.flag)
    state = MockState.from_settings(settings)
    if state.cassette is not None:
        print(f"mockai: {state.cassette.describe()}", file=sys.stderr)
    if not _is_loopback(settings.host):
        print(
            f"mockai: warning: listening on {settings.host}, reachable from other machines; "
            "it is a test double with no real auth.",
            file=sys.stderr,
        )
    try:
        sock = bind(settings.host, settings.port)
    except OSError as exc:
        state.eject()
        raise UsageError(
            f"cannot listen on {settings.host}:{settings.port} ({exc.strerror or exc}): is another server "
            "using "
            "that port? Pick another with --port N, or --port 0 for a free one."
        ) from None
    port = sock.getsockname()[1]
    host = f"[{settings.host}]" if ":" in settings.host else settings.host

    class Server(MockServer):
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
            print(
                f"mockai {__version__} serving http://{host}:{port}/v1 (as of {state.as_of}, seed "
                f"{state.seed})",
                flush=True,
            )

    quiet_scripted_cuts()
    Server(uvicorn_config(create_app(state), args.log_level), state).run(sockets=[sock])
    return 0


def env(host: str, port: int) -> int:
    """`eval "$(mockai env)"`: OPENAI_BASE_URL and OPENAI_API_KEY for a server on host:port, and a
    TIKTOKEN_CACHE_DIR (written now from mockai's vocabularies) so client-side tiktoken works offline."""
    import shlex

    from mockai.models.tiktoken_cache import write_cache
    from mockai.testing.mock import API_KEY

    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{settings_.check('port', port, '--port')}/v1"
    exports = {
        "OPENAI_BASE_URL": url,
        "OPENAI_API_BASE": url,
        "OPENAI_API_KEY": API_KEY,
        "TIKTOKEN_CACHE_DIR": str(write_cache()),
    }
    for name, value in exports.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


def import_vcr(source: str, target: str) -> int:
    from mockai.recording.cassette import import_vcr as convert

    try:
        n = convert(source, target)
    except OSError as exc:
        print(f"mockai import-vcr: {exc}", file=sys.stderr)
        return 2
    print(f"mockai import-vcr: wrote {n} interaction(s) from {source} to {target}")
    return 0


def check(files: Sequence[str]) -> int:
    from mockai.scenario.files import scenario_paths
    from mockai.scenario.lint import check_files

    problems = check_files(files)
    count = len(scenario_paths(files))
    if count == 0:
        print(
            f"mockai check: no scenario files (*.yaml, *.yml, *.json) in {' '.join(files)}", file=sys.stderr
        )
        return 1
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"mockai check: {len(problems)} problem(s) in {count} file(s)", file=sys.stderr)
        return 1
    print(f"mockai check: {count} file(s) OK")
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
