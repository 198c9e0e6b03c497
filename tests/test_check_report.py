"""The CI asset-check report: a failing ERROR check shows as a failed row and a non-zero exit."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bank_assets import check_report
from bank_assets.contracts import CONTRACTS

pytestmark = pytest.mark.slow  # runs the Dagster graph (or a server) end to end


def test_report_flags_a_failed_blocking_check(tmp_path, capsys):
    out = tmp_path / "reports"
    code = check_report.main(
        [
            "--start",
            "2024-01",
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
    assert len(failed) == 1 and failed[0].startswith("| silver/accounts | contract | 2024-01 | ERROR |")
    assert "failed: key_unique. key_unique (rows=" in failed[0] and "duplicate_keys=" in failed[0]
    suite = ET.parse(out / "asset_checks.xml").getroot()
    cases = suite.findall("testcase")
    assert int(suite.get("tests")) == len(cases) == len(CONTRACTS) and int(suite.get("failures")) == 1
    assert [c.get("name") for c in cases if c.find("failure") is not None] == ["contract[2024-01]"]
    # the checks of silver.accounts' children did not run: reported as skipped, with the reason
    skipped = {c.get("classname") + ":" + c.get("name"): c.find("skipped") for c in cases}
    txn = skipped["silver/transactions:contract[2024-01]"]
    # silver.accounts failed; steps after it in the run refuse to write (the run was rolled back)
    assert txn is not None and "upstream silver.accounts" in txn.get("message") and "failed" in txn.get("message")
    assert "| silver/transactions | contract | 2024-01 | ERROR | skipped |" in md
    assert "FAILED" in capsys.readouterr().out


def test_bad_month_is_a_usage_error(tmp_path):
    assert check_report.main(["--start", "2023-13", "--out", str(tmp_path)]) == 2
