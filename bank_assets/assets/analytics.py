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

import pandas as pd
from dagster import AssetExecutionContext, AssetIn, AssetKey, MetadataValue, Output, asset

from bank_assets.analytics import causal, diagnostic, inferential, predictive, prescriptive
from bank_assets.analytics.panel import churn_panel
from bank_assets.assets.atomic import failure, prepare, step_name, undo
from bank_assets.assets.common import GOLD_POOL, OWNER, SINGLE_RUN, months_of
from bank_assets.assets.gold import GOLD_AUTOMATION
from bank_assets.partitions import monthly_partitions
from bank_assets.resources import Warehouse

GROUP = "analytics"
TAGS = {"dagster/kind/pandas": "", "dagster/kind/duckdb": ""}
PARTITION = {"partition_expr": "as_of_month"}


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
) -> Output[pd.DataFrame]:
    """compute(month) for every month of the run, oldest first, each month's metadata on its
    partition; the concatenation is the output the IO manager writes."""
    frames = []
    with _journaled(context, warehouse):
        for pk, month in months_of(context):
            df = compute(month)
            frames.append(df)
            meta = {"rows": MetadataValue.int(len(df)), **describe(df)}
            context.add_asset_metadata(meta, partition_key=pk)
            context.log.info(f"{context.asset_key.to_user_string()} {month:%Y-%m}: {len(df)} rows")
    non_empty = [f for f in frames if not f.empty]
    out = pd.concat(non_empty, ignore_index=True) if non_empty else frames[0]
    return Output(out)


def _md(df: pd.DataFrame, columns: list[str], limit: int = 12) -> MetadataValue:
    if df.empty:
        return MetadataValue.md("_no rows: not enough history yet_")
    return MetadataValue.md(df[columns].head(limit).to_markdown(index=False, floatfmt=".4g"))


def _common(**kw: object) -> dict:
    return dict(
        group_name=GROUP,
        partitions_def=monthly_partitions,
        backfill_policy=SINGLE_RUN,
        automation_condition=GOLD_AUTOMATION,
        pool=GOLD_POOL,
        owners=[OWNER],
        tags=TAGS,
        io_manager_key="analytics_writer",
        metadata=PARTITION,
        **kw,
    )


@asset(
    key=AssetKey(["analytics", "campaign_effects"]),
    ins=_history("fct_customer_monthly_summary", "fct_marketing_touches"),
    description="Causal: did each campaign make its treated customers buy more? Difference-in-differences "
    "against the randomised control group (Poisson GLM, month fixed effects, SE clustered by customer), "
    "with a pre-period placebo that must find nothing.",
    **_common(),
)
def campaign_effects(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    fct_customer_monthly_summary: pd.DataFrame,
    fct_marketing_touches: pd.DataFrame,
) -> Output[pd.DataFrame]:
    cols = ["campaign_id", "design", "purchase_rate_ratio", "ci_low", "ci_high", "p_value"]
    return _by_month(
        context,
        warehouse,
        lambda m: causal.campaign_effects(fct_customer_monthly_summary, fct_marketing_touches, m),
        lambda df: {"estimates": _md(df, cols)},
    )


@asset(
    key=AssetKey(["analytics", "churn_drivers"]),
    ins=_history("fct_customer_monthly_summary"),
    description="Diagnostic: what drives churn? Logit of next month's churn on this month's features "
    "(complaints, inquiries, purchases, balance trend, products, tenure, segment), as odds ratios with 95 % CIs.",
    **_common(),
)
def churn_drivers(
    context: AssetExecutionContext, warehouse: Warehouse, fct_customer_monthly_summary: pd.DataFrame
) -> Output[pd.DataFrame]:
    panel = churn_panel(fct_customer_monthly_summary)
    cols = ["driver", "odds_ratio", "ci_low", "ci_high", "p_value"]
    return _by_month(
        context, warehouse, lambda m: diagnostic.churn_drivers(panel, m), lambda df: {"drivers": _md(df, cols)}
    )


@asset(
    key=AssetKey(["analytics", "group_tests"]),
    ins=_history("fct_customer_monthly_summary", "fct_customer_interactions"),
    description="Inferential: segment spend differences (Welch t-tests with CIs), churn rate per segment "
    "(Wilson intervals), complaint rate before churn vs the rest (ratio CI) and an A/B of service channels.",
    **_common(),
)
def group_tests(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    fct_customer_monthly_summary: pd.DataFrame,
    fct_customer_interactions: pd.DataFrame,
) -> Output[pd.DataFrame]:
    panel = churn_panel(fct_customer_monthly_summary)
    cols = ["test", "group_a", "group_b", "estimate", "ci_low", "ci_high", "p_value"]
    return _by_month(
        context,
        warehouse,
        lambda m: inferential.group_tests(fct_customer_monthly_summary, panel, fct_customer_interactions, m),
        lambda df: {"tests": _md(df, cols)},
    )


@asset(
    key=AssetKey(["analytics", "churn_scores"]),
    ins=_history("fct_customer_monthly_summary"),
    description="Predictive: each active customer's probability of churning next month, from a logistic "
    "regression (scikit-learn) trained on earlier months only; its out-of-time AUC is in churn_model_evaluation.",
    **_common(),
)
def churn_scores(
    context: AssetExecutionContext, warehouse: Warehouse, fct_customer_monthly_summary: pd.DataFrame
) -> Output[pd.DataFrame]:
    panel = churn_panel(fct_customer_monthly_summary)
    return _by_month(
        context,
        warehouse,
        lambda m: predictive.churn_model(panel, m)[0],
        lambda df: {"mean_probability": MetadataValue.float(float(df["churn_probability"].mean()))} if len(df) else {},
    )


@asset(
    key=AssetKey(["analytics", "churn_model_evaluation"]),
    ins=_history("fct_customer_monthly_summary"),
    description="Predictive: how well the churn model ranks churners it never saw: trained on every labelled "
    "month but the latest, AUC on the latest (out of time).",
    **_common(),
)
def churn_model_evaluation(
    context: AssetExecutionContext, warehouse: Warehouse, fct_customer_monthly_summary: pd.DataFrame
) -> Output[pd.DataFrame]:
    panel = churn_panel(fct_customer_monthly_summary)
    return _by_month(
        context,
        warehouse,
        lambda m: predictive.churn_model(panel, m)[1],
        lambda df: {"auc_out_of_time": MetadataValue.float(float(df["auc_out_of_time"].iloc[0]))} if len(df) else {},
    )


@asset(
    key=AssetKey(["analytics", "volume_forecast"]),
    ins=_history("fct_customer_monthly_summary"),
    description="Predictive: transactions of the next 3 months with 95 % prediction intervals "
    "(statsmodels ETS, damped additive trend, fitted on the months up to the partition).",
    **_common(),
)
def volume_forecast(
    context: AssetExecutionContext, warehouse: Warehouse, fct_customer_monthly_summary: pd.DataFrame
) -> Output[pd.DataFrame]:
    cols = ["forecast_month", "predicted_transactions", "pi_low", "pi_high"]
    return _by_month(
        context,
        warehouse,
        lambda m: predictive.volume_forecast(fct_customer_monthly_summary, m),
        lambda df: {"forecast": _md(df, cols)},
    )


@asset(
    key=AssetKey(["analytics", "retention_actions"]),
    ins={
        **_history("fct_customer_monthly_summary"),
        "churn_scores": AssetIn(key=AssetKey(["analytics", "churn_scores"]), input_manager_key="analytics_writer"),
    },
    description="Prescriptive: which retention action (call, fee-waiver offer) for which customer, ranked by "
    "expected value = churn probability x 12 months of margin x save rate - cost (PEN cents).",
    **_common(),
)
def retention_actions(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    fct_customer_monthly_summary: pd.DataFrame,
    churn_scores: pd.DataFrame,
) -> Output[pd.DataFrame]:
    def compute(m: dt.date) -> pd.DataFrame:
        scores = (
            churn_scores[pd.to_datetime(churn_scores["as_of_month"]).dt.date == m]
            if len(churn_scores)
            else churn_scores
        )
        return prescriptive.retention_actions(scores, fct_customer_monthly_summary, m)

    return _by_month(
        context,
        warehouse,
        compute,
        lambda df: (
            {"expected_value_cents": MetadataValue.int(int(df["expected_value_cents"].sum()))} if len(df) else {}
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
]
