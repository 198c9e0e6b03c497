"""The CI asset-check report: a failing ERROR check shows as a failed row and a non-zero exit."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bank_assets import check_report
from bank_assets.contracts import CONTRACTS

pytestmark = pytest.mark.slow  # runs the Dagster graph (or a server) end to end


def test_report_flags_a_failed_blocking_check(tmp_path, capsys):
    """Two months in one run (as the CLI runs a range): it fails and is rolled back whole, each
    month runs again alone, and the report holds each month's own results once."""
    out = tmp_path / "reports"
    code = check_report.main(
        [
            "--start",
            "2024-01",
            "--end",
            "2024-02",
            "--out",
            str(out),
            "--workdir",
            str(tmp_path / "work"),
            "--skip-gold",
            "--inject-duplicates",
            "accounts",
        ]
    )
    assert code == 1
    md = (out / "asset_checks.md").read_text()
    failed = [line for line in md.splitlines() if "**FAILED**" in line]
    assert [line.split(" | ")[:4] for line in failed] == [
        ["| silver/accounts", "contract", month, "ERROR"] for month in ("2024-01", "2024-02")
    ]
    assert all("failed: key_unique. key_unique (rows=" in f and "duplicate_keys=" in f for f in failed)
    suite = ET.parse(out / "asset_checks.xml").getroot()
    cases = suite.findall("testcase")
    names = [c.get("classname") + ":" + c.get("name") for c in cases]
    assert len(names) == len(set(names)) == int(suite.get("tests")) == 2 * len(CONTRACTS)
    assert int(suite.get("failures")) == 2
    failures = [c.get("name") for c in cases if c.find("failure") is not None]
    assert failures == ["contract[2024-01]", "contract[2024-02]"]
    # the checks of silver.accounts' children did not run: reported as skipped, with the reason
    skipped = {c.get("classname") + ":" + c.get("name"): c.find("skipped") for c in cases}
    for month in ("2024-01", "2024-02"):
        txn = skipped[f"silver/transactions:contract[{month}]"]
        # silver.accounts failed; steps after it in the run refuse to write (the run was rolled back)
        assert txn is not None and "upstream silver.accounts" in txn.get("message") and month in txn.get("message")
        assert f"| silver/transactions | contract | {month} | ERROR | skipped |" in md
    assert "FAILED" in capsys.readouterr().out


def test_bad_month_is_a_usage_error(tmp_path):
    assert check_report.main(["--start", "2023-13", "--out", str(tmp_path)]) == 2
