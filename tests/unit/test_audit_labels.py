"""Every action the portal writes to the audit log has a label (and so a place in the log's filter)."""

import re
from pathlib import Path

from portal.admin.audit import ACTION_LABELS

PORTAL = Path(__file__).resolve().parents[2] / "portal"
LITERAL_ACTION = re.compile(r"""record\(\s*["']([a-z_]+\.[a-z_]+)["']""")


def recorded_actions() -> set[str]:
    found = set()
    for source in PORTAL.rglob("*.py"):
        found |= set(LITERAL_ACTION.findall(source.read_text()))
    return found


def test_every_literal_audit_action_has_a_label():
    actions = recorded_actions()
    assert len(actions) >= 25  # the scan finds the portal's record() calls
    assert sorted(actions - set(ACTION_LABELS)) == []
