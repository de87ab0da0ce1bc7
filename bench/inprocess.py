#!/usr/bin/env python3
"""The request path's own cost, without a server: the docs' sample POST through the WSGI app.

    python3 bench/inprocess.py                # CPU microseconds per request (best of 5 rounds)
    python3 bench/inprocess.py --profile      # and where they go (cProfile, top functions)
    python3 bench/inprocess.py --log          # with the per-request log line on (to /dev/null)

The state is what production mode uses (a SQLite file, journal on); a server adds its own cost on top.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import BODY, HEADERS, PATH  # noqa: E402


def environ() -> dict[str, Any]:
    body = BODY.encode()
    env: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": PATH,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1:8080",
    }
    for name, value in HEADERS.items():
        key = name.upper().replace("-", "_")
        env[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    env["_body"] = body
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000, help="per round (default 5000)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--log", action="store_true", help="log each request, as serve without --quiet does")
    parser.add_argument("--journal-size", type=int, default=1000, help="0: journal off")
    args = parser.parse_args()

    from mockserver.app import create_app
    from mockserver.config import load_config
    from mockserver.logsafe import configure_logging
    from mockserver.state import MockState
    from mockserver.store import open_store

    with tempfile.TemporaryDirectory() as workdir, open("/dev/null", "w") as devnull:
        sys.stderr, stderr = devnull, sys.stderr
        configure_logging(quiet=not args.log)
        sys.stderr = stderr
        config = load_config(ROOT / "openapi.yaml", ROOT / "scenarios", None)
        state = MockState(config, store=open_store(f"sqlite://{workdir}/state.db", args.journal_size))
        app = create_app(config=config, state=state)
        template = environ()
        body = template.pop("_body")
        statuses: list[str] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            statuses.append(status)

        def one() -> None:
            env = dict(template)
            env["wsgi.input"] = io.BytesIO(body)
            b"".join(app(env, start_response))

        for _ in range(500):
            one()
        assert statuses[-1].startswith("201"), statuses[-1]
        rounds = []
        for _ in range(5):
            started = time.process_time()
            for _ in range(args.requests):
                one()
            rounds.append((time.process_time() - started) / args.requests * 1e6)
        print(f"{min(rounds):.1f} us per request (rounds: {', '.join(f'{r:.1f}' for r in rounds)})")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.requests):
                one()
            profiler.disable()
            stats = pstats.Stats(profiler)
            print(f"{stats.total_calls / args.requests:.0f} function calls per request")  # type: ignore[attr-defined]
            stats.sort_stats("tottime").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
