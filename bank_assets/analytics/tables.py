"""Each analytics table as a pure function of its inputs: what it reads and how a month is computed.

``bank_assets.assets.analytics`` makes each entry an asset (the inputs arrive from gold through
dagster-duckdb-pandas); the tests run the same entries over every month of the default range on
recomputed inputs, so the assets and the tests exercise one piece of glue.

``build(inputs)`` does the work shared by the run's months once (e.g. the churn panel) and returns
``compute(month) -> DataFrame``. Every compute is total (``bank_assets.analytics.estimable``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from bank_assets.analytics import causal, credit, diagnostic, exploratory, inferential, predictive, prescriptive
from bank_assets.analytics.estimable import notes_of, with_notes
from bank_assets.analytics.panel import churn_panel

#: the month column of every analytics table (its rows' as-of month, the partition it is written to)
ANALYTICS_MONTH_COLUMN = "as_of_month"

Inputs = Mapping[str, pd.DataFrame]
Compute = Callable[[dt.date], pd.DataFrame]


@dataclass(frozen=True)
class AnalyticsTable:
    name: str
    inputs: tuple[str, ...]  # gold tables (every month up to the run's last), or analytics tables
    schema: Mapping[str, str]
    build: Callable[[Inputs], Compute]


def _campaign_effects(t: Inputs) -> Compute:
    return lambda m: causal.campaign_effects(t["fct_customer_monthly_summary"], t["fct_marketing_touches"], m)


def _churn_drivers(t: Inputs) -> Compute:
    panel = churn_panel(t["fct_customer_monthly_summary"])
    return lambda m: diagnostic.churn_drivers(panel, m)


def _group_tests(t: Inputs) -> Compute:
    summary = t["fct_customer_monthly_summary"]
    panel = churn_panel(summary)

    def compute(m: dt.date) -> pd.DataFrame:
        parts = [
            inferential.group_tests(summary, panel, t["fct_customer_interactions"], m),
            inferential.fraud_rule_tests(t["fct_fraud_alerts"], m),
        ]
        out = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
        out.attrs = {}
        return with_notes(out, [n for p in parts for n in notes_of(p)])

    return compute


def _churn_scores(t: Inputs) -> Compute:
    panel = churn_panel(t["fct_customer_monthly_summary"])
    return lambda m: predictive.churn_model(panel, m)[0]


def _churn_model_evaluation(t: Inputs) -> Compute:
    panel = churn_panel(t["fct_customer_monthly_summary"])
    return lambda m: predictive.churn_model(panel, m)[1]


def _volume_forecast(t: Inputs) -> Compute:
    return lambda m: predictive.volume_forecast(t["fct_customer_monthly_summary"], m)


def _retention_actions(t: Inputs) -> Compute:
    scores = t["churn_scores"]

    def compute(m: dt.date) -> pd.DataFrame:
        month = scores[pd.to_datetime(scores["as_of_month"]).dt.date == m] if len(scores) else scores
        return prescriptive.retention_actions(month, t["fct_customer_monthly_summary"], m)

    return compute


CREDIT_INPUTS = ("fct_credit_applications", "fct_loan_payments", "dim_economic_indicators")


def _loan_panel(t: Inputs) -> pd.DataFrame:
    return credit.loan_panel(t["fct_credit_applications"], t["fct_loan_payments"], t["dim_economic_indicators"])


def _loan_default_drivers(t: Inputs) -> Compute:
    panel = _loan_panel(t)
    return lambda m: credit.default_drivers(panel, m)


def _payment_timeliness_effect(t: Inputs) -> Compute:
    panel = _loan_panel(t)
    return lambda m: credit.timeliness_effect(panel, m)


def _credit_limit_proposals(t: Inputs) -> Compute:
    panel = _loan_panel(t)
    accounts = t["fct_account_balance_monthly"]
    cards = accounts[(accounts["product"] == "CREDIT_CARD") & (accounts["status"] == "ACTIVE")]
    card_versions = t["dim_product"][t["dim_product"]["product_code"] == "CREDIT_CARD"]

    def compute(m: dt.date) -> pd.DataFrame:
        month_cards = cards[pd.to_datetime(cards["snapshot_month"]) == pd.Timestamp(m)]
        priced = card_versions[pd.to_datetime(card_versions["valid_from"]) <= pd.Timestamp(m)]
        if priced.empty:
            return credit.limit_proposals(panel, t["fct_credit_applications"], month_cards.iloc[:0], 0.0, m)
        rate = float(priced.sort_values("valid_from")["annual_rate"].iloc[-1])
        return credit.limit_proposals(panel, t["fct_credit_applications"], month_cards, rate, m)

    return compute


def _account_closure_reasons(t: Inputs) -> Compute:
    return lambda m: diagnostic.closure_reasons(t["fct_account_events"], m)


def _geographic_clusters(t: Inputs) -> Compute:
    return lambda m: exploratory.geographic_clusters(t["fct_customer_monthly_summary"], t["dim_branch"], m)


SUMMARY = "fct_customer_monthly_summary"
TABLES: dict[str, AnalyticsTable] = {
    t.name: t
    for t in (
        AnalyticsTable("campaign_effects", (SUMMARY, "fct_marketing_touches"), causal.SCHEMA, _campaign_effects),
        AnalyticsTable("churn_drivers", (SUMMARY,), diagnostic.SCHEMA, _churn_drivers),
        AnalyticsTable(
            "group_tests",
            (SUMMARY, "fct_customer_interactions", "fct_fraud_alerts"),
            inferential.SCHEMA,
            _group_tests,
        ),
        AnalyticsTable("churn_scores", (SUMMARY,), predictive.SCORE_SCHEMA, _churn_scores),
        AnalyticsTable("churn_model_evaluation", (SUMMARY,), predictive.EVAL_SCHEMA, _churn_model_evaluation),
        AnalyticsTable("volume_forecast", (SUMMARY,), predictive.FORECAST_SCHEMA, _volume_forecast),
        AnalyticsTable("retention_actions", (SUMMARY, "churn_scores"), prescriptive.SCHEMA, _retention_actions),
        AnalyticsTable("loan_default_drivers", CREDIT_INPUTS, credit.DRIVERS_SCHEMA, _loan_default_drivers),
        AnalyticsTable("payment_timeliness_effect", CREDIT_INPUTS, credit.EFFECT_SCHEMA, _payment_timeliness_effect),
        AnalyticsTable(
            "credit_limit_proposals",
            (*CREDIT_INPUTS, "fct_account_balance_monthly", "dim_product"),
            credit.PROPOSALS_SCHEMA,
            _credit_limit_proposals,
        ),
        AnalyticsTable(
            "account_closure_reasons", ("fct_account_events",), diagnostic.CLOSURE_SCHEMA, _account_closure_reasons
        ),
        AnalyticsTable("geographic_clusters", (SUMMARY, "dim_branch"), exploratory.SCHEMA, _geographic_clusters),
    )
}
#: inputs that are analytics tables themselves (the rest are gold)
ANALYTICS_INPUTS = frozenset(TABLES)
