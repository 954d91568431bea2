"""The pure modules import neither Flask nor SQLAlchemy.

Checked in a fresh interpreter: this test process has already imported Flask
(through tests/conftest.py), so ``sys.modules`` here proves nothing.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE_MODULES = [
    "portal.money",
    "portal.billing.pricing",
    "portal.trainings.status",
    "portal.payments.status",
    "portal.coupons.rules",
    "portal.timezones",
]
FORBIDDEN = {"flask", "sqlalchemy", "flask_sqlalchemy", "flask_babel", "werkzeug", "wtforms"}

PROBE = """
import importlib, json, sys

module = sys.argv[1]
importlib.import_module(module)
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in FORBIDDEN)))
print(json.dumps(module in sys.modules))
"""


def _forbidden_imports(module: str) -> list[str]:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"FORBIDDEN = {sorted(FORBIDDEN)!r}\n" + PROBE,
            module,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    forbidden_line, loaded_line = result.stdout.strip().splitlines()
    assert json.loads(loaded_line) is True
    return json.loads(forbidden_line)


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_imports_neither_flask_nor_sqlalchemy(module):
    assert _forbidden_imports(module) == []


def test_purity_probe_detects_a_module_that_imports_flask():
    # The check must be able to fail: portal.fields imports flask_babel (and so Flask).
    forbidden = _forbidden_imports("portal.fields")
    assert "flask" in forbidden
    assert "flask_babel" in forbidden
