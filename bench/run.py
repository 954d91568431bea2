"""``make bench``: the portal under gunicorn on loopback, driven by Locust, measured against its targets.

    python -m bench.run [--database sqlite|postgresql] [--scale small|full] [--duration 10]

Steps: a fresh database (SQLite file, or PostgreSQL database ``portal_bench``),
migrations, the generated data set (bench/dataset.py), the offline payment
sandbox, gunicorn as in production (gunicorn.conf.py), then each scenario in
turn with Locust headless. Every figure is printed beside its target as a
"pass" or "FALLS SHORT" line - never a test assertion - and the run is written to
docs/benchmarks.md with the machine and the commit.
"""

import argparse
import csv
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
BIN = Path(PYTHON).parent
SANDBOX_KEYS = {"merchant_id": "bench_merchant", "public_key": "bench_public", "private_key": "bench_private"}


@dataclass(frozen=True)
class Scenario:
    key: str
    user_class: str
    request: str  # the Locust request name measured
    users: int
    rate: float | None = None  # per user per second; None: as fast as it goes


SCENARIOS = [
    Scenario("hello", "Hello", "hello", users=16),
    Scenario("public", "PublicSessionPage", "public session page", users=16),
    Scenario("estimate", "EstimateFragment", "estimate fragment", users=16),
    Scenario("estimate_200", "EstimateFragment", "estimate fragment", users=20, rate=10.0),
    Scenario("payment_page", "PaymentPageWithCoupon", "payment page with coupon", users=16),
    Scenario("flow", "RegistrationAndPayment", "registration and payment", users=8),
    Scenario("rush", "SeatRush", "seat reservation", users=32),
]


@dataclass(frozen=True)
class Result:
    rps: float
    p50: float
    p99: float
    requests: int
    failures: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} stopped while starting (exit {process.returncode})")
        try:
            if requests.get(url, timeout=5).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{what} did not answer at {url}")


def database_url(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir}/bench.db"
    from sqlalchemy import create_engine, text

    base = os.environ.get("PORTAL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "portal_bench" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "portal_bench"'))
    admin.dispose()
    return base.rsplit("/", 1)[0] + "/portal_bench"


def run_locust(scenario: Scenario, base: str, data_path: Path, workdir: Path, duration: int) -> Result:
    prefix = workdir / scenario.key
    env = {**os.environ, "BENCH_DATA": str(data_path)}
    if scenario.rate:
        env["BENCH_RATE"] = str(scenario.rate)
    subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--users",
            str(scenario.users),
            "--spawn-rate",
            str(scenario.users),
            "--run-time",
            f"{duration}s",
            "--host",
            base,
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "ERROR",
            scenario.user_class,
        ],
        env=env,
        check=False,
        capture_output=True,
    )
    failures = 0
    measured = None
    with open(f"{prefix}_stats.csv") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == "Aggregated":
                failures = int(row["Failure Count"])
            elif row["Name"] == scenario.request:
                measured = row
    if measured is None:
        raise SystemExit(f"{scenario.key}: Locust measured no {scenario.request!r} request")
    return Result(
        rps=float(measured["Requests/s"]),
        p50=float(measured["50%"]),
        p99=float(measured["99%"]),
        requests=int(measured["Request Count"]),
        failures=failures,
    )


def verdicts(results: dict[str, Result], database: str) -> list[tuple[str, str, str, bool]]:
    """(what, measured, target, met) for every target of issue 8 whose scenario ran."""
    hello = results["hello"].rps or 1.0
    lines = []
    if "public" in results:
        ratio = results["public"].rps / hello
        lines.append(
            ("public session page throughput", f"{ratio:.2f}x hello-world", ">= 0.35x", ratio >= 0.35)
        )
    if "estimate" in results:
        ratio = results["estimate"].rps / hello
        lines.append(("estimate fragment throughput", f"{ratio:.2f}x hello-world", ">= 0.45x", ratio >= 0.45))
    if "estimate_200" in results:
        paced = results["estimate_200"]
        lines.append(
            (
                "estimate fragment p99 at 200 req/s",
                f"{paced.p99:.0f} ms at {paced.rps:.0f} req/s",
                "< 50 ms",
                paced.p99 < 50 and paced.rps >= 180,
            )
        )
    if database == "sqlite" and "rush" in results:
        rush = results["rush"]
        lines.append(
            (
                "seat reservations, 32 concurrent writers",
                f"{rush.rps:.0f}/s, p99 {rush.p99:.0f} ms",
                ">= 500/s, p99 < 100 ms",
                rush.rps >= 500 and rush.p99 < 100,
            )
        )
    errors = sum(result.failures for result in results.values())
    lines.append(("errors surfaced", str(errors), "0", errors == 0))
    return lines


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, {platform.system()}"


def commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def report(database: str, scale: str, duration: int, results: dict[str, Result], lines) -> str:
    hello = results["hello"].rps or 1.0
    out = [
        f"## {database}, {scale} data set, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Commit `{commit()}` on {machine()}; gunicorn per `gunicorn.conf.py`, Locust "
        f"(FastHttpUser, one process) on the same machine, {duration} s per scenario.",
        "",
        "| scenario | users | req/s | vs hello | p50 ms | p99 ms | requests | failures |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for scenario in SCENARIOS:
        r = results[scenario.key]
        rate = f" at {scenario.rate * scenario.users:.0f}/s" if scenario.rate else ""
        out.append(
            f"| {scenario.request}{rate} | {scenario.users} | {r.rps:.0f} | {r.rps / hello:.2f} | "
            f"{r.p50:.0f} | {r.p99:.0f} | {r.requests} | {r.failures} |"
        )
    out += ["", "| target | measured | wanted | |", "| --- | --- | --- | --- |"]
    out += [
        f"| {what} | {got} | {want} | {'pass' if ok else 'FALLS SHORT'} |" for what, got, want, ok in lines
    ]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--scale", choices=["small", "full"], default="small")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument(
        "--only",
        action="append",
        choices=[scenario.key for scenario in SCENARIOS],
        help="run only this scenario (repeatable; hello always runs); nothing is written to --out",
    )
    args = parser.parse_args()
    scenarios = [s for s in SCENARIOS if not args.only or s.key == "hello" or s.key in args.only]

    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    url = database_url(args.database, workdir)
    sandbox_port, port = free_port(), free_port()
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": "bench-" + "k" * 40,
        "PORTAL_INSTANCE_PATH": str(workdir / "instance"),
        "PORTAL_PAYMENTS_SANDBOX_URL": f"http://127.0.0.1:{sandbox_port}",
        "PORTAL_PAYMENTS_SANDBOX_MERCHANT_ID": SANDBOX_KEYS["merchant_id"],
        "PORTAL_PAYMENTS_SANDBOX_PUBLIC_KEY": SANDBOX_KEYS["public_key"],
        "PORTAL_PAYMENTS_SANDBOX_PRIVATE_KEY": SANDBOX_KEYS["private_key"],
        "PORTAL_BENCH": "true",
        "PORTAL_BIND": f"127.0.0.1:{port}",
        # Limits are for people, not for a load generator on loopback.
        "PORTAL_LOGIN_RATE_LIMIT": "100000 per second",
        "PORTAL_COUPON_RATE_LIMIT": "100000 per second",
        "PORTAL_LOG_LEVEL": "WARNING",
    }
    if args.database == "postgresql":
        env.setdefault("PORTAL_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/14")
    flask = [str(BIN / "flask"), "--app", "app"]
    print(f"bench: {args.database}, {args.scale} data set, in {workdir}", flush=True)
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    data_path = workdir / "data.json"
    started = time.monotonic()
    subprocess.run(
        [
            PYTHON,
            "-c",
            "import sys; from portal import create_app; from bench.dataset import load; "
            "app = create_app({'LOG_CONFIGURE': False}); ctx = app.app_context(); ctx.push(); "
            "load(sys.argv[1], sys.argv[2])",
            args.scale,
            str(data_path),
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    print(f"bench: data set generated in {time.monotonic() - started:.0f} s", flush=True)
    sandbox = subprocess.Popen(
        [
            *flask,
            "portal",
            "payments-sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            str(sandbox_port),
            "--merchant-id",
            SANDBOX_KEYS["merchant_id"],
            "--public-key",
            SANDBOX_KEYS["public_key"],
            "--private-key",
            SANDBOX_KEYS["private_key"],
            "--data",
            str(workdir / "sandbox.db"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "gunicorn.log", "wb"),  # noqa: SIM115 - closed with the process
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"http://127.0.0.1:{sandbox_port}/", sandbox, "the payment sandbox")
        wait_until_up(base + "/readyz", server, "gunicorn")
        results = {}
        for scenario in scenarios:
            results[scenario.key] = run_locust(scenario, base, data_path, workdir, args.duration)
            r = results[scenario.key]
            print(
                f"  {scenario.key:<13} {r.rps:8.0f} req/s  p50 {r.p50:5.0f} ms  p99 {r.p99:5.0f} ms  "
                f"failures {r.failures}",
                flush=True,
            )
    finally:
        for process in (server, sandbox):
            process.send_signal(signal.SIGTERM)
        for process in (server, sandbox):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
    lines = verdicts(results, args.database)
    print()
    for what, got, want, ok in lines:
        print(f"{'pass       ' if ok else 'FALLS SHORT'}  {what}: {got} (target {want})")
    if args.only:
        return
    add_section(Path(args.out), report(args.database, args.scale, args.duration, results, lines))


def add_section(out: Path, section: str) -> None:
    """Put a run's section first in ``out`` (newest runs first), under the file's own header."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists():
        out.write_text(
            "# Benchmarks\n\nWritten by `make bench` (bench/run.py): the portal under gunicorn on loopback,"
            " driven by Locust, each figure beside its target. Newest runs first.\n\n"
        )
    header, _, rest = out.read_text().partition("\n## ")
    out.write_text(header.rstrip("\n") + "\n\n" + section + ("\n## " + rest if rest else ""))
    print(f"\nbench: written to {out}")


if __name__ == "__main__":
    main()
