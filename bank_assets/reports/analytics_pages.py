"""The analytics dashboard: one HTML page per category and month (Plotly), linked by a navigation
bar; the descriptive category is the executive dashboard. The pages of every month load one copy
of plotly.js beside their folders (``analytics/plotly-<version>.min.js``, written once by
:func:`write_plotly_js`; 4.8 MB that each of the eight pages of a month used to embed: 39 MB a
month); they open offline as long as the ``analytics/`` folder stays whole.

Pure functions over the analytics tables and two gold marts loaded as pandas DataFrames. Like the
executive dashboard, pages select and sort rows but compute no statistic: every estimate, interval
and score drawn was computed by the analytics assets (bank_assets.analytics) or by dbt.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs, get_plotlyjs_version

from bank_assets.reports.dashboard import CSS, html_table, mark_empty, titled, white_theme
from bank_assets.reports.month_columns import month_column

#: category -> (title, the question its page answers)
CATEGORIES: dict[str, tuple[str, str]] = {
    "diagnostic": ("Diagnostic", "What drives churn and loan defaults, and why are applications rejected?"),
    "exploratory": (
        "Exploratory",
        "When do customers transact, which products go together, which months and districts stand out?",
    ),
    "inferential": ("Inferential", "Which differences between groups are real?"),
    "predictive": ("Predictive", "Who churns next month, and how many transactions are coming?"),
    "prescriptive": ("Prescriptive", "Which retention action for whom, and whose card limit to raise?"),
    "causal": ("Causal", "Did the campaigns work, and does paying late cause defaults?"),
    "real_time": ("Real-time", "What needs attention on the latest day, and what is waiting in the fraud queue?"),
    "regulatory": (
        "Regulatory",
        "Does the bank hold enough liquid assets for 30 days of stressed outflows (Basel III LCR), how much credit "
        "loss does it provision (IFRS 9), and which accounts look like money laundering (AML)?",
    ),
}
#: the gold marts drawn (the rest are analytics tables)
GOLD_TABLES = (
    "txn_heatmap_monthly",
    "velocity_alerts_daily",
    "credit_decisions_monthly",
    "product_cross_sell_pairs",
    "spend_seasonality_monthly",
    "fraud_alert_ageing",
    "fraud_alerts_monthly",
    "lcr_monthly",
    "ifrs9_ecl_monthly",
    "ifrs9_stage_migration_monthly",
    "aml_alerts",
)
#: every table the pages read: the analytics tables drawn, then GOLD_TABLES
TABLES_READ = (
    "campaign_effects",
    "churn_drivers",
    "group_tests",
    "churn_scores",
    "churn_model_evaluation",
    "volume_forecast",
    "retention_actions",
    "loan_default_drivers",
    "payment_timeliness_effect",
    "credit_limit_proposals",
    "account_closure_reasons",
    "geographic_clusters",
    *GOLD_TABLES,
)
#: bar colours of the rejection reasons and the fraud queue's age buckets
REASON_COLOURS = {
    "APPROVED": "#1a9850",
    "LOW_SCORE": "#d73027",
    "HIGH_DEBT_BURDEN": "#f39c12",
    "INCOMPLETE_DOCUMENTS": "#7f8c8d",
}
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def page_name(category: str) -> str:
    return f"{category}.html"


def of_month(df: pd.DataFrame, table: str, month: dt.date) -> pd.DataFrame:
    if df.empty:
        return df
    return df[pd.to_datetime(df[month_column(table)]) == pd.Timestamp(month)]


def _interval_figure(
    df: pd.DataFrame, label: pd.Series, value: str, title: str, null: float | None, log: bool
) -> go.Figure:
    """Estimates with their 95 % intervals (a forest plot) and the no-effect line, if any."""
    fig = go.Figure(
        go.Scatter(
            x=df[value].astype(float).tolist(),  # plain JSON lists, not plotly's base64 arrays
            y=label.tolist(),
            mode="markers",
            marker={"size": 10, "color": "#14213d"},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (df["ci_high"] - df[value]).tolist(),
                "arrayminus": (df[value] - df["ci_low"]).tolist(),
            },
            hovertext=[f"p = {p:.3g}" for p in df["p_value"]] if "p_value" in df else None,
        )
    )
    if null is not None:
        fig.add_vline(x=null, line_dash="dash", line_color="#d73027")
    if log:
        fig.update_xaxes(type="log")
    return titled(fig, title, height=max(260, 48 * len(df) + 120))


def _empty(fig: go.Figure) -> go.Figure:
    return mark_empty(fig, "not enough history yet for this month")


def _figs_diagnostic(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    out: list[tuple[str, go.Figure | str]] = []
    d = t["churn_drivers"]
    if d.empty:
        out.append(("drivers", _empty(titled(go.Figure(), "Churn drivers"))))
    else:
        fig = _interval_figure(
            d, d["driver"], "odds_ratio", "Churn drivers: odds ratio of churning next month (95 % CI)", 1.0, True
        )
        note = f"Logit on {int(d['n_obs'].iloc[0]):,} customer-months, {int(d['n_events'].iloc[0]):,} churn events."
        out += [("drivers", fig), ("drivers_note", note)]
    ld = t["loan_default_drivers"]
    if ld.empty:
        out.append(("default_drivers", _empty(titled(go.Figure(), "Loan default drivers"))))
    else:
        fig = _interval_figure(
            ld, ld["driver"], "odds_ratio", "Loan default drivers: odds ratio of default (95 % CI)", 1.0, True
        )
        note = (
            f"Logit on {int(ld['n_loans'].iloc[0]):,} loans whose 9-month window closed, "
            f"{int(ld['n_defaults'].iloc[0]):,} defaults (60+ days past due). Units: "
            + "; ".join(f"{r.driver} = {r.measured_as}" for r in ld.itertuples())
        )
        out += [("default_drivers", fig), ("default_drivers_note", note)]
    out += _figs_credit_decisions(t) + _figs_closures(t)
    return out


def _figs_closures(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    c = t["account_closure_reasons"]
    if c.empty:
        return [("closures", _empty(titled(go.Figure(), "Account closure reasons by segment")))]
    fig = _interval_figure(
        c,
        c["segment"] + " · " + c["closure_reason"],
        "share",
        "Why customers close: share of the segment's closures by reason (Wilson 95 % CI)",
        None,
        False,
    )
    p = c["chi2_p_value"].iloc[0]
    n = int(c["n_customers"].sum())
    note = f"{n:,} customers closed so far. Reason x segment, chi-square test of independence: " + (
        f"p = {p:.2g}." if pd.notna(p) else "not enough segments yet."
    )
    return [("closures", fig), ("closures_note", note)]


def _figs_credit_decisions(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    c = t["credit_decisions_monthly"]
    if c.empty:
        return [("decisions", _empty(titled(go.Figure(), "Credit decisions by reason")))]
    products = sorted(c["product"].unique())
    fig = go.Figure(
        [
            go.Bar(
                x=products,
                y=[int(g.loc[g["product"] == p, "n_applications"].sum()) for p in products],
                name=reason,
                marker_color=REASON_COLOURS.get(reason, "#14213d"),
            )
            for reason, g in c.groupby("decision_reason", sort=True)
        ]
    )
    fig.update_layout(barmode="stack")
    rejected = c[c["decision"] == "REJECTED"]
    cols = ["product", "decision_reason", "n_applications", "share_of_product_applications"]
    cols += ["avg_credit_score", "avg_debt_to_income"]
    return [
        (
            "decisions",
            titled(fig, "Applications of the month by product and decision reason", yaxis_title="applications"),
        ),
        ("decisions_table", html_table(rejected.sort_values(["product", "decision_reason"])[cols], "decisions-table")),
    ]


def _figs_exploratory(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    return _figs_heatmap(t) + _figs_cross_sell(t) + _figs_seasonality(t) + _figs_clusters(t)


def _figs_cross_sell(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    x = t["product_cross_sell_pairs"]
    if x.empty:
        return [("cross_sell", _empty(titled(go.Figure(), "Products held together")))]
    products = sorted(set(x["product_a"]) | set(x["product_b"]))
    lift = x.pivot_table(index="product_a", columns="product_b", values="lift", aggfunc="first")
    lift = lift.reindex(index=products, columns=products).astype(float)
    fig = go.Figure(
        go.Heatmap(
            z=[[None if pd.isna(v) else round(v, 3) for v in row] for row in lift.to_numpy()],
            x=products,
            y=products,
            colorscale="RdBu",
            zmid=1.0,
            colorbar={"title": "lift"},
        )
    )
    fig.update_yaxes(autorange="reversed")
    top = x.sort_values(["lift", "n_both"], ascending=False).head(10)
    cols = ["product_a", "product_b", "n_both", "support", "confidence", "lift"]
    return [
        ("cross_sell", titled(fig, "Lift of holding product B given A (1 = independent)", height=460)),
        ("cross_sell_table", html_table(top[cols], "cross-sell-table")),
    ]


def _figs_seasonality(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    s = t["spend_seasonality_monthly"]
    s = s[s["seasonal_index"].notna()] if len(s) else s
    if s.empty:
        return [("seasonality", _empty(titled(go.Figure(), "Seasonal index of purchases by category")))]
    s = s.sort_values("seasonal_index", ascending=False)
    fig = go.Figure(
        go.Bar(x=s["category"].tolist(), y=s["seasonal_index"].astype(float).tolist(), marker_color="#14213d")
    )
    fig.add_hline(y=1.0, line_dash="dash", line_color="#d73027")
    return [
        (
            "seasonality",
            titled(fig, "Seasonal index: purchases of the month / mean of the trailing 12 months", yaxis_title="index"),
        )
    ]


def _figs_clusters(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    g = t["geographic_clusters"]
    if g.empty:
        return [("clusters", _empty(titled(go.Figure(), "District clusters")))]
    fig = go.Figure(
        [
            go.Scatter(
                x=c["longitude"].astype(float).tolist(),
                y=c["latitude"].astype(float).tolist(),
                mode="markers+text",
                text=c["district"].tolist(),
                textposition="top center",
                textfont={"size": 9},
                marker={"size": (6 + c["active_customers"].astype(float) ** 0.5).tolist()},
                name=f"cluster {k}",
            )
            for k, c in g.groupby("cluster", sort=True)
        ]
    )
    note = (
        f"k-means chose k = {int(g['k'].iloc[0])} (silhouette {g['silhouette'].iloc[0]:.2f}; near 0 = the "
        "districts barely separate). Cluster 1 has the highest mean spend."
    )
    summary = g.groupby("cluster")[["active_customers", "mean_spend_pen", "affluent_share", "complaints_per_100"]]
    table = summary.mean().round(3).reset_index()
    return [
        ("clusters", titled(fig, "Districts by cluster (bubble = active customers)", height=560)),
        ("clusters_note", note),
        ("clusters_table", html_table(table, "clusters-table")),
    ]


def _figs_heatmap(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    h = t["txn_heatmap_monthly"]
    if h.empty:
        return [("heatmap", _empty(titled(go.Figure(), "Transactions by weekday and hour")))]
    grid = h.pivot_table(index="iso_weekday", columns="hour_of_day", values="n_transactions", aggfunc="first")
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy().tolist(),
            x=[f"{c:02d}h" for c in grid.columns],
            y=[WEEKDAYS[int(i) - 1] for i in grid.index],
            colorscale="Blues",
            colorbar={"title": "transactions"},
        )
    )
    fig.update_yaxes(autorange="reversed")  # Monday on top
    return [("heatmap", titled(fig, "Transactions by weekday and hour of the day", height=420))]


def _figs_inferential(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    g = t["group_tests"]
    if g.empty:
        return [("tests", _empty(titled(go.Figure(), "Group comparisons")))]
    out: list[tuple[str, go.Figure | str]] = []
    welch = g[g["test"] == "spend_by_segment"]
    if len(welch):
        out.append(
            (
                "spend",
                _interval_figure(
                    welch,
                    welch["group_a"] + " - " + welch["group_b"],
                    "estimate",
                    "Monthly spend difference between segments, PEN (Welch, 95 % CI)",
                    0.0,
                    False,
                ),
            )
        )
    churn = g[g["test"] == "churn_rate"]
    if len(churn):
        out.append(
            (
                "churn",
                _interval_figure(
                    churn, churn["group_a"], "estimate", "Monthly churn rate by segment (Wilson 95 % CI)", None, False
                ),
            )
        )
    fraud = g[g["test"] == "fraud_confirmed_rate"]
    if len(fraud):
        out.append(
            (
                "fraud",
                _interval_figure(
                    fraud,
                    fraud["group_a"],
                    "estimate",
                    "Share of closed fraud alerts confirmed as fraud, by rule (Wilson 95 % CI)",
                    None,
                    False,
                ),
            )
        )
    rest = g[g["test"].isin(["complaint_rate_before_churn", "satisfaction_by_channel", "fraud_rate_vs_audit"])]
    if len(rest):
        out.append(
            (
                "ratios",
                html_table(
                    rest[["test", "group_a", "group_b", "estimate", "ci_low", "ci_high", "p_value", "n_a", "n_b"]],
                    "tests-table",
                ),
            )
        )
    return out


def _figs_predictive(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    out: list[tuple[str, go.Figure | str]] = []
    ev, scores, fc = t["churn_model_evaluation"], t["churn_scores"], t["volume_forecast"]
    if len(ev):
        r = ev.iloc[0]
        out.append(
            (
                "auc",
                f"<p class='big'>Out-of-time AUC <b>{r['auc_out_of_time']:.3f}</b> on "
                f"{pd.Timestamp(r['test_month']):%Y-%m} ({int(r['n_test']):,} customers, "
                f"{int(r['test_events'])} churned), trained on {pd.Timestamp(r['train_first_month']):%Y-%m}"
                f" to {pd.Timestamp(r['train_last_month']):%Y-%m}.</p>",
            )
        )
    if len(scores):
        fig = go.Figure(go.Histogram(x=scores["churn_probability"].tolist(), nbinsx=40, marker_color="#14213d"))
        out.append(
            (
                "scores",
                titled(
                    fig,
                    "Churn probability of active customers next month",
                    xaxis_title="probability",
                    yaxis_title="customers",
                ),
            )
        )
    if len(fc):
        x = [f"{pd.Timestamp(m):%Y-%m}" for m in fc["forecast_month"]]
        fig = go.Figure(
            [
                go.Scatter(x=x, y=fc["pi_high"].tolist(), mode="lines", line={"width": 0}, showlegend=False),
                go.Scatter(
                    x=x,
                    y=fc["pi_low"].tolist(),
                    mode="lines",
                    line={"width": 0},
                    fill="tonexty",
                    fillcolor="rgba(20,33,61,0.2)",
                    name="95 % prediction interval",
                ),
                go.Scatter(
                    x=x,
                    y=fc["predicted_transactions"].tolist(),
                    mode="lines+markers",
                    name="forecast",
                    line={"color": "#14213d"},
                ),
            ]
        )
        out.append(("forecast", titled(fig, "Transactions forecast, next 3 months")))
    return out or [("predictive", _empty(titled(go.Figure(), "Churn model and forecast")))]


def _figs_prescriptive(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    return _figs_retention(t) + _figs_limits(t)


def _figs_limits(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    p = t["credit_limit_proposals"]
    if p.empty:
        return [("limits", _empty(titled(go.Figure(), "Credit-limit proposals")))]
    chosen = p[p["proposed"]].sort_values("rank")
    fig = go.Figure(
        [
            go.Scatter(
                x=g["probability_of_default"].tolist(),
                y=((g["expected_margin_cents"] - g["expected_loss_cents"]) / 100).tolist(),
                mode="markers",
                name="raise proposed" if flag else "not proposed",
                marker={"color": "#1a9850" if flag else "#bbbbbb", "size": 7},
                hovertext=g["customer_id"].tolist(),
            )
            for flag, g in p.groupby("proposed")
        ]
    )
    spent = chosen["expected_loss_cents"].sum() / 100
    budget = p["risk_budget_cents"].iloc[0] / 100
    note = (
        f"{len(chosen):,} of {len(p):,} candidates get a raise: expected loss PEN {spent:,.2f} of a budget of "
        f"PEN {budget:,.2f}, expected margin PEN {chosen['expected_margin_cents'].sum() / 100:,.2f}."
    )
    cols = ["rank", "customer_id", "credit_score", "probability_of_default", "current_limit_cents"]
    cols += ["proposed_limit_cents", "expected_margin_cents", "expected_loss_cents"]
    return [
        (
            "limits",
            titled(
                fig,
                "Card limit raises: net value vs probability of default",
                xaxis_title="probability of default",
                yaxis_title="expected margin - loss (PEN)",
            ),
        ),
        ("limits_note", note),
        ("limits_table", html_table(chosen.head(20)[cols], "limits-table")),
    ]


def _figs_retention(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    a = t["retention_actions"]
    if a.empty:
        return [("actions", _empty(titled(go.Figure(), "Retention actions")))]
    top = a.sort_values("rank").head(20)
    fig = go.Figure(
        go.Bar(
            x=(top["expected_value_cents"] / 100).tolist(),
            y=top["customer_id"].tolist(),
            orientation="h",
            marker_color=["#1a9850" if x == "CALL" else "#f39c12" for x in top["action"]],
            hovertext=top["action"].tolist(),
        )
    )
    fig.update_yaxes(autorange="reversed")
    total = a["expected_value_cents"].sum() / 100
    return [
        ("actions", titled(fig, "Top 20 retention actions by expected value (PEN)", height=520)),
        ("actions_note", f"{len(a):,} customers with a positive expected value; PEN {total:,.2f} expected in all."),
        (
            "actions_table",
            html_table(
                top[["rank", "customer_id", "segment", "churn_probability", "action", "expected_value_cents"]],
                "actions-table",
            ),
        ),
    ]


def _figs_causal(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    return _figs_campaigns(t) + _figs_timeliness(t)


def _figs_timeliness(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    e = t["payment_timeliness_effect"]
    if e.empty:
        return [("timeliness", _empty(titled(go.Figure(), "Late first instalment and default")))]
    fig = _interval_figure(
        e,
        e["adjustment"],
        "odds_ratio",
        "Late first instalment: odds ratio of default, naive vs adjusted for the confounders (95 % CI)",
        1.0,
        True,
    )
    r = e.iloc[0]
    adjusted = e[e["adjustment"] == "adjusted"]
    method = adjusted["method"].iloc[0] if len(adjusted) else ""
    dropped = "; ".join(part for part in method.split("; ") if part.startswith("dropped "))
    note = (
        f"Default rate {r['default_rate_late']:.1%} after a late first instalment ({int(r['n_late']):,} loans) vs "
        f"{r['default_rate_on_time']:.1%} on time ({int(r['n_on_time']):,}). Adjusted for: "
        f"{adjusted['adjusted_for'].iloc[0] if len(adjusted) else '- (not estimable this month)'}"
        + (f"; {dropped}" if dropped else "")
        + "."
    )
    return [("timeliness", fig), ("timeliness_note", note)]


def _figs_campaigns(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    c = t["campaign_effects"]
    if c.empty:
        return [("effects", _empty(titled(go.Figure(), "Campaign effects")))]
    c = c.sort_values(["campaign_id", "design"])
    fig = _interval_figure(
        c,
        c["campaign_id"] + " " + c["design"],
        "purchase_rate_ratio",
        "Campaign effect on purchases: rate ratio treated vs control (DiD, 95 % CI)",
        1.0,
        True,
    )
    return [
        ("effects", fig),
        (
            "effects_table",
            html_table(
                c[
                    [
                        "campaign_id",
                        "design",
                        "campaign_status",
                        "n_treated",
                        "n_control",
                        "purchase_rate_ratio",
                        "ci_low",
                        "ci_high",
                        "p_value",
                    ]
                ],
                "effects-table",
            ),
        ),
    ]


def _figs_real_time(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    return _figs_velocity(t) + _figs_fraud_queue(t)


def _figs_fraud_queue(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    a, m = t["fraud_alert_ageing"], t["fraud_alerts_monthly"]
    out: list[tuple[str, go.Figure | str]] = []
    if a.empty:
        out.append(("fraud_queue", _empty(titled(go.Figure(), "Fraud alert queue at month end"))))
    else:
        buckets = a.sort_values("bucket_order").drop_duplicates("age_bucket")["age_bucket"].tolist()
        fig = go.Figure(
            [
                go.Bar(
                    x=buckets,
                    y=[int(g.loc[g["age_bucket"] == b, "n_open"].sum()) for b in buckets],
                    name=rule,
                )
                for rule, g in a.groupby("rule_code", sort=True)
            ]
        )
        fig.update_layout(barmode="stack")
        n_open = int(a["n_open"].sum())
        oldest = a["oldest_age_hours"].dropna()
        note = f"<p class='big'><b>{n_open}</b> fraud alerts open at month end" + (
            f"; the oldest has waited {float(oldest.max()):,.1f} hours.</p>" if len(oldest) else ".</p>"
        )
        out += [
            ("fraud_queue_note", note),
            ("fraud_queue", titled(fig, "Open fraud alerts at month end by age", yaxis_title="alerts")),
        ]
    if len(m):
        cols = ["rule_code", "n_raised", "n_reviewed", "n_closed", "n_confirmed", "confirmed_share"]
        cols += ["median_hours_to_review", "median_hours_to_close", "n_open_at_month_end"]
        out.append(("fraud_table", html_table(m.sort_values("rule_code")[cols], "fraud-table")))
    return out


def _figs_velocity(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    v = t["velocity_alerts_daily"]
    if v.empty:
        return [("alerts_note", "<p class='big'>No velocity alert on the month's latest day.</p>")]
    day = pd.Timestamp(v["alert_date"].iloc[0])
    cols = ["account_id", "customer_id", "n_debits", "debit_amount_pen", "baseline_daily_pen", "rule"]
    return [
        ("alerts_note", f"<p class='big'><b>{len(v)}</b> velocity alerts on {day:%Y-%m-%d}.</p>"),
        ("alerts", html_table(v.sort_values("debit_amount_pen", ascending=False)[cols], "alerts-table")),
    ]


#: the LCR's components in the order they add up: (column, label, sign in the HQLA / outflow bars)
LCR_HQLA = (
    ("level_1_pen", "Level 1", 1),
    ("level_2a_pen", "Level 2A (after 15 % haircut)", 1),
    ("level_2b_pen", "Level 2B (after 50 % haircut)", 1),
    ("cap_adjustment_15_pen", "15 % cap on Level 2B", -1),
    ("cap_adjustment_40_pen", "40 % cap on Level 2", -1),
)
LCR_OUTFLOWS = (
    ("outflow_retail_stable_pen", "Retail stable (5 %)", 1),
    ("outflow_retail_less_stable_pen", "Retail less stable (10 %)", 1),
    ("outflow_operational_pen", "SME operational (25 %)", 1),
    ("outflow_non_operational_pen", "SME non-operational (40 %)", 1),
    ("outflow_undrawn_cards_pen", "Undrawn card limits (5 %)", 1),
    ("capped_inflows_pen", "Inflows (capped at 75 %)", -1),
)


def _figs_regulatory(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    return [*_figs_lcr(t), *_figs_ifrs9(t), *_figs_aml(t)]


def _figs_lcr(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    lcr = t["lcr_monthly"]
    if lcr.empty:
        return [("lcr_note", "<p class='big'>No liquidity coverage ratio for this month.</p>")]
    r = lcr.iloc[0]
    ratio = r["lcr"]
    verdict = "missing" if pd.isna(ratio) else ("meets" if float(ratio) >= 1 else "is BELOW")
    note = (
        f"<p class='big'>Liquidity coverage ratio <b>{float(ratio):.1%}</b>: the bank {verdict} the 100 % minimum. "
        f"HQLA {float(r['hqla_pen']):,.2f} PEN over 30-day net cash outflows "
        f"{float(r['net_cash_outflows_pen']):,.2f} PEN.</p>"
        if not pd.isna(ratio)
        else "<p class='big'>No net cash outflows this month: the ratio is undefined.</p>"
    )
    fig = go.Figure()
    for col, label, sign in LCR_HQLA:
        fig.add_bar(x=["HQLA"], y=[sign * float(r[col]) + 0.0], name=label)
    for col, label, sign in LCR_OUTFLOWS:
        fig.add_bar(x=["Net cash outflows"], y=[sign * float(r[col]) + 0.0], name=label)
    fig.update_layout(barmode="relative")
    table = pd.DataFrame(
        [(label, float(r[col]) * sign + 0.0) for col, label, sign in (*LCR_HQLA, *LCR_OUTFLOWS)]
        + [("HQLA", float(r["hqla_pen"])), ("Net cash outflows", float(r["net_cash_outflows_pen"]))],
        columns=["component", "PEN"],
    )
    return [
        ("lcr_note", note),
        ("lcr", titled(fig, "HQLA against 30-day net cash outflows (PEN)", height=460, yaxis_title="PEN")),
        ("lcr_table", html_table(table, "lcr-table")),
    ]


def _figs_ifrs9(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    ecl = t["ifrs9_ecl_monthly"]
    if ecl.empty:
        return [("ifrs9_note", "<p class='big'>No IFRS 9 allowance for this month.</p>")]
    money = ["ead_pen", "ecl_pen", "provision_charge_pen"]
    by_stage = ecl.astype({c: float for c in money}).groupby("stage", as_index=False)[["n_exposures", *money]].sum()
    total = by_stage[money].sum()
    coverage = total["ecl_pen"] / total["ead_pen"] if total["ead_pen"] else float("nan")
    note = (
        f"<p class='big'>IFRS 9 loss allowance <b>{total['ecl_pen']:,.2f} PEN</b> on {total['ead_pen']:,.2f} PEN of "
        f"exposure (coverage {coverage:.2%}); the month's provision charge "
        f"{total['provision_charge_pen']:,.2f} PEN.</p>"
    )
    fig = go.Figure()
    for stage, rows in ecl.groupby("stage"):
        per_product = rows.astype({"ecl_pen": float}).groupby("product")["ecl_pen"].sum()
        fig.add_bar(x=per_product.index.tolist(), y=per_product.tolist(), name=f"Stage {stage}")
    fig.update_layout(barmode="stack")
    by_stage["coverage %"] = 100 * by_stage["ecl_pen"] / by_stage["ead_pen"].where(by_stage["ead_pen"] != 0)
    table = by_stage.rename(
        columns={
            "n_exposures": "exposures",
            "ead_pen": "EAD (PEN)",
            "ecl_pen": "ECL (PEN)",
            "provision_charge_pen": "charge (PEN)",
        }
    )
    out = [
        ("ifrs9_note", note),
        ("ifrs9", titled(fig, "Expected credit loss by product and stage (PEN)", height=420, yaxis_title="PEN")),
        ("ifrs9_table", html_table(table, "ifrs9-table")),
    ]
    mig = t["ifrs9_stage_migration_monthly"]
    if not mig.empty:
        matrix = mig.pivot_table(index="from_stage", columns="to_stage", values="n_loans", aggfunc="sum", fill_value=0)
        order = ["NEW", "1", "2", "3", "EXIT"]
        matrix = matrix.reindex(
            index=[o for o in order if o in matrix.index], columns=[o for o in order if o in matrix.columns]
        )
        matrix = matrix.reset_index().rename(columns={"from_stage": "from stage (rows) / to stage (columns)"})
        out.append(
            (
                "ifrs9_migration",
                "<h3>Stage migration since last month (loans)</h3>" + html_table(matrix, "ifrs9-migration"),
            )
        )
    return out


def _figs_aml(t: Mapping[str, pd.DataFrame]) -> list[tuple[str, go.Figure | str]]:
    alerts = t["aml_alerts"]
    counts = alerts.groupby("typology").agg(alerts=("alert_id", "size"), movements=("n_transactions", "sum"))
    counts = counts.reindex(AML_TYPOLOGIES, fill_value=0)
    parts: list[tuple[str, go.Figure | str]] = [
        ("aml_note", f"<p class='big'>Anti-money-laundering: <b>{len(alerts)}</b> alerts this month.</p>")
    ]
    planted = t.get("aml_planted")
    if planted is not None:
        flagged = set(zip(alerts["account_id"], alerts["typology"], strict=True))
        truth = planted[planted["kind"] == "PLANTED"]
        rows = []
        for typology in AML_TYPOLOGIES:
            p = {(a, typology) for a in truth.loc[truth["typology"] == typology, "account_id"]}
            f = {x for x in flagged if x[1] == typology}
            rows.append(
                (
                    typology,
                    len(p),
                    len(f),
                    len(p & f) / len(f) if f else float("nan"),
                    len(p & f) / len(p) if p else float("nan"),
                )
            )
        counts = counts.join(
            pd.DataFrame(rows, columns=["typology", "planted", "_f", "precision", "recall"]).set_index("typology")[
                ["planted", "precision", "recall"]
            ]
        )
        parts[0] = (
            "aml_note",
            parts[0][1][:-4] + " Precision and recall against the synthetic bank's planted cases of the month "
            "(bank_assets/synthetic/aml.py).</p>",
        )
    parts.append(("aml_counts", html_table(counts.reset_index(), "aml-counts")))
    if not alerts.empty:
        shown = alerts.sort_values(["typology", "account_id"])[
            ["typology", "account_id", "n_transactions", "amount_in_pen", "amount_out_pen", "evidence"]
        ]
        parts.append(
            (
                "aml_alerts",
                "<h3>Alerts (the evidence's movements: gold.aml_alerts)</h3>" + html_table(shown, "aml-alerts"),
            )
        )
    return parts


AML_TYPOLOGIES = ("STRUCTURING", "RAPID_IN_OUT", "ROUND_NEW_COUNTERPARTY", "DORMANT_REACTIVATION")


BUILDERS = {
    "diagnostic": _figs_diagnostic,
    "exploratory": _figs_exploratory,
    "inferential": _figs_inferential,
    "predictive": _figs_predictive,
    "prescriptive": _figs_prescriptive,
    "causal": _figs_causal,
    "real_time": _figs_real_time,
    "regulatory": _figs_regulatory,
}


def _nav(month: dt.date, current: str) -> str:
    links = [f'<a href="../../dashboard/{month:%Y-%m}.html">Descriptive</a>']
    for cat, (title, _) in CATEGORIES.items():
        cls = ' class="here"' if cat == current else ""
        links.append(f'<a{cls} href="{page_name(cat)}">{title}</a>')
    return "<nav>" + " · ".join(links) + "</nav>"


#: plotly.js for every month's pages, in the analytics folder (versioned: pages written by an
#: earlier plotly keep the copy they were drawn with)
PLOTLY_JS = f"plotly-{get_plotlyjs_version()}.min.js"


def write_plotly_js(analytics_root: Path) -> Path:
    """The pages' plotly.js in `analytics_root`, written once (atomically: a reader never sees half)."""
    path = analytics_root / PLOTLY_JS
    if not path.exists():
        analytics_root.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{PLOTLY_JS}.tmp-{os.getpid()}")
        tmp.write_text(get_plotlyjs(), encoding="utf-8")
        tmp.replace(path)
    return path


def build(
    month: dt.date, tables: Mapping[str, pd.DataFrame], aml_planted: pd.DataFrame | None = None
) -> dict[str, str]:
    """category -> HTML page for `month` (tables may hold other months: they are cut to `month`).
    `aml_planted` (account_id, typology, kind): the synthetic bank's planted AML cases of the month,
    scored on the regulatory page when given."""
    with white_theme():
        return _build(month, tables, aml_planted)


def _build(month: dt.date, tables: Mapping[str, pd.DataFrame], aml_planted: pd.DataFrame | None) -> dict[str, str]:
    t = {name: of_month(df, name, month) for name, df in tables.items()}
    if aml_planted is not None:
        t["aml_planted"] = aml_planted
    pages = {}
    for cat, (title, question) in CATEGORIES.items():
        parts: list[str] = []
        js_included = False
        for fid, item in BUILDERS[cat](t):
            if isinstance(item, go.Figure):
                div = pio.to_html(
                    item,
                    include_plotlyjs=False if js_included else f"../{PLOTLY_JS}",
                    full_html=False,
                    div_id=f"fig-{fid}",
                    config={"displaylogo": False, "responsive": True},
                )
                js_included = True
                parts.append(f'<div class="card wide">{div}</div>')
            else:
                body = item if item.startswith("<") else f"<p>{html.escape(item)}</p>"
                parts.append(f'<div class="card wide" id="{fid}">{body}</div>')
        pages[cat] = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} analytics {month:%Y-%m}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}{NAV_CSS}</style></head>
<body data-month="{month:%Y-%m}" data-category="{cat}">
<header><h1>{title} analytics: {month:%B %Y}</h1>
<p>{html.escape(question)} {SOURCE_NOTE.get(cat, SOURCE_NOTE[""])}</p></header>
{_nav(month, cat)}
<main><div class="grid">{"".join(parts)}</div></main></body></html>
"""
    return pages


#: where a page's numbers come from (by category; "" for the analytics pages)
SOURCE_NOTE = {
    "": "Every estimate from the analytics tables of the warehouse (method in each table's docs); customers appear "
    "by id only.",
    "regulatory": "Computed by dbt in gold (lcr_monthly, ifrs9_*, aml_alerts), every parameter declared in "
    "dbt_project.yml (vars.lcr, vars.ifrs9, vars.aml); standards, simplifications and parameters: "
    "docs/regulatory.md, docs/ifrs9.md, docs/aml.md.",
}

NAV_CSS = """
nav{background:#fff;padding:10px 28px;border-bottom:1px solid #ddd;font-size:14px}
nav a{color:#14213d;text-decoration:none;margin-right:4px}nav a.here{font-weight:700;text-decoration:underline}
p.big{font-size:18px;margin:10px}
"""
