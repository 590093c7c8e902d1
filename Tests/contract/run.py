#!/usr/bin/env python3
"""`make contract`: schemathesis against a live bet-maker, once as the administrator, once as the player.

Each pass starts its own stack and stops it again, so the passes cannot disturb each other and every
pass begins from the same seeded store:

- a private redis-server on a free loopback port, its files in a temporary directory;
- the real betmaker-api and betmaker-worker from the products folder (`swift build` puts them in
  .build/debug);
- `betmaker-api seed` (outside development mode, so with the passwords of `SETTINGS`): the
  administrator admin, the player demo with 1000.00, three open catalogue events;
- a login as that pass's user, whose bearer token schemathesis sends with every request;
- `schemathesis run --checks all` against the served /openapi.json, every phase: examples, coverage,
  fuzzing and stateful (scenarios that follow the document's links, e.g. `POST /bets` then
  `GET /bets/{id}`);
- then more stateful rounds, each with a seed of its own: Hypothesis ends a stateful run as soon as a
  replayed scenario draws differently, which against a server with state (an event created twice is
  a 409 the second time) happens after some ten scenarios, so one run reaches few links. A pass fails
  if the stateful phase ran no scenario at all.
- schemathesis loads `hooks.py`, which binds each valid `Idempotency-Key` it sends to its payload, as
  the IETF draft asks of a client (decision 0276).

Runs are reproducible: a fixed seed (and one per stateful round), hypothesis's deterministic mode in
the full run, no example database and no schemathesis cache, one schemathesis worker. Each pass is bounded by `--max-examples` and killed after
`--timeout` seconds. Exits 0 only when every pass ended without a failure. Only the standard library
is used besides schemathesis, so the virtual environment that holds schemathesis runs this script.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Settings of the processes under test: a real configuration (no DEVELOPMENT_MODE), every feature on.
# bcrypt at its lowest allowed cost, and client buckets no run empties, because schemathesis logs in,
# registers and plays often, all from one address (the limits have end-to-end tests of their own).
SETTINGS = {
    "JWT_SECRET": "contract-test-secret-of-at-least-thirty-two-bytes",
    "PAYMENT_WEBHOOK_SECRET": "contract-test-payment-provider-secret",
    "RESULTS_API_KEY": "contract-test-results-key",
    "BCRYPT_COST": "10",
    "LOG_LEVEL": "warning",
    "AUTH_RATE_PER_MINUTE": "100000",
    "AUTH_RATE_BURST": "100000",
    "PLAYS_RATE_PER_MINUTE": "100000",
    "PLAYS_RATE_BURST": "100000",
    # The seed's passwords (outside development mode it refuses the published demo ones).
    "SEED_ADMIN_PASSWORD": "contract-admin-password",
    "SEED_PLAYER_PASSWORD": "contract-player-password",
    "SEED_TRADER_PASSWORD": "contract-trader-password",
}

# Who each pass logs in as: the users `betmaker-api seed` creates.
USERS = {
    "admin": ("admin", SETTINGS["SEED_ADMIN_PASSWORD"]),
    "player": ("demo", SETTINGS["SEED_PLAYER_PASSWORD"]),
}

# schemathesis's environment: hooks.py binds each Idempotency-Key it sends to its payload, as the IETF
# draft asks of a client (a key reused with another payload is 422; see hooks.py).
SCHEMATHESIS_ENVIRONMENT = {**os.environ, "SCHEMATHESIS_HOOKS": str(ROOT / "Tests" / "contract" / "hooks.py")}

# Settings, written to a schemathesis.toml for the run. No check is left out or widened.
CONFIG = """
# The web UI's live stream stays open until the server stops: each answer is read for at most two
# seconds or two events (the price feed ticks every second), whose data is checked against the
# document's event schemas; a few examples are enough for an operation without a body.
[[operations]]
include-name = "GET /ui/stream"
request-timeout = 2
max-stream-events = 2
generation.max-examples = 10

# Scenarios of up to ten calls, each taking ids from an earlier answer through the document's links.
[phases.stateful]
max-steps = 10
"""


def log(message: str) -> None:
    print(f"contract: {message}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Stack:
    """Redis, the API and the worker of one pass; `stop()` ends whatever was started."""

    def __init__(self, products: Path, directory: Path) -> None:
        self.products = products
        self.directory = directory
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.redis_url = ""
        self.base_url = ""
        # Where the API answers /health/* and /metrics (its operations port).
        self.operations_url = ""

    def start(self) -> None:
        redis_port = self._start_redis()
        self.redis_url = f"redis://127.0.0.1:{redis_port}/0"
        self._run_seed()
        api_port, operations_port = free_port(), free_port()
        self.base_url = f"http://127.0.0.1:{api_port}"
        self.operations_url = f"http://127.0.0.1:{operations_port}"
        self._spawn(
            "betmaker-api",
            [str(self.products / "betmaker-api"), "--env-file", "/nonexistent/.env"],
            {"WEB_SERVER_HOST": "127.0.0.1", "WEB_SERVER_PORT": str(api_port), "API_OPERATIONS_PORT": str(operations_port)},
        )
        self._spawn(
            "betmaker-worker",
            [str(self.products / "betmaker-worker"), "--env-file", "/nonexistent/.env"],
            {"WORKER_NAME": "contract", "WORKER_HTTP_PORT": "0"},
        )
        self._wait_until_ready()

    def _start_redis(self) -> int:
        redis_server = shutil.which("redis-server")
        if redis_server is None:
            raise RuntimeError("redis-server is not installed (make deps installs it)")
        for _ in range(5):
            port = free_port()
            process = self._spawn(
                "redis-server",
                [
                    redis_server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                    "--save", "", "--appendonly", "no", "--logfile", "",
                ],
                {},
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
                        connection.sendall(b"PING\r\n")
                        if connection.recv(16).startswith(b"+PONG"):
                            return port
                except OSError:
                    pass
                time.sleep(0.05)
            # Most likely another process took the port between the probe and the start: try another.
            self._stop_one("redis-server", process)
            self.processes.pop()
        raise RuntimeError(f"redis-server did not start; see {self.directory / 'redis-server.log'}")

    def _environment(self, extra: dict[str, str]) -> dict[str, str]:
        # Nothing from the developer's environment or .env: only PATH and the settings of the test.
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "REDIS_URL": self.redis_url, **SETTINGS}
        environment.update(extra)
        return environment

    def _spawn(self, name: str, arguments: list[str], extra: dict[str, str]) -> subprocess.Popen[bytes]:
        output = open(self.directory / f"{name}.log", "ab")
        process = subprocess.Popen(
            arguments, env=self._environment(extra), stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=self.directory,
        )
        output.close()
        self.processes.append((name, process))
        return process

    def _run_seed(self) -> None:
        seeded = subprocess.run(
            [str(self.products / "betmaker-api"), "seed", "--env-file", "/nonexistent/.env"],
            env=self._environment({}), capture_output=True, text=True, timeout=120, cwd=self.directory,
        )
        if seeded.returncode != 0:
            raise RuntimeError(f"betmaker-api seed failed:\n{seeded.stdout}{seeded.stderr}")

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for name, process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.log_tail(name)}")
            try:
                with urllib.request.urlopen(self.operations_url + "/health/ready", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"betmaker-api was not ready within 60 s:\n{self.log_tail('betmaker-api')}")

    def log_in(self, login: str, password: str) -> str:
        request = urllib.request.Request(
            self.base_url + "/auth", method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"login": login, "password": password}).encode(),
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["access_token"]

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.directory / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def errors_logged(self, name: str) -> list[str]:
        """The lines of a process's log at level error or worse (an unexpected failure, a 500)."""
        path = self.directory / f"{name}.log"
        if not path.exists():
            return []
        return [line for line in path.read_text(errors="replace").splitlines() if " error " in line or " critical " in line]

    @staticmethod
    def _stop_one(name: str, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                log(f"{name} did not stop on SIGTERM; killing it")
                process.kill()
                process.wait()

    def stop(self) -> None:
        # The worker and the API first, Redis last, as a deployment stops.
        for name, process in reversed(self.processes):
            self._stop_one(name, process)


def schemathesis_command(arguments: argparse.Namespace, config: Path, base_url: str, token: str, report: Path) -> list[str]:
    return [
        arguments.schemathesis, "--config-file", str(config), "--no-color",
        "run", base_url + "/openapi.json",
        "--checks", "all",
        "--header", f"Authorization: Bearer {token}",
        # Logging out revokes the pass's token, which every later request sends: the rest of the pass
        # would test nothing but 401. OpenAPIContractTests and SessionAndOperationsTests test it.
        "--exclude-operation-id", "logOut",
        "--workers", "1",
        "--request-timeout", "10",
        "--suppress-health-check", "too_slow",
        "--report", "ndjson,junit", "--report-dir", str(report),
    ]


def stateful_summary(report: Path) -> tuple[int, set[str]]:
    """The stateful scenarios that ran, and the links they followed, from a run's NDJSON report."""
    scenarios = 0
    links: set[str] = set()
    for path in report.glob("*.ndjson"):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            finished = event.get("ScenarioFinished")
            if not finished or finished.get("phase") != "stateful" or finished.get("status") == "skip":
                continue
            scenarios += 1
            for case in finished.get("recorder", {}).get("cases", {}).values():
                transition = case.get("transition") or {}
                if transition.get("id"):
                    links.add(transition["id"])
    return scenarios, links


def run_schemathesis(command: list[str], role: str, what: str, arguments: argparse.Namespace, directory: str) -> bool:
    try:
        completed = subprocess.run(command, timeout=arguments.timeout, cwd=directory, env=SCHEMATHESIS_ENVIRONMENT)
    except subprocess.TimeoutExpired:
        log(f"{role} pass, {what}: schemathesis did not finish within {arguments.timeout} s")
        return False
    return completed.returncode == 0


def run_pass(role: str, arguments: argparse.Namespace, config: Path) -> bool:
    login, password = USERS[role]
    with tempfile.TemporaryDirectory(prefix=f"betmaker-contract-{role}-") as directory:
        stack = Stack(arguments.products, Path(directory))
        reports = Path(arguments.report_dir) / role if arguments.report_dir else Path(directory) / "reports"
        try:
            stack.start()
            token = stack.log_in(login, password)
            log(f"{role} pass: API at {stack.base_url}, logged in as {login}")
            command = schemathesis_command(arguments, config, stack.base_url, token, reports / "all-phases") + [
                "--seed", str(arguments.seed),
                "--generation-deterministic",  # implies no example database
                "--max-examples", str(arguments.max_examples),
            ]
            passed = run_schemathesis(command, role, "all phases", arguments, directory)
            for round_ in range(1, arguments.stateful_rounds + 1):
                report = reports / f"stateful-{round_}"
                command = schemathesis_command(arguments, config, stack.base_url, token, report) + [
                    "--phases", "stateful", "--seed", str(arguments.seed + round_), "--generation-database", "none",
                ]
                passed = run_schemathesis(command, role, f"stateful round {round_}", arguments, directory) and passed
            scenarios, links = 0, set()
            for report in reports.iterdir() if reports.exists() else []:
                report_scenarios, report_links = stateful_summary(report)
                scenarios += report_scenarios
                links |= report_links
            log(f"{role} pass: {scenarios} stateful scenarios followed {len(links)} different links")
            for link in sorted(links):
                print(f"  {link}", flush=True)
            if scenarios == 0:
                log(f"{role} pass: the stateful phase ran no scenario")
                passed = False
            if not passed:
                errors = stack.errors_logged("betmaker-api")
                log(f"{role} pass: the API logged {len(errors)} error(s)" + (", the last ones:" if errors else ""))
                print("\n".join(errors[-20:]), flush=True)
            return passed
        except Exception as error:  # noqa: BLE001 - any failure to set up is a failed pass, with its reason
            log(f"{role} pass could not run: {error}")
            return False
        finally:
            stack.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=Path, default=ROOT / ".build" / "debug", help="folder of betmaker-api and betmaker-worker")
    parser.add_argument("--roles", default="admin,player", help="passes to run, comma-separated (admin, player)")
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("CONTRACT_MAX_EXAMPLES", "100")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("CONTRACT_SEED", "20261123")))
    parser.add_argument("--timeout", type=int, default=int(os.environ.get("CONTRACT_TIMEOUT", "300")), help="seconds per pass")
    parser.add_argument(
        "--stateful-rounds", type=int, default=int(os.environ.get("CONTRACT_STATEFUL_ROUNDS", "6")),
        help="stateful-only runs per pass after the full one, each with its own seed",
    )
    parser.add_argument("--report-dir", default=os.environ.get("CONTRACT_REPORT_DIR"), help="keep the JUnit and NDJSON reports here")
    arguments = parser.parse_args()
    arguments.products = arguments.products.resolve()
    if arguments.report_dir:
        arguments.report_dir = str(Path(arguments.report_dir).resolve())
    # The schemathesis of the virtual environment this script runs in (`make contract`), else one on PATH.
    beside = Path(sys.executable).with_name("schemathesis")
    arguments.schemathesis = str(beside) if os.access(beside, os.X_OK) else shutil.which("schemathesis")
    if arguments.schemathesis is None:
        parser.error("schemathesis is not installed here; run `make contract`, which makes its virtual environment")
    roles = [role for role in arguments.roles.split(",") if role]
    unknown = [role for role in roles if role not in USERS]
    if unknown:
        parser.error(f"unknown role(s): {', '.join(unknown)}")
    for product in ("betmaker-api", "betmaker-worker"):
        if not os.access(arguments.products / product, os.X_OK):
            parser.error(f"{arguments.products / product} is not built (swift build --product {product})")

    # SIGTERM (CI cancelling, `timeout`) unwinds like Ctrl-C, so every `finally` stops its processes.
    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    results: dict[str, bool] = {}
    with tempfile.TemporaryDirectory(prefix="betmaker-contract-") as directory:
        config = Path(directory) / "schemathesis.toml"
        config.write_text(CONFIG)
        try:
            for role in roles:
                started = time.monotonic()
                results[role] = run_pass(role, arguments, config)
                log(f"{role} pass: {'passed' if results[role] else 'FAILED'} in {time.monotonic() - started:.0f} s")
        except KeyboardInterrupt:
            log("interrupted; everything started was stopped")
            return 130
    failed = [role for role, passed in results.items() if not passed]
    log(f"{len(results) - len(failed)} passed, {len(failed)} failed" + (f" ({', '.join(failed)})" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
