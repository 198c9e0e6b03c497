"""Analytics: statistical marts over gold, one question each, monthly like the rest of the graph.

Gold tables arrive as pandas DataFrames through dagster-duckdb-pandas (``gold_history_reader``:
every month up to the run's last one), the statistics run in ``bank_assets.analytics`` (statsmodels,
scipy, scikit-learn), and each result goes back to the warehouse as ``analytics.<asset name>``
through dagster-duckdb-pandas (``analytics_writer``), replacing the run's months (``as_of_month``)
in one transaction. A range run computes every month of the range as of that month (a month
never sees later data). What each table reads and computes is ``bank_assets.analytics.tables``.

Analytics are consumers of the month's bank data: gold publishes it (``bank_assets.assets.gold``)
before any of them runs, and a failing analytics table fails its own step and check only.
"""

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path

import pandas as pd
import yaml
from dagster import (
    AssetCheckEvaluation,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetsDefinition,
    Failure,
    MetadataValue,
    Output,
    TableColumn,
    TableSchema,
    asset,
)

from bank_assets.analytics.estimable import Note, notes_of
from bank_assets.analytics.tables import ANALYTICS_INPUTS, ANALYTICS_MONTH_COLUMN, TABLES, AnalyticsTable
from bank_assets.assets.common import (
    GOLD_POOL,
    OWNER,
    SINGLE_RUN,
    check_evaluation,
    check_outputs,
    months_of,
    partitioned_check_spec,
)
from bank_assets.assets.gold_translator import GOLD_AUTOMATION
from bank_assets.partitions import monthly_partitions
from bank_assets.settings import DBT_PROJECT_DIR

#: the analytics tables' docs (method, columns), shared with dbt's catalog
DOCS_YML = Path(DBT_PROJECT_DIR) / "models" / "analytics" / "_analytics__sources.yml"
#: the pandas schema each asset writes (the yml documents exactly these columns: tests check it)
SCHEMAS: dict[str, Mapping[str, str]] = {name: t.schema for name, t in TABLES.items()}
GROUP = "analytics"
TAGS = {"dagster/kind/pandas": "", "dagster/kind/duckdb": ""}
PARTITION = {"partition_expr": ANALYTICS_MONTH_COLUMN}


@cache
def table_docs() -> dict[str, dict]:
    """table -> its entry in DOCS_YML (description, columns)."""
    doc = yaml.safe_load(DOCS_YML.read_text(encoding="utf-8"))
    (source,) = [src for src in doc["sources"] if src["name"] == "analytics"]
    return {t["name"]: t for t in source["tables"]}


def _column_schema(name: str) -> TableSchema:
    described = {c["name"]: c.get("description", "") for c in table_docs()[name]["columns"]}
    return TableSchema(
        columns=[TableColumn(c, DUCKDB_TYPES[t], description=described.get(c, "")) for c, t in SCHEMAS[name].items()]
    )


#: DuckDB type of each pandas dtype the analytics write
DUCKDB_TYPES = {
    "datetime64[ns]": "TIMESTAMP_NS",
    "string": "VARCHAR",
    "float64": "DOUBLE",
    "int64": "BIGINT",
    "Int64": "BIGINT",  # nullable
    "bool": "BOOLEAN",
}


def _by_month(
    context: AssetExecutionContext,
    compute: Callable[[dt.date], pd.DataFrame],
    describe: Callable[[pd.DataFrame], dict[str, object]],
) -> Iterator[AssetCheckEvaluation | Output]:
    """compute(month) for every month of the run, oldest first, each month's metadata and check
    result on its partition; the concatenation is the output the IO manager writes (one
    transaction). What could not be estimated is a WARN of the month's check, with the reasons.

    A month whose computation raises or whose result breaks WELL_FORMED fails its check and this
    step before anything is written. Analytics are consumers of gold: their failure never rolls
    back the bank data (landing .. gold) the run already published."""
    frames = []
    key = context.asset_key
    for pk, month in months_of(context):
        try:
            df = compute(month)
        except Exception as e:
            yield check_evaluation(key, WELL_FORMED, pk, False, "ERROR", True, {"error": f"{type(e).__name__}: {e}"})
            raise Failure(description=consumer_failure(key, month, f"{type(e).__name__}: {e}")) from e
        problems = well_formed_problems(df, month)
        notes = notes_of(df)
        warns = [str(n) for n in notes if n.warns]
        meta = {
            "rows": len(df),
            "problems": problems[:10],
            "not_estimable": warns,
            "not_yet": [str(n) for n in notes if not n.warns],
        }
        severity = "WARN" if warns and not problems else "ERROR"  # a pass is reported at the nominal ERROR
        yield check_evaluation(key, WELL_FORMED, pk, not (problems or warns), severity, True, meta)
        if problems:
            raise Failure(description=consumer_failure(key, month, f"not well formed: {problems[:3]}"))
        frames.append(df)
        context.add_asset_metadata(
            {"rows": MetadataValue.int(len(df)), **describe(df), **_notes_metadata(notes)}, partition_key=pk
        )
        context.log.info(f"{key.to_user_string()} {month:%Y-%m}: {len(df)} rows" + "".join(f"; {w}" for w in warns))
    non_empty = [f for f in frames if not f.empty]
    yield Output(pd.concat(non_empty, ignore_index=True) if non_empty else frames[0])
    yield from check_outputs(context)


def consumer_failure(key: AssetKey, month: dt.date, what: str) -> str:
    return (
        f"{key.to_user_string()} {month:%Y-%m}: {what}. Nothing of this table was written; bronze, silver and gold "
        "stay published (analytics are consumers of gold)."
    )


def _notes_metadata(notes: list[Note]) -> dict[str, object]:
    if not notes:
        return {}
    lines = [f"- {'**not estimable**' if n.warns else 'not yet'}: {n}" for n in notes]
    return {"not_estimable": MetadataValue.md("\n".join(lines))}


#: the blocking check of every analytics table, recorded on each month's partition
WELL_FORMED = "well_formed"
#: (low, estimate, high) column triples whose order the check verifies where present
INTERVALS = (
    ("ci_low", "purchase_rate_ratio", "ci_high"),
    ("ci_low", "odds_ratio", "ci_high"),
    ("ci_low", "estimate", "ci_high"),
    ("ci_low", "share", "ci_high"),
    ("pi_low", "predicted_transactions", "pi_high"),
)
TOLERANCE = 1e-9
UNIT_INTERVAL = (
    "p_value",
    "churn_probability",
    "auc_out_of_time",
    "base_rate",
    "probability_of_default",
    "default_rate_late",
    "default_rate_on_time",
    "share",
    "affluent_share",
    "chi2_p_value",
)


def well_formed_problems(df: pd.DataFrame, month: dt.date) -> list[str]:
    """Every row belongs to the month, intervals contain their estimate, probabilities lie in [0, 1]."""
    problems = []
    if len(df) and (pd.to_datetime(df["as_of_month"]) != pd.Timestamp(month)).any():
        problems.append(f"rows outside as_of_month {month:%Y-%m}")
    for lo, est, hi in INTERVALS:
        if {lo, est, hi} <= set(df.columns) and all(pd.api.types.is_numeric_dtype(df[c]) for c in (lo, est, hi)):
            slack = TOLERANCE * df[est].abs().clip(lower=1)  # floating-point noise: a Wilson bound of 1e-17 at 0
            bad = df[~((df[lo] <= df[est] + slack) & (df[est] <= df[hi] + slack))]
            problems += [f"{est} {r[est]!r} outside [{r[lo]!r}, {r[hi]!r}]" for _, r in bad.iterrows()]
    if {"proposed", "expected_loss_cents", "risk_budget_cents"} <= set(df.columns) and len(df):
        spent = int(df.loc[df["proposed"], "expected_loss_cents"].sum())
        budget = int(df["risk_budget_cents"].iloc[0]) + len(df)  # + 1 cent of rounding per row
        if spent > budget:
            problems.append(f"proposals spend {spent} cents of expected loss, over the risk budget {budget}")
    for col in UNIT_INTERVAL:
        if col in df.columns:
            values = df[col].dropna()
            problems += [f"{col} {v!r} outside [0, 1]" for v in values[(values < 0) | (values > 1)]]
    return problems


def _check_specs(name: str) -> list[AssetCheckSpec]:
    return [
        partitioned_check_spec(
            WELL_FORMED,
            AssetKey(["analytics", name]),
            "Every row is of its month, every interval contains its estimate, probabilities lie in [0, 1] "
            "(ERROR, blocking: the table is not written; bronze, silver and gold stay published). WARN when a "
            "model could not be estimated on the month's data (metadata not_estimable names each reason).",
            blocking=True,
        )
    ]


def _md(df: pd.DataFrame, columns: list[str], limit: int = 12) -> MetadataValue:
    if df.empty:
        return MetadataValue.md("_no rows: not enough history yet_")
    return MetadataValue.md(df[columns].head(limit).to_markdown(index=False, floatfmt=".4g"))


def _common(name: str, **kw: object) -> dict:
    return dict(
        key=AssetKey(["analytics", name]),
        check_specs=_check_specs(name),
        group_name=GROUP,
        partitions_def=monthly_partitions,
        backfill_policy=SINGLE_RUN,
        automation_condition=GOLD_AUTOMATION,
        pool=GOLD_POOL,
        owners=[OWNER],
        tags=TAGS,
        io_manager_key="analytics_writer",
        description=" ".join(table_docs()[name]["description"].split()),
        metadata={**PARTITION, "dagster/column_schema": _column_schema(name)},
        **kw,
    )


def _float(column: str) -> Callable[[pd.DataFrame], dict[str, object]]:
    return lambda df: {column: MetadataValue.float(float(df[column].iloc[0]))} if len(df) else {}


def _table(columns: list[str], label: str, limit: int = 12) -> Callable[[pd.DataFrame], dict[str, object]]:
    return lambda df: {label: _md(df, columns, limit)}


def _proposals(df: pd.DataFrame) -> dict[str, object]:
    if df.empty:
        return {}
    return {
        "proposed": MetadataValue.int(int(df["proposed"].sum())),
        "expected_loss_cents": MetadataValue.int(int(df.loc[df["proposed"], "expected_loss_cents"].sum())),
        "risk_budget_cents": MetadataValue.int(int(df["risk_budget_cents"].iloc[0])),
    }


def _reasons(df: pd.DataFrame) -> dict[str, object]:
    cols = ["segment", "closure_reason", "n_customers", "share", "ci_low", "ci_high"]
    out: dict[str, object] = {"reasons": _md(df, cols, limit=20)}
    if len(df) and pd.notna(df["chi2_p_value"].iloc[0]):
        out["chi2_p_value"] = MetadataValue.float(float(df["chi2_p_value"].iloc[0]))
    return out


def _clusters(df: pd.DataFrame) -> dict[str, object]:
    if df.empty:
        return {}
    cols = ["district", "cluster", "active_customers", "mean_spend_pen", "affluent_share"]
    return {
        "k": MetadataValue.int(int(df["k"].iloc[0])),
        "silhouette": MetadataValue.float(float(df["silhouette"].iloc[0])),
        "clusters": _md(df, cols, limit=40),
    }


ESTIMATES = ["odds_ratio", "ci_low", "ci_high", "p_value"]
#: what each table's metadata shows of a month's result
DESCRIBE: dict[str, Callable[[pd.DataFrame], dict[str, object]]] = {
    "campaign_effects": _table(
        ["campaign_id", "design", "purchase_rate_ratio", "ci_low", "ci_high", "p_value"], "estimates"
    ),
    "churn_drivers": _table(["driver", *ESTIMATES], "drivers"),
    "group_tests": _table(["test", "group_a", "group_b", "estimate", "ci_low", "ci_high", "p_value"], "tests", 20),
    "churn_scores": lambda df: (
        {"mean_probability": MetadataValue.float(float(df["churn_probability"].mean()))} if len(df) else {}
    ),
    "churn_model_evaluation": _float("auc_out_of_time"),
    "volume_forecast": _table(["forecast_month", "predicted_transactions", "pi_low", "pi_high"], "forecast"),
    "retention_actions": lambda df: (
        {"expected_value_cents": MetadataValue.int(int(df["expected_value_cents"].sum()))} if len(df) else {}
    ),
    "loan_default_drivers": _table(["driver", *ESTIMATES], "drivers"),
    "payment_timeliness_effect": _table(["adjustment", *ESTIMATES, "adjusted_for"], "effect"),
    "credit_limit_proposals": _proposals,
    "account_closure_reasons": _reasons,
    "geographic_clusters": _clusters,
}


def _ins(table: AnalyticsTable) -> dict[str, AssetIn]:
    return {
        name: AssetIn(key=AssetKey(["analytics", name]), input_manager_key="analytics_writer")
        if name in ANALYTICS_INPUTS
        else AssetIn(key=AssetKey(["gold", name]), input_manager_key="gold_history_reader")
        for name in table.inputs
    }


def analytics_asset(table: AnalyticsTable) -> AssetsDefinition:
    """The asset of one analytics table: its inputs loaded once, each month of the run computed."""

    @asset(ins=_ins(table), **_common(table.name))
    def _asset(context: AssetExecutionContext, **inputs: pd.DataFrame) -> Iterator[AssetCheckEvaluation | Output]:
        yield from _by_month(context, table.build(inputs), DESCRIBE[table.name])

    return _asset


analytics_assets = [analytics_asset(t) for t in TABLES.values()]
