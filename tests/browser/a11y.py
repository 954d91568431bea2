"""axe-core in the browser: fail with a readable list of every serious or critical violation.

axe-core is vendored under ``tests/browser/vendor`` (tests only, never served by the app).
It is injected with ``page.evaluate``: Playwright evaluates over the DevTools protocol,
which the page's Content Security Policy (``script-src 'self'``, no inline scripts) does
not govern, so the CSP stays on and the pages are checked exactly as guests get them.
"""

from functools import cache
from pathlib import Path

from playwright.sync_api import Page

AXE_VERSION = "4.10.3"
AXE_PATH = Path(__file__).resolve().parent / "vendor" / f"axe-core-{AXE_VERSION}" / "axe.min.js"

# WCAG 2.0 and 2.1, levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


@cache
def axe_source() -> str:
    return AXE_PATH.read_text(encoding="utf-8")


def axe_violations(page: Page, tags: list[str] = WCAG_TAGS) -> list[dict]:
    """Every axe violation on the page as it is now (all impacts)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    results = page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {
                runOnly: {type: "tag", values: tags},
                resultTypes: ["violations"],
            });
            return results.violations.map((v) => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                helpUrl: v.helpUrl,
                nodes: v.nodes.map((n) => ({
                    target: n.target.map(String).join(" "),
                    summary: n.failureSummary || "",
                })),
            }));
        }""",
        tags,
    )
    return results


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})"
        )
        for node in violation["nodes"]:
            summary = " ".join(node["summary"].split())
            lines.append(f"    {node['target']}  — {summary}")
    return "\n".join(lines)


def serious_violations(page: Page) -> list[dict]:
    return [v for v in axe_violations(page) if v["impact"] in BLOCKING_IMPACTS]


def assert_accessible(page: Page, where: str = "") -> None:
    """Fail, listing rule, impact, help and target selectors, on any serious or critical violation."""
    blocking = serious_violations(page)
    if blocking:
        title = where or page.url
        raise AssertionError(
            f"{len(blocking)} serious/critical accessibility violation(s) on {title} ({page.url}):\n"
            + describe(blocking)
        )
