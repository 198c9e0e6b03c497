"""Analytics: statistical marts over gold, one question each, monthly like the rest of the graph.

Gold tables arrive as pandas DataFrames through dagster-duckdb-pandas (``gold_history_reader``:
every month up to the run's last one), the statistics run in ``bank_assets.analytics`` (statsmodels,
scipy, scikit-learn), and each result goes back to the warehouse as ``analytics.<asset name>``
through dagster-duckdb-pandas (``analytics_writer``), replacing the run's months (``as_of_month``)
and journaled like every other write, so a failed run leaves them as they were. A range run
computes every month of the range as of that month (a month never sees later data).
"""

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    Failure,
    MetadataValue,
    Output,
    TableColumn,
    TableSchema,
    asset,
)

from bank_assets.analytics import causal, credit, diagnostic, exploratory, inferential, predictive, prescriptive
from bank_assets.analytics.panel import churn_panel
from bank_assets.assets.atomic import failure, prepare, step_name, undo
from bank_assets.assets.common import (
    GOLD_POOL,
    OWNER,
    SINGLE_RUN,
    check_evaluation,
    check_outputs,
    months_of,
    partitioned_check_spec,
)
from bank_assets.assets.gold import GOLD_AUTOMATION
from bank_assets.partitions import monthly_partitions
from bank_assets.resources import Warehouse
from bank_assets.settings import DBT_PROJECT_DIR

#: the analytics tables' docs (method, columns), shared with dbt's catalog
DOCS_YML = Path(DBT_PROJECT_DIR) / "models" / "analytics" / "_analytics__sources.yml"
#: the pandas schema each asset writes (the yml documents exactly these columns: tests check it)
SCHEMAS: dict[str, dict[str, str]] = {
    "campaign_effects": causal.SCHEMA,
    "churn_drivers": diagnostic.SCHEMA,
    "group_tests": inferential.SCHEMA,
    "churn_scores": predictive.SCORE_SCHEMA,
    "churn_model_evaluation": predictive.EVAL_SCHEMA,
    "volume_forecast": predictive.FORECAST_SCHEMA,
    "retention_actions": prescriptive.SCHEMA,
    "loan_default_drivers": credit.DRIVERS_SCHEMA,
    "payment_timeliness_effect": credit.EFFECT_SCHEMA,
    "credit_limit_proposals": credit.PROPOSALS_SCHEMA,
    "account_closure_reasons": diagnostic.CLOSURE_SCHEMA,
    "geographic_clusters": exploratory.SCHEMA,
}
GROUP = "analytics"
TAGS = {"dagster/kind/pandas": "", "dagster/kind/duckdb": ""}
PARTITION = {"partition_expr": "as_of_month"}


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


def _history(*tables: str) -> dict[str, AssetIn]:
    return {t: AssetIn(key=AssetKey(["gold", t]), input_manager_key="gold_history_reader") for t in tables}


@contextmanager
def _journaled(context: AssetExecutionContext, warehouse: Warehouse) -> Iterator[None]:
    """Settle earlier runs and refuse if this run was rolled back; if the computation fails, roll
    the whole run back (bronze, silver, gold and analytics) before failing the step."""
    with warehouse.connect(log=context.log.info) as con:
        prepare(context, con)
    try:
        yield
    except Exception as e:
        with warehouse.connect(log=context.log.info) as con:
            restored = undo(context, con, e)
        raise failure(step_name(context), e, restored) from e


def _by_month(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    compute: Callable[[dt.date], pd.DataFrame],
    describe: Callable[[pd.DataFrame], dict[str, object]],
) -> Iterator[AssetCheckEvaluation | Output]:
    """compute(month) for every month of the run, oldest first, each month's metadata and check
    result on its partition; the concatenation is the output the IO manager writes. A month whose
    result breaks WELL_FORMED fails the step (and rolls the run back) before anything is written."""
    frames = []
    key = context.asset_key
    with _journaled(context, warehouse):
        for pk, month in months_of(context):
            df = compute(month)
            problems = well_formed_problems(df, month)
            yield check_evaluation(
                key, WELL_FORMED, pk, not problems, "ERROR", True, {"rows": len(df), "problems": problems[:10]}
            )
            if problems:
                raise Failure(description=f"{key.to_user_string()} {month:%Y-%m} is not well formed: {problems[:3]}")
            frames.append(df)
            context.add_asset_metadata({"rows": MetadataValue.int(len(df)), **describe(df)}, partition_key=pk)
            context.log.info(f"{key.to_user_string()} {month:%Y-%m}: {len(df)} rows")
    non_empty = [f for f in frames if not f.empty]
    yield Output(pd.concat(non_empty, ignore_index=True) if non_empty else frames[0])
    yield from check_outputs(context)


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
            "Every row is of its month, every interval contains its estimate, probabilities lie in [0, 1]. "
            "Blocking: a month that fails is not written and the run rolls back.",
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


@asset(
    ins=_history("fct_customer_monthly_summary", "fct_marketing_touches"),
    **_common("campaign_effects"),
)
def campaign_effects(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    fct_customer_monthly_summary: pd.DataFrame,
    fct_marketing_touches: pd.DataFrame,
) -> Iterator[AssetCheckEvaluation | Output]:
    cols = ["campaign_id", "design", "purchase_rate_ratio", "ci_low", "ci_high", "p_value"]
    yield from _by_month(
        context,
        warehouse,
        lambda m: causal.campaign_effects(fct_customer_monthly_summary, fct_marketing_touches, m),
        lambda df: {"estimates": _md(df, cols)},
    )


@asset(
    ins=_history("fct_customer_monthly_summary"),
    **_common("churn_drivers"),
)
def churn_drivers(
    context: AssetExecutionContext, warehouse: Warehouse, fct_customer_monthly_summary: pd.DataFrame
) -> Iterator[AssetCheckEvaluation | Output]:
    panel = churn_panel(fct_customer_monthly_summary)
    cols = ["driver", "odds_ratio", "ci_low", "ci_high", "p_value"]
    yield from _by_month(
        context, warehouse, lambda m: diagnostic.churn_drivers(panel, m), lambda df: {"drivers": _md(df, cols)}
    )


@asset(
    ins=_history("fct_customer_monthly_summary", "fct_customer_interactions", "fct_fraud_alerts"),
    **_common("group_tests"),
)
def group_tests(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    fct_customer_monthly_summary: pd.DataFrame,
    fct_customer_interactions: pd.DataFrame,
    fct_fraud_alerts: pd.DataFrame,
) -> Iterator[AssetCheckEvaluation | Output]:
    panel = churn_panel(fct_customer_monthly_summary)
    cols = ["test", "group_a", "group_b", "estimate", "ci_low", "ci_high", "p_value"]

    def compute(m: dt.date) -> pd.DataFrame:
        parts = [
            inferential.group_tests(fct_customer_monthly_summary, panel, fct_customer_interactions, m),
            inferential.fraud_rule_tests(fct_fraud_alerts, m),
        ]
        return pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)

    yield from _by_month(context, warehouse, compute, lambda df: {"tests": _md(df, cols, limit=20)})


@asset(
    ins=_history("fct_customer_monthly_summary"),
    **_common("churn_scores"),
)
def churn_scores(
    context: AssetExecutionContext, warehouse: Warehouse, fct_customer_monthly_summary: pd.DataFrame
) -> Iterator[AssetCheckEvaluation | Output]:
    panel = churn_panel(fct_customer_monthly_summary)
    yield from _by_month(
        context,
        warehouse,
        lambda m: predictive.churn_model(panel, m)[0],
        lambda df: {"mean_probability": MetadataValue.float(float(df["churn_probability"].mean()))} if len(df) else {},
    )


@asset(
    ins=_history("fct_customer_monthly_summary"),
    **_common("churn_model_evaluation"),
)
def churn_model_evaluation(
    context: AssetExecutionContext, warehouse: Warehouse, fct_customer_monthly_summary: pd.DataFrame
) -> Iterator[AssetCheckEvaluation | Output]:
    panel = churn_panel(fct_customer_monthly_summary)
    yield from _by_month(
        context,
        warehouse,
        lambda m: predictive.churn_model(panel, m)[1],
        lambda df: {"auc_out_of_time": MetadataValue.float(float(df["auc_out_of_time"].iloc[0]))} if len(df) else {},
    )


@asset(
    ins=_history("fct_customer_monthly_summary"),
    **_common("volume_forecast"),
)
def volume_forecast(
    context: AssetExecutionContext, warehouse: Warehouse, fct_customer_monthly_summary: pd.DataFrame
) -> Iterator[AssetCheckEvaluation | Output]:
    cols = ["forecast_month", "predicted_transactions", "pi_low", "pi_high"]
    yield from _by_month(
        context,
        warehouse,
        lambda m: predictive.volume_forecast(fct_customer_monthly_summary, m),
        lambda df: {"forecast": _md(df, cols)},
    )


@asset(
    ins={
        **_history("fct_customer_monthly_summary"),
        "churn_scores": AssetIn(key=AssetKey(["analytics", "churn_scores"]), input_manager_key="analytics_writer"),
    },
    **_common("retention_actions"),
)
def retention_actions(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    fct_customer_monthly_summary: pd.DataFrame,
    churn_scores: pd.DataFrame,
) -> Iterator[AssetCheckEvaluation | Output]:
    def compute(m: dt.date) -> pd.DataFrame:
        scores = (
            churn_scores[pd.to_datetime(churn_scores["as_of_month"]).dt.date == m]
            if len(churn_scores)
            else churn_scores
        )
        return prescriptive.retention_actions(scores, fct_customer_monthly_summary, m)

    yield from _by_month(
        context,
        warehouse,
        compute,
        lambda df: (
            {"expected_value_cents": MetadataValue.int(int(df["expected_value_cents"].sum()))} if len(df) else {}
        ),
    )


CREDIT_INPUTS = ("fct_credit_applications", "fct_loan_payments", "dim_economic_indicators")


@asset(ins=_history(*CREDIT_INPUTS), **_common("loan_default_drivers"))
def loan_default_drivers(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    fct_credit_applications: pd.DataFrame,
    fct_loan_payments: pd.DataFrame,
    dim_economic_indicators: pd.DataFrame,
) -> Iterator[AssetCheckEvaluation | Output]:
    panel = credit.loan_panel(fct_credit_applications, fct_loan_payments, dim_economic_indicators)
    cols = ["driver", "odds_ratio", "ci_low", "ci_high", "p_value"]
    yield from _by_month(
        context, warehouse, lambda m: credit.default_drivers(panel, m), lambda df: {"drivers": _md(df, cols)}
    )


@asset(ins=_history(*CREDIT_INPUTS), **_common("payment_timeliness_effect"))
def payment_timeliness_effect(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    fct_credit_applications: pd.DataFrame,
    fct_loan_payments: pd.DataFrame,
    dim_economic_indicators: pd.DataFrame,
) -> Iterator[AssetCheckEvaluation | Output]:
    panel = credit.loan_panel(fct_credit_applications, fct_loan_payments, dim_economic_indicators)
    cols = ["adjustment", "odds_ratio", "ci_low", "ci_high", "p_value", "adjusted_for"]
    yield from _by_month(
        context, warehouse, lambda m: credit.timeliness_effect(panel, m), lambda df: {"effect": _md(df, cols)}
    )


@asset(
    ins=_history(*CREDIT_INPUTS, "fct_account_balance_monthly", "dim_product"),
    **_common("credit_limit_proposals"),
)
def credit_limit_proposals(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    fct_credit_applications: pd.DataFrame,
    fct_loan_payments: pd.DataFrame,
    dim_economic_indicators: pd.DataFrame,
    fct_account_balance_monthly: pd.DataFrame,
    dim_product: pd.DataFrame,
) -> Iterator[AssetCheckEvaluation | Output]:
    panel = credit.loan_panel(fct_credit_applications, fct_loan_payments, dim_economic_indicators)
    accounts = fct_account_balance_monthly
    cards = accounts[(accounts["product"] == "CREDIT_CARD") & (accounts["status"] == "ACTIVE")]
    card_versions = dim_product[dim_product["product_code"] == "CREDIT_CARD"]

    def compute(m: dt.date) -> pd.DataFrame:
        month_cards = cards[pd.to_datetime(cards["snapshot_month"]) == pd.Timestamp(m)]
        priced = card_versions[pd.to_datetime(card_versions["valid_from"]) <= pd.Timestamp(m)]
        if priced.empty:
            return credit.limit_proposals(panel, fct_credit_applications, month_cards.iloc[:0], 0.0, m)
        rate = float(priced.sort_values("valid_from")["annual_rate"].iloc[-1])
        return credit.limit_proposals(panel, fct_credit_applications, month_cards, rate, m)

    yield from _by_month(
        context,
        warehouse,
        compute,
        lambda df: (
            {
                "proposed": MetadataValue.int(int(df["proposed"].sum())),
                "expected_loss_cents": MetadataValue.int(int(df.loc[df["proposed"], "expected_loss_cents"].sum())),
                "risk_budget_cents": MetadataValue.int(int(df["risk_budget_cents"].iloc[0])),
            }
            if len(df)
            else {}
        ),
    )


@asset(ins=_history("fct_account_events"), **_common("account_closure_reasons"))
def account_closure_reasons(
    context: AssetExecutionContext, warehouse: Warehouse, fct_account_events: pd.DataFrame
) -> Iterator[AssetCheckEvaluation | Output]:
    cols = ["segment", "closure_reason", "n_customers", "share", "ci_low", "ci_high"]
    yield from _by_month(
        context,
        warehouse,
        lambda m: diagnostic.closure_reasons(fct_account_events, m),
        lambda df: (
            {"reasons": _md(df, cols, limit=20), "chi2_p_value": MetadataValue.float(float(df["chi2_p_value"].iloc[0]))}
            if len(df) and pd.notna(df["chi2_p_value"].iloc[0])
            else {"reasons": _md(df, cols, limit=20)}
        ),
    )


@asset(ins=_history("fct_customer_monthly_summary", "dim_branch"), **_common("geographic_clusters"))
def geographic_clusters(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    fct_customer_monthly_summary: pd.DataFrame,
    dim_branch: pd.DataFrame,
) -> Iterator[AssetCheckEvaluation | Output]:
    cols = ["district", "cluster", "active_customers", "mean_spend_pen", "affluent_share"]
    yield from _by_month(
        context,
        warehouse,
        lambda m: exploratory.geographic_clusters(fct_customer_monthly_summary, dim_branch, m),
        lambda df: (
            {
                "k": MetadataValue.int(int(df["k"].iloc[0])),
                "silhouette": MetadataValue.float(float(df["silhouette"].iloc[0])),
                "clusters": _md(df, cols, limit=40),
            }
            if len(df)
            else {}
        ),
    )


analytics_assets = [
    campaign_effects,
    churn_drivers,
    group_tests,
    churn_scores,
    churn_model_evaluation,
    volume_forecast,
    retention_actions,
    loan_default_drivers,
    payment_timeliness_effect,
    credit_limit_proposals,
    account_closure_reasons,
    geographic_clusters,
]
