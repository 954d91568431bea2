"""Organizer and admin pages at scale: each page's time and number of queries, in-process.

    python -m bench.pages [--scale small|full] [--repeat 5] [--database-url URL]

Generates the data set (bench/dataset.py; ``full`` is 10,000 sessions, 1,000,000
registrations and 100,000 coupons) in a fresh SQLite file unless ``--database-url``
names an existing, migrated and loaded database, logs in as the data set's admin and
organizer, and GETs every main list and report page ``--repeat`` times through the
app's WSGI interface (no HTTP server: this measures the page, not the server). Prints
the median milliseconds and the queries per page beside the 50 ms target, and adds the
run to docs/benchmarks.md (``--out``). The query count is the figure to
watch as data grows (tests check it stays constant); the milliseconds show which
queries the data set makes slow.
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.run import add_section, commit, machine

ROOT = Path(__file__).resolve().parents[1]
# A page should answer as fast as the estimate fragment's p99 target (issue #8).
PAGE_TARGET_MS = 50
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

ADMIN_PAGES = [
    "/admin/",
    "/admin/payments",
    "/admin/payments?page=50",
    "/admin/audit",
    "/admin/outbox",
    "/admin/reports/sessions",
    "/admin/reports/sessions?{this_month}",
    "/admin/reports/organizers",
    "/admin/reports/organizers?{this_month}",
    "/admin/reports/pay-per-use",
    "/admin/users",
    "/admin/budgets",
    "/coupons/",
    "/coupons/report",
    "/sessions/",
    "/sessions/?when=past",
    "/sessions/{busiest}",
    "/sessions/{busiest}/registrants",
]
ORGANIZER_PAGES = ["/home", "/sessions/", "/sessions/{own}/registrants", "/my/spend"]


def _prepare(scale: str, workdir: Path) -> tuple[str, Path]:
    url = f"sqlite:///{workdir}/pages.db"
    env_cmd = [sys.executable, "-m", "flask", "--app", "app"]
    env = _env(url, workdir)
    subprocess.run([*env_cmd, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    data_path = workdir / "data.json"
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from portal import create_app; from bench.dataset import load; "
            "app = create_app({'LOG_CONFIGURE': False}); ctx = app.app_context(); ctx.push(); "
            "load(sys.argv[1], sys.argv[2])",
            scale,
            str(data_path),
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return url, data_path


def _env(url: str, workdir: Path) -> dict:
    import os

    return {
        **os.environ,
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": "bench-" + "k" * 40,
        "PORTAL_INSTANCE_PATH": str(workdir / "instance"),
        "PORTAL_LOGIN_RATE_LIMIT": "100000 per second",
        "PORTAL_LOG_LEVEL": "WARNING",
        "PORTAL_PAYMENTS_SANDBOX_URL": "http://127.0.0.1:9",  # pages never call the gateway
    }


def measure(url: str, data: dict, repeat: int) -> list[tuple[str, str, float, int]]:
    import os

    os.environ.update(_env(url, Path(tempfile.gettempdir())))
    from sqlalchemy import event, text

    from portal import create_app
    from portal.extensions import db

    app = create_app({"LOG_CONFIGURE": False})
    with app.app_context():
        busiest = db.session.execute(
            text(
                "SELECT training_session_id FROM registrations GROUP BY training_session_id "
                "ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar()
        own = db.session.execute(
            text(
                "SELECT s.id FROM training_sessions s JOIN users u ON u.id = s.organizer_id "
                "WHERE u.email = :email ORDER BY s.id LIMIT 1"
            ),
            {"email": data["organizer_email"]},
        ).scalar()
        engine = db.engine
    statements = [0]

    def count(_conn, _cursor, statement, *_args):
        if not statement.startswith("PRAGMA"):
            statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)

    def signed_in(email: str):
        client = app.test_client()
        token = CSRF.search(client.get("/login").text).group(1)
        response = client.post(
            "/login", data={"email": email, "password": data["password"], "csrf_token": token}
        )
        if response.status_code != 303:
            raise SystemExit(f"cannot log in as {email}: {response.status_code}")
        return client

    today = datetime.now(UTC).date()
    last_day = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    this_month = f"from={today.replace(day=1)}&to={last_day}"  # the reports' filter: one month's sessions
    results = []
    for who, email, pages in (
        ("admin", data["admin_email"], ADMIN_PAGES),
        ("organizer", data["organizer_email"], ORGANIZER_PAGES),
    ):
        client = signed_in(email)
        for pattern in pages:
            path = pattern.format(busiest=busiest, own=own, this_month=this_month)
            if client.get(path).status_code != 200:  # warm-up, and a check
                raise SystemExit(f"{path} did not answer 200")
            times = []
            statements[0] = 0
            for _ in range(repeat):
                started = time.perf_counter()
                client.get(path)
                times.append((time.perf_counter() - started) * 1000)
            results.append((who, path, statistics.median(times), statements[0] // repeat))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", choices=["small", "full"], default="full")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", help="an already loaded database (with --data)")
    parser.add_argument("--data", help="the data set's JSON (written by bench/dataset.py)")
    parser.add_argument(
        "--out", default=str(ROOT / "docs" / "benchmarks.md"), help="where the run is added ('' for nowhere)"
    )
    args = parser.parse_args()
    if args.database_url:
        url, data_path = args.database_url, Path(args.data)
    else:
        workdir = Path(tempfile.mkdtemp(prefix="portal-pages-"))
        started = time.monotonic()
        url, data_path = _prepare(args.scale, workdir)
        print(f"pages: {args.scale} data set in {workdir}, generated in {time.monotonic() - started:.0f} s")
    data = json.loads(data_path.read_text())
    print(f"{'who':<10} {'page':<50} {'median ms':>10} {'queries':>8}")
    results = measure(url, data, args.repeat)
    for who, path, median, queries in results:
        verdict = "" if median < PAGE_TARGET_MS else f"  FALLS SHORT (target < {PAGE_TARGET_MS} ms)"
        print(f"{who:<10} {path:<50} {median:10.1f} {queries:8d}{verdict}")
    if args.out:
        add_section(Path(args.out), report(args.scale, args.repeat, results))


def report(scale: str, repeat: int, results) -> str:
    out = [
        f"## pages, {scale} data set, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Written by `make bench-pages` (bench/pages.py). Commit `{commit()}` on {machine()}; "
        f"each page through the app's WSGI interface (no HTTP server), median of {repeat}, with "
        f"the statements it ran. Target: under {PAGE_TARGET_MS} ms, the estimate fragment's p99.",
        "",
        "| who | page | median ms | queries | |",
        "| --- | --- | --- | --- | --- |",
    ]
    out += [
        f"| {who} | `{path}` | {median:.1f} | {queries} | "
        f"{'pass' if median < PAGE_TARGET_MS else 'FALLS SHORT'} |"
        for who, path, median, queries in results
    ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
