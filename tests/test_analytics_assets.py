"""The analytics group's plumbing: docs that match the code, a check that can fail, and the
dagster-duckdb-pandas writer that replaces a month exactly and takes part in the run journal."""

import datetime as dt

import duckdb
import pandas as pd
import pytest
from dagster import AssetExecutionContext, DagsterInstance, Output, asset, materialize

from bank_assets.analytics import DATE, cents_half_away, frame
from bank_assets.assets.analytics import SCHEMAS, table_docs, well_formed_problems
from bank_assets.partitions import monthly_partitions
from bank_assets.resources import AnalyticsTableWriter
from bank_assets.warehouse import journal

SCHEMA = {"as_of_month": DATE, "label": "string", "value": "float64"}


def test_docs_yml_lists_exactly_the_columns_the_code_writes() -> None:
    docs = table_docs()
    assert set(docs) == set(SCHEMAS)
    for name, schema in SCHEMAS.items():
        assert [c["name"] for c in docs[name]["columns"]] == list(schema), name
        assert "as_of_month" in schema and docs[name]["description"].strip()


def test_well_formed_check_catches_what_it_claims() -> None:
    month = dt.date(2024, 3, 1)
    good = pd.DataFrame(
        {"as_of_month": [pd.Timestamp(month)], "estimate": [1.2], "ci_low": [1.0], "ci_high": [1.4], "p_value": [0.01]}
    )
    assert well_formed_problems(good, month) == []
    assert well_formed_problems(good.assign(ci_low=1.3), month)  # interval misses its estimate
    assert well_formed_problems(good.assign(p_value=1.5), month)
    assert well_formed_problems(good.assign(as_of_month=pd.Timestamp("2024-04-01")), month)
    assert well_formed_problems(good.assign(estimate=0.0, ci_low=1e-17, ci_high=0.2), month) == []  # float noise


def test_frame_keeps_types_when_empty() -> None:
    con = duckdb.connect()
    empty = frame([], SCHEMA)  # noqa: F841 (scanned by name)
    con.execute("CREATE TABLE t AS SELECT * FROM empty")
    assert [r[1] for r in con.execute("DESCRIBE t").fetchall()] == ["TIMESTAMP_NS", "VARCHAR", "DOUBLE"]


def test_cents_round_half_away_from_zero() -> None:
    assert list(cents_half_away(pd.Series([0.005, -0.005, 0.015, 1.234]))) == [1, -1, 2, 123]


def _asset(values: dict[str, float], fail: bool = False):
    @asset(
        key=["analytics", "scratch"],
        partitions_def=monthly_partitions,
        io_manager_key="analytics_writer",
        metadata={"partition_expr": "as_of_month"},
    )
    def scratch(context: AssetExecutionContext) -> Output[pd.DataFrame]:
        month = pd.Timestamp(context.partition_key)
        rows = [{"as_of_month": month, "label": k, "value": v} for k, v in values.items()]
        df = frame(rows, SCHEMA)
        if fail:  # a value DuckDB cannot store in the DOUBLE column: the insert fails after the delete
            df = df.astype({"value": "string"}).assign(value="not a number")
        return Output(df)

    return scratch


def _rows(path: str) -> list[tuple]:
    with duckdb.connect(path, read_only=True) as con:
        return con.execute(
            "SELECT strftime(as_of_month, '%Y-%m'), label, value FROM analytics.scratch ORDER BY ALL"
        ).fetchall()


def test_writer_replaces_a_month_exactly_and_a_failed_write_changes_nothing(tmp_path) -> None:
    path = str(tmp_path / "wh.duckdb")
    res = {"analytics_writer": AnalyticsTableWriter(database=path)}
    with DagsterInstance.ephemeral() as instance:
        for month, values in (("2024-01-01", {"a": 1.0, "b": 2.0}), ("2024-02-01", {"a": 3.0})):
            assert materialize([_asset(values)], partition_key=month, resources=res, instance=instance).success
        # re-materializing January replaces it: 'b' is gone, February untouched
        assert materialize([_asset({"a": 5.0})], partition_key="2024-01-01", resources=res, instance=instance).success
        assert _rows(path) == [("2024-01", "a", 5.0), ("2024-02", "a", 3.0)]
        # a write that fails after deleting the month leaves the table as it was
        bad = materialize(
            [_asset({"z": 9.0}, fail=True)],
            partition_key="2024-02-01",
            resources=res,
            instance=instance,
            raise_on_error=False,
        )
        assert not bad.success
        assert _rows(path) == [("2024-01", "a", 5.0), ("2024-02", "a", 3.0)]
        with duckdb.connect(path, read_only=True) as con:
            # analytics are consumers: one transaction per write, nothing in the bank data's journal
            assert journal.overview(con, bad.run_id).state is None
            assert journal.overview(con, None).pending == []


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_analytics_asset_has_a_blocking_partitioned_check(name: str) -> None:
    from dagster import AssetKey

    from bank_assets.definitions import defs

    node = defs.resolve_asset_graph().get(AssetKey(["analytics", name]))
    checks = [c for c in node.check_keys if c.name == "well_formed"]
    assert checks and node.partitions_def == monthly_partitions
    assert node.metadata["partition_expr"] == "as_of_month"


def test_what_a_c_library_prints_goes_to_the_log_not_the_console(capfd, caplog):
    """HiGHS prints a debug line from C++ inside scipy.optimize.milp; it must not reach the CLI's
    console (past sys.stdout) and must not be lost either."""
    import ctypes
    import logging

    from bank_assets.analytics.native_output import native_output_logged

    with caplog.at_level(logging.DEBUG, logger="bank_assets.analytics.native_output"):
        with native_output_logged("the solver"):
            ctypes.CDLL(None).printf(b"HighsMipSolverData::transformNewIntegerFeasibleSolution\n")
        print("after the block")
    out, err = capfd.readouterr()
    assert "HighsMipSolverData" not in out + err
    assert "after the block" in out
    assert caplog.messages == ["the solver printed: HighsMipSolverData::transformNewIntegerFeasibleSolution"]
