"""The `mockserver` command: `serve` the mock, `check` the spec and scenarios."""

from __future__ import annotations

import contextlib
import errno
import functools
import ipaddress
import re
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from .app import create_app
from .bundle import as_one_document
from .config import DEFAULT_MAX_BODY_SIZE, MockConfig, load_config
from .contract import (
    CHECKS,
    DEFAULT_MAX_EXAMPLES,
    ENV_PREFIX,
    FILTERS,
    PHASES,
    REPORT_FORMATS,
    ContractRun,
    OperationFilter,
    env_headers,
    known_names,
    parse_report,
    run_contract,
    selected,
    usable_links,
)
from .coverage import coverage, outside, sent_bodies, table_lines, uncovered
from .diff import BREAKING, diff_specs, render_json, render_text
from .errors import ConfigError, unexpected_problem
from .forwarder import DEFAULT_TIMEOUT, Forwarder, Upstream, check_url
from .forwarder.recorder import Recorder
from .logsafe import configure_logging, escape_control_chars
from .reload import Reloader
from .server import Server
from .server.workers import serve_forked
from .spec import load_spec
from .state import MockState
from .store import DEFAULT_MAX_ITEMS, Store, open_store

EXIT_DRIFT = 1  # `check` found problems
EXIT_USAGE = 2  # the command cannot run: bad files, busy port, bad options

_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)
_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "ki": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "mi": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1024**3,
    "gi": 1024**3,
}


class ByteSize(click.ParamType):
    name = "size"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        m = _SIZE.match(str(value))
        if not m:
            self.fail(f"{value!r} is not a size such as 1048576, 512KiB or 2MiB", param, ctx)
        return int(m.group(1)) * _UNITS[(m.group(2) or "").lower()]


spec_option = click.option(
    "--spec",
    type=click.Path(path_type=Path),
    default=Path("openapi.yaml"),
    show_default=True,
    help="The OpenAPI 3.x document (the contract).",
)
scenarios_option = click.option(
    "--scenarios",
    "scenarios_dir",
    type=click.Path(path_type=Path),
    default=Path("scenarios"),
    show_default=True,
    help="Directory of scenario files.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="mockserver")
def main() -> None:
    """Contract-first mock and contract-testing server for an OpenAPI 3.x spec.

    \b
    Examples:
      mockserver serve                           # ./openapi.yaml and ./scenarios on 127.0.0.1:8080
      mockserver serve --scenario rate-limited   # every request answers 429
      mockserver check                           # exit 1 if the spec or a scenario is broken
      mockserver contract --url https://staging.example.com --report junit=reports/junit.xml
    """


@main.command()
@spec_option
@scenarios_option
@click.option("--scenario", default=None, help="The active scenario (default: success).")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind; the default keeps the mock on this machine.",
)
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to bind; 0 picks a free one and prints it.",
)
@click.option(
    "--max-body-size",
    type=ByteSize(),
    default=DEFAULT_MAX_BODY_SIZE,
    show_default="1MiB",
    help="Larger request bodies get 413, e.g. 512KiB, 2MiB.",
)
@click.option(
    "--request-timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds a request (headers and body) or an idle connection may take before it is dropped.",
)
@click.option(
    "--journal-size",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    help="Requests kept for GET /__mock/journal (0: keep none).",
)
@click.option(
    "--max-items",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_ITEMS,
    show_default=True,
    help="Items a stateful scenario keeps per collection and partition (Brand-URL); the oldest written go first.",
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    default=("*",),
    show_default=True,
    help="Origins whose pages may call the mocked API (for /__mock/ see --admin-origin); repeatable. "
    "'none' turns CORS off.",
)
@click.option(
    "--reload/--no-reload", default=True, show_default=True, help="Apply edits to the spec and scenarios while serving."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Serve with N processes sharing the port and the state (--state). Without it: one process.",
)
@click.option(
    "--state",
    "state_url",
    default=None,
    metavar="URL",
    help="Where counters, windows, items, the journal and runtime choices live: memory (one process), "
    "sqlite:///PATH (default with --workers: a temporary file), redis://HOST:PORT/DB (several instances).",
)
@click.option(
    "--admin-token",
    envvar="MOCKSERVER_ADMIN_TOKEN",
    default=None,
    help="Require this token for the dashboard and admin API under /__mock/ "
    "(env MOCKSERVER_ADMIN_TOKEN; advised with a --host beyond loopback).",
)
@click.option(
    "--admin-origin",
    "admin_origins",
    multiple=True,
    metavar="ORIGIN",
    help="A web origin (e.g. http://localhost:3000) whose pages may call the admin API; repeatable. "
    "Without it, pages on other origins can neither read nor change anything under /__mock/.",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="A Host name the dashboard and admin API answer to besides loopback ones and the bound address "
    "(a guard against DNS rebinding); repeatable, '*' for any.",
)
@click.option(
    "--upstream",
    default=None,
    metavar="URL",
    help="Proxy to the real API at URL: requests no Prefer, rule, fault or expectation answers are "
    "forwarded, and both directions are checked against the spec.",
)
@click.option(
    "--upstream-timeout",
    type=click.FloatRange(min=0.1),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds to wait for the upstream (to connect, and between bytes) before a 504.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Hold everything to the contract: refuse to start on a spec with warnings (invalid examples or "
    "defaults, references not followed), as check does; with --upstream, also refuse invalid requests "
    "instead of forwarding them, and answer a response that breaks the contract with a 502.",
)
@click.option(
    "--mock-operation",
    "mock_operations",
    multiple=True,
    metavar="ID",
    help="With --upstream: always answer this operation (operationId) from the mock; repeatable.",
)
@click.option(
    "--record",
    "record_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    metavar="DIR",
    help="With --upstream: write each distinct exchange (operation and status) as a scenario file that "
    "replays it (serve --scenarios DIR).",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the bodies generated where the spec has no example: the same seed, the same bodies.",
)
@click.option("--quiet", is_flag=True, help="Do not log each request.")
def serve(
    spec: Path,
    scenarios_dir: Path,
    scenario: str | None,
    host: str,
    port: int,
    max_body_size: int,
    request_timeout: float,
    journal_size: int,
    max_items: int,
    cors_origins: tuple[str, ...],
    reload: bool,
    workers: int | None,
    state_url: str | None,
    admin_token: str | None,
    admin_origins: tuple[str, ...],
    allowed_hosts: tuple[str, ...],
    upstream: str | None,
    upstream_timeout: float,
    strict: bool,
    mock_operations: tuple[str, ...],
    record_dir: Path | None,
    seed: int,
    quiet: bool,
) -> None:
    """Serve the mock until interrupted.

    \b
    Examples:
      mockserver serve
      mockserver serve --port 4010 --scenario forbidden
      mockserver serve --spec api/openapi.yaml --scenarios api/scenarios --host 0.0.0.0
      mockserver serve --workers 2 --quiet                       # load tests: 2 processes, shared state
      mockserver serve --workers 2 --state redis://10.0.0.5:6379/0   # one of several instances
      mockserver serve --upstream https://staging.example.com        # a validating proxy
      mockserver serve --upstream https://staging.example.com --record recorded/   # then: --scenarios recorded/
      curl -i -X POST http://127.0.0.1:8080/api/v1/app-integrations/smtp \\
           -H 'Auth-Key: my-key' -H 'Brand-URL: your-domain.com' -H 'X-Mock-Scenario: forbidden'
    """
    configure_logging(quiet)
    load = functools.partial(
        load_config, spec, scenarios_dir, scenario, max_body_size, remember_valid=True, strict=strict, seed=seed
    )
    config = _load_or_exit(load, spec)
    _warn(config)
    forwarder = _forwarder_or_exit(config, upstream, upstream_timeout, strict, mock_operations, record_dir)
    origins = () if cors_origins == ("none",) else cors_origins
    with _shared_state_url(state_url, workers) as url:
        state = MockState(config, store=_open_store_or_exit(url, journal_size, max_items), forwarder=forwarder)
        app = create_app(
            config=config,
            cors_origins=origins,
            state=state,
            admin_token=admin_token,
            host=host,
            allowed_hosts=allowed_hosts,
            admin_origins=admin_origins,
        )
        if not admin_token and not _is_loopback(host):
            click.echo(
                f"warning: bound to {host} without --admin-token: anyone who can reach this port can use the "
                "dashboard and admin API at /__mock/",
                err=True,
            )
        reloader = Reloader(state, load, spec, scenarios_dir) if reload else None
        listener = _listen_or_exit(host, port)
        bound_host, bound_port = str(listener.getsockname()[0]), int(listener.getsockname()[1])
        url_host, elsewhere = _url_hosts(bound_host)
        operations = len(config.spec.operations)

        def announce() -> None:
            if not operations:
                click.echo(f"mockserver: {spec} has no operations to serve (webhooks only); every request gets 404")
            click.echo(
                f"mockserver: serving {spec} ({operations} operation{'s' * (operations != 1)}, "
                f"scenarios: {config.scenario_names()}; active: {config.default_scenario.name}"
                f"{f'; {workers} workers, state {url}' if workers else ''}) at http://{url_host}:{bound_port}",
                nl=True,
            )
            if forwarder is not None:
                click.echo(f"mockserver: proxying to {forwarder.upstream.shown}{' (strict)' * strict}")
            click.echo(f"mockserver: dashboard and admin API at http://{url_host}:{bound_port}/__mock/")
            if elsewhere:
                click.echo(
                    f"mockserver: bound to every interface; from other machines: http://{elsewhere}:{bound_port}"
                )
            sys.stdout.flush()

        def serve_on(sock: socket.socket) -> None:
            server = Server(
                app.wsgi_app,  # the fast lane itself: Flask's __call__ only calls it
                sock,
                request_timeout,
                max_body_size,
                # On the loop unless a request may wait on the network: SQLite calls take microseconds (on the
                # loop, --workers 2: 7.1-8.6k req/s, p99 14-19 ms; in the thread pool: 6.7-7.0k, p99 37-38 ms)
                app_blocks=url.startswith(("redis://", "rediss://", "unix://")) or forwarder is not None,
            )
            try:
                server.serve_forever()
            finally:
                server.server_close()
                state.store.close()  # writes out the journal this process still buffers

        with contextlib.suppress(KeyboardInterrupt):
            if workers:
                serve_forked(serve_on, listener, workers, announce, reloader.start if reloader else None)
                return
            if reloader:
                reloader.start()
            announce()
            serve_on(listener)


def _forwarder_or_exit(
    config: MockConfig,
    upstream: str | None,
    timeout: float,
    strict: bool,
    mock_operations: tuple[str, ...],
    record_dir: Path | None,
) -> Forwarder | None:
    """The proxy `serve --upstream` asks for, or one line on stderr and exit 2."""
    problem = None
    if upstream is None:
        if mock_operations or record_dir:
            problem = "--mock-operation and --record need --upstream URL"
    else:
        problem = check_url(upstream)
        unknown = [name for name in mock_operations if config.spec.operation(name) is None]
        if unknown and not problem:
            known = ", ".join(op.operation_id for op in config.spec.operations)
            problem = f"--mock-operation {', '.join(unknown)}: no such operation (known: {known})"
    if problem:
        click.echo(f"error: {problem}", err=True)
        sys.exit(EXIT_USAGE)
    if upstream is None:
        return None
    mocked = frozenset(op.operation_id for name in mock_operations if (op := config.spec.operation(name)))
    settings = Upstream(upstream, timeout, strict, mocked, record_dir)
    return Forwarder(settings, Recorder(record_dir) if record_dir else None)


def _url_hosts(bound: str) -> tuple[str, str | None]:
    """The host to print in URLs a person can open, and for a bind to every interface (0.0.0.0, ::),
    the name other machines reach this one by: `http://0.0.0.0:8080` opens nothing anywhere."""
    address = ipaddress.ip_address(bound)
    if address.is_unspecified:
        return ("[::1]" if address.version == 6 else "127.0.0.1"), socket.gethostname()
    return (f"[{bound}]" if address.version == 6 else bound), None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def _shared_state_url(url: str | None, workers: int | None) -> Iterator[str]:
    """The store URL to serve with; several workers without one share a temporary SQLite file."""
    if url == "memory" and workers:
        click.echo(
            "error: --state memory keeps state in one process; with --workers use sqlite:// or redis://", err=True
        )
        sys.exit(EXIT_USAGE)
    if url or not workers:
        yield url or "memory"
        return
    with tempfile.TemporaryDirectory(prefix="mockserver-") as directory:
        yield f"sqlite://{Path(directory) / 'state.db'}"


def _open_store_or_exit(url: str, journal_size: int, max_items: int) -> Store:
    try:
        return open_store(url, journal_size, max_items)
    except Exception as exc:  # a bad URL, an unreachable Redis, an unwritable file: one line, exit 2
        click.echo(f"error: --state {url}: {exc}", err=True)
        sys.exit(EXIT_USAGE)


@main.command()
@spec_option
@scenarios_option
def check(spec: Path, scenarios_dir: Path) -> None:
    """The drift gate: spec, examples and scenarios agree, and every documented status is produced.

    Validates the spec (structure, every $ref, every example against its schema) and every
    scenario against it, then prints which scenarios produce each documented status. Exit 1
    naming file, line, field and reason on any drift.

    \b
    Examples:
      mockserver check
      mockserver check --spec api/openapi.yaml --scenarios api/scenarios
    """
    try:
        config = load_config(spec, scenarios_dir, strict=True)
        table = coverage(config)
        drift = [*uncovered(config, table), *sent_bodies(config, table)]
    except ConfigError as exc:
        drift = exc.problems
    else:
        click.echo(
            f"{spec}: {len(config.spec.operations)} operations; {scenarios_dir}: {len(config.scenarios)} scenarios "
            f"({config.scenario_names()})\n"
        )
        for line in table_lines(table):
            click.echo(line)
        if outside(config):
            click.echo(f"\noutside the contract on purpose (left out of coverage): {', '.join(outside(config))}")
    if drift:
        for problem in drift:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"check failed: {len(drift)} problem{'s' * (len(drift) != 1)}", err=True)
        sys.exit(EXIT_DRIFT)
    click.echo("\nok: the spec, its examples and every scenario agree; every documented status is produced")


MAX_WARNINGS_SHOWN = 20


def _warn(config: MockConfig) -> None:
    """The spec's warnings, on stderr: what the mock serves through (generating instead)."""
    warnings = config.spec.warnings
    for problem in warnings[:MAX_WARNINGS_SHOWN]:
        click.echo(f"warning: {escape_control_chars(str(problem))}", err=True)
    if len(warnings) > MAX_WARNINGS_SHOWN:
        click.echo(f"warning: ... and {len(warnings) - MAX_WARNINGS_SHOWN} more (mockserver check lists all)", err=True)
    if warnings:
        click.echo(
            f"mockserver: {len(warnings)} warning{'s' * (len(warnings) != 1)} in the spec; the responses concerned "
            "are generated from their schemas (serve --strict refuses to start)",
            err=True,
        )


def _load_or_exit(load: Callable[[], MockConfig], spec: Path) -> MockConfig:
    """The configuration, or one line per problem (`error: FILE: reason`) and exit 2."""
    try:
        return load()
    except ConfigError as exc:
        problems = exc.problems
    except Exception as exc:  # the loaders name the file for what they meet; the rest is built from the spec
        problems = [unexpected_problem(spec, exc)]
    for problem in problems:
        click.echo(f"error: {escape_control_chars(str(problem))}", err=True)
    sys.exit(EXIT_USAGE)


def _listen_or_exit(host: str, port: int) -> socket.socket:
    """Bind before building the server, so a busy port is one clear line and not werkzeug's exit."""
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listener = socket.socket(info[0], socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(info[4])
        listener.listen(128)
    except OSError as exc:
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        click.echo(f"error: cannot listen on {host}:{port}: {reason}", err=True)
        sys.exit(EXIT_USAGE)
    listener.set_inheritable(True)
    return listener


def _split_csv(values: tuple[str, ...]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def operation_filter_options(command: Callable[..., None]) -> Callable[..., None]:
    """--include-operation-id, --include-path, --include-method and their --exclude- twins, repeatable."""
    for include in (False, True):
        for kind in reversed(FILTERS):
            verb = "include" if include else "exclude"
            command = click.option(
                f"--{verb}-{kind}",
                f"{verb}_{kind.replace('-', '_')}",
                multiple=True,
                metavar=kind.split("-")[-1].upper(),
                help=f"{verb.capitalize()} operations with this {kind.replace('-', ' ')}; repeatable"
                + (" (e.g. only what is deployed)." if include and kind == "operation-id" else "."),
            )(command)
    return command


@main.command()
@click.option(
    "--url", required=True, help="Base URL of the server under test (the real API, a staging copy, the mock)."
)
@spec_option
@click.option(
    "-H",
    "--header",
    "headers",
    multiple=True,
    metavar="'NAME: VALUE'",
    help="A header for every request; repeatable. The spec's auth headers may come from the "
    f"environment instead ({ENV_PREFIX}AUTH_KEY for Auth-Key, {ENV_PREFIX}BRAND_URL for Brand-URL).",
)
@click.option(
    "--checks",
    multiple=True,
    default=("all",),
    show_default=True,
    help=f"Comma-separated schemathesis checks; 'all' runs every check that applies ({', '.join(CHECKS)}).",
)
@click.option("--exclude-checks", multiple=True, help="Comma-separated checks to skip.")
@click.option(
    "--max-examples",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_EXAMPLES,
    show_default=True,
    help="Test cases per operation and phase: the run's size.",
)
@click.option(
    "--max-time",
    type=click.FloatRange(min=1),
    default=None,
    help="A time budget in seconds; fuzzing repeats until it is spent.",
)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Concurrent workers.")
@click.option("--seed", type=int, default=None, help="Seed for a reproducible run.")
@click.option("--phases", multiple=True, help=f"Comma-separated: {', '.join(PHASES)} (default: all).")
@click.option(
    "--report",
    "reports",
    multiple=True,
    metavar="FORMAT=PATH",
    help=f"Write a report, e.g. junit=reports/junit.xml; repeatable ({', '.join(REPORT_FORMATS)}; "
    "allure and html write a folder).",
)
@operation_filter_options
@click.option(
    "--show-secrets",
    is_flag=True,
    help="Print keys and generated passwords in the failures' curl commands instead of [Filtered].",
)
def contract(
    url: str,
    spec: Path,
    headers: tuple[str, ...],
    checks: tuple[str, ...],
    exclude_checks: tuple[str, ...],
    max_examples: int,
    max_time: float | None,
    workers: int,
    seed: int | None,
    phases: tuple[str, ...],
    reports: tuple[str, ...],
    show_secrets: bool,
    **filter_values: tuple[str, ...],
) -> None:
    """Fuzz a running server against the spec; exit 0 conformant, 1 violations, 2 unusable.

    Each failure is printed with what was violated and a curl command that reproduces it; a
    summary per check follows. Pointed at this mock, it says which scenario makes ignored_auth
    meaningful and skips that check where the answering scenario accepts any key.

    \b
    Examples:
      mockserver contract --url http://127.0.0.1:8080
      MOCKSERVER_AUTH_KEY=... MOCKSERVER_BRAND_URL=your-domain.com \\
        mockserver contract --url https://protocol.jframework.io --report junit=reports/junit.xml
      mockserver contract --url http://127.0.0.1:8080 -H 'X-Mock-Scenario: restricted' \\
        -H 'Auth-Key: demo-key-alice' -H 'Brand-URL: acme.example' --seed 1 --max-examples 500
      mockserver contract --url https://staging.example.com --include-operation-id createSmtpIntegration
    """
    try:
        loaded = load_spec(spec)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(EXIT_USAGE)
    filters = [
        OperationFilter(include=name.startswith("include"), kind=name.split("_", 1)[1].replace("_", "-"), value=value)
        for name, values in filter_values.items()
        for value in values
    ]
    operations = [(op.operation_id, op.method, op.path) for op in loaded.operations]
    if filters and not selected(operations, filters):
        known = ", ".join(f"{op_id} ({method} {path})" for op_id, method, path in operations)
        raise click.UsageError(f"the operation filters select none of {spec}'s operations: {known}")
    try:
        parsed_reports = [parse_report(r) for r in reports]
        chosen_checks = known_names("--checks", _split_csv(checks), (*CHECKS, "all"), "check")
        excluded_checks = known_names("--exclude-checks", _split_csv(exclude_checks), CHECKS, "check")
        chosen_phases = known_names("--phases", _split_csv(phases), PHASES, "phase")
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    explicit: dict[str, str] = {}
    for header in headers:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise click.UsageError(f"--header takes 'NAME: VALUE', got {header!r}")
        explicit[name.strip()] = value.strip()
    declared = loaded.header_names()
    from_env = {k: v for k, v in env_headers(declared).items() if k.lower() not in {n.lower() for n in explicit}}
    run = ContractRun(
        spec=spec,
        url=url.rstrip("/"),
        headers={**from_env, **explicit},
        checks=chosen_checks,
        exclude_checks=excluded_checks,
        max_examples=max_examples,
        max_time=max_time,
        workers=workers,
        seed=seed,
        phases=chosen_phases,
        reports=parsed_reports,
        filters=filters,
        show_secrets=show_secrets,
        key_header=next((s.parameter for s in loaded.schemes.values() if s.location == "header"), None),
    )
    with as_one_document(spec, bool(loaded.document.included)) as whole, usable_links(whole) as (usable, pruned):
        for link in pruned:  # schemathesis would stop the whole run on any of them
            click.echo(f"note: left out of the stateful phase: {link}")
        run.spec = usable  # schemathesis reads one file
        code = run_contract(run)
    sys.exit(code)


@main.command()
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def diff(old: Path, new: Path, output: str) -> None:
    """Breaking changes from OLD to NEW spec; exit 1 if anything breaks clients, 0 otherwise.

    Follows the platform's compatibility promises: removed paths, operations, responses or
    response properties break; so do request properties newly required or newly constrained,
    changed types and newly required headers. A response enum gaining a value is a warning.

    \b
    Examples:
      mockserver diff old/openapi.yaml openapi.yaml
      git show origin/main:openapi.yaml > /tmp/main.yaml && mockserver diff /tmp/main.yaml openapi.yaml
      mockserver diff /tmp/main.yaml openapi.yaml --format json
    """
    specs = []
    for path in (old, new):
        try:
            specs.append(load_spec(path))
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            sys.exit(EXIT_USAGE)
    changes = diff_specs(specs[0], specs[1])
    if output == "json":
        click.echo(render_json(changes))
    else:
        for line in render_text(changes):
            click.echo(line)
    sys.exit(EXIT_DRIFT if any(c.level == BREAKING for c in changes) else 0)
