"""axe-core in the browser (npm package `axe-core`) and the page measurements the
accessibility and phone tests share. axe is evaluated by Playwright through the DevTools
protocol, which the page's Content-Security-Policy does not govern: no test bypasses the CSP,
so every browser test also proves the pages run under it."""

from pathlib import Path

from django.conf import settings
from playwright.sync_api import Page

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA rules, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING_IMPACTS = ("serious", "critical")
PHONE = {"width": 390, "height": 844}


def axe_violations(page: Page) -> list[dict]:
    """The serious and critical WCAG 2.1 AA violations axe finds on the current page."""
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run `make install` (npm ci)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})
            .then(r => r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
            })))""",
        AXE_TAGS,
    )
    return [v for v in result if v["impact"] in FAILING_IMPACTS]


def describe(violations: list[dict]) -> str:
    return "\n".join(f"  {v['impact']} {v['id']}: {v['help']} at {v['nodes']}" for v in violations)


def sideways_overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: no horizontal scrolling)."""
    return page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - window.innerWidth"
    )
