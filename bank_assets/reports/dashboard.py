"""The executive dashboard: one self-contained HTML file per month (Plotly, JS embedded).

Pure functions over gold tables loaded as pandas DataFrames (no Dagster, no DuckDB here). Every
number drawn comes from a gold table as it is: this module selects rows (the month, the months up
to it, the version of a branch valid that month), sorts them and looks values up (a branch's
district -> that district's anomaly rate), but never aggregates. Status colours compare gold
values with the thresholds below.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from bank_assets.reports.month_columns import month_column

GREEN, AMBER, RED, GREY = "green", "amber", "red", "grey"
COLOURS = {GREEN: "#1a9850", AMBER: "#f39c12", RED: "#d73027", GREY: "#8c8c8c"}
EMOJI = {GREEN: "🟢", AMBER: "🟡", RED: "🔴", GREY: "⚪"}
INFLOW, OUTFLOW, NET = "#2b8cbe", "#d7301f", "#444444"
SEGMENT_COLOURS = {"MASS": "#1f77b4", "AFFLUENT": "#ff7f0e", "PREMIUM": "#2ca02c", "SME": "#9467bd"}
RISK_COLOURS = {"HIGH": "#d73027", "MEDIUM": "#fdae61", "LOW": "#1a9850"}
BUCKETS = [  # loan_portfolio_monthly principal columns, best to worst
    ("principal_current_pen", "current", "#1a9850"),
    ("principal_dpd_1_30_pen", "1-30 dpd", "#a6d96a"),
    ("principal_dpd_31_60_pen", "31-60 dpd", "#fee08b"),
    ("principal_dpd_61_90_pen", "61-90 dpd", "#fdae61"),
    ("principal_dpd_90_plus_pen", "90+ dpd", "#d73027"),
]

#: The gold tables the dashboard reads, and whether it needs the months before the reported one.
MONTH_TABLES = (
    "anomaly_kpis_district_monthly",
    "anomaly_kpis_zone_monthly",
    "transaction_anomalies",
    "customer_360",
    "churn_risk",
    "deposits_by_region",
)
HISTORY_TABLES = (
    "executive_kpis_monthly",
    "spend_by_category_monthly",
    "anomaly_rate_monthly",
    "loan_portfolio_monthly",
    "liquidity_monthly",
    "dim_branch",
)
#: Columns the dashboard may show about a person: ids and attributes, never PII (names, emails,
#: national ids, phones, streets are not in gold, and the case tables are built from these only).
CASE_COLUMNS = {
    "anomalies": ["transaction_id", "customer_id", "segment", "district", "category", "amount_pen", "threshold"],
    "customers": [
        "customer_id",
        "segment",
        "district",
        "status",
        "rfm_score",
        "recency_days",
        "lifetime_value_pen",
        "debt_burden_ratio",
    ],
}


@dataclass(frozen=True)
class Kpi:
    """A KPI card: its gold column, label, format and status rule (documented in `rule`)."""

    column: str
    label: str
    fmt: Callable[[float], str]
    rule: str
    status: Callable[[float, Mapping[str, float] | None, Mapping[str, float]], str]


def _money(v: float) -> str:
    sign = "-" if v < 0 else ""
    v = abs(v)
    if v >= 1e6:
        return f"{sign}S/ {v / 1e6:,.2f}M"
    if v >= 1e3:
        return f"{sign}S/ {v / 1e3:,.1f}k"
    return f"{sign}S/ {v:,.0f}"


def _pct(v: float) -> str:
    return f"{v * 100:.2f} %"


def _int(v: float) -> str:
    return f"{v:,.0f}"


def _vs_previous(col: str, amber_floor: float) -> Callable[[float, Mapping | None, Mapping], str]:
    def status(value: float, prev: Mapping[str, float] | None, row: Mapping[str, float]) -> str:
        if prev is None or _missing(prev.get(col)):
            return GREY
        if value >= prev[col]:
            return GREEN
        return AMBER if value >= amber_floor * prev[col] else RED

    return status


def _levels(green: Callable[[float], bool], amber: Callable[[float], bool]) -> Callable:
    def status(value: float, prev: Mapping | None, row: Mapping[str, float]) -> str:
        return GREEN if green(value) else AMBER if amber(value) else RED

    return status


def _outflow_status(value: float, prev: Mapping | None, row: Mapping[str, float]) -> str:
    inflow = row["inflow_pen"]
    return GREEN if value <= inflow else AMBER if value <= 1.05 * inflow else RED


def _net_status(value: float, prev: Mapping | None, row: Mapping[str, float]) -> str:
    return GREEN if value >= 0 else AMBER if value >= -0.05 * row["inflow_pen"] else RED


#: The KPI cards, all from gold.executive_kpis_monthly, with their documented thresholds.
KPIS: tuple[Kpi, ...] = (
    Kpi(
        "n_customers",
        "Customers",
        _int,
        "green: not below last month; amber: down ≤ 2 %; red: down > 2 %",
        _vs_previous("n_customers", 0.98),
    ),
    Kpi(
        "n_transactions",
        "Transactions",
        _int,
        "green: not below last month; amber: down ≤ 5 %; red: down > 5 %",
        _vs_previous("n_transactions", 0.95),
    ),
    Kpi(
        "inflow_pen",
        "Inflow",
        _money,
        "green: not below last month; amber: down ≤ 5 %; red: down > 5 %",
        _vs_previous("inflow_pen", 0.95),
    ),
    Kpi("outflow_pen", "Outflow", _money, "green: ≤ inflow; amber: ≤ 105 % of inflow; red: above", _outflow_status),
    Kpi(
        "net_pen",
        "Net cash flow",
        _money,
        "green: ≥ 0; amber: deficit ≤ 5 % of inflow; red: larger deficit",
        _net_status,
    ),
    Kpi(
        "anomaly_rate",
        "Anomaly rate",
        _pct,
        "green: ≤ 2 %; amber: ≤ 3 %; red: above 3 % of card purchases",
        _levels(lambda v: v <= 0.02, lambda v: v <= 0.03),
    ),
    Kpi(
        "non_performing_ratio",
        "Non-performing loans",
        _pct,
        "green: ≤ 3 %; amber: ≤ 5 %; red: above 5 % of principal",
        _levels(lambda v: v <= 0.03, lambda v: v <= 0.05),
    ),
    Kpi(
        "coverage_ratio",
        "Liquidity coverage",
        lambda v: f"{v:.2f}×",
        "green: liquid deposits ≥ 1 month of outflow; amber: ≥ 0.5; red: below",
        _levels(lambda v: v >= 1.0, lambda v: v >= 0.5),
    ),
    Kpi(
        "high_risk_share",
        "Churn-risk share (HIGH)",
        _pct,
        "green: ≤ 15 %; amber: ≤ 25 %; red: above 25 % of customers",
        _levels(lambda v: v <= 0.15, lambda v: v <= 0.25),
    ),
)


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _month_ts(month: dt.date) -> pd.Timestamp:
    return pd.Timestamp(month)


def upto(df: pd.DataFrame, table: str, month: dt.date) -> pd.DataFrame:
    """Rows of `table` whose month is `month` or earlier, sorted by month (selection only)."""
    col = month_column(table)
    out = df[pd.to_datetime(df[col]) <= _month_ts(month)]
    return out.sort_values(col, kind="stable")


def of_month(df: pd.DataFrame, table: str, month: dt.date) -> pd.DataFrame:
    col = month_column(table)
    return df[pd.to_datetime(df[col]) == _month_ts(month)]


def branches_valid_in(dim_branch: pd.DataFrame, month: dt.date) -> pd.DataFrame:
    """The dim_branch version of each branch valid in `month` (SCD2: valid_from <= month < valid_to)."""
    t = _month_ts(month)
    valid_to = pd.to_datetime(dim_branch["valid_to"])
    keep = (pd.to_datetime(dim_branch["valid_from"]) <= t) & (valid_to.isna() | (valid_to > t))
    return dim_branch[keep]


def kpi_cards(kpis_history: pd.DataFrame, month: dt.date) -> list[dict]:
    """The month's KPI values (from executive_kpis_monthly) with their status."""
    row = of_month(kpis_history, "executive_kpis_monthly", month)
    if row.empty:
        raise ValueError(f"gold.executive_kpis_monthly has no row for {month:%Y-%m}")
    now = row.iloc[0].to_dict()
    earlier = upto(kpis_history, "executive_kpis_monthly", month)
    earlier = earlier[pd.to_datetime(earlier["report_month"]) < _month_ts(month)]
    prev = earlier.iloc[-1].to_dict() if not earlier.empty else None
    cards = []
    for k in KPIS:
        value = now.get(k.column)
        if _missing(value):
            cards.append(
                {"column": k.column, "label": k.label, "value": None, "text": "n/a", "status": GREY, "rule": k.rule}
            )
            continue
        value = float(value)
        cards.append(
            {
                "column": k.column,
                "label": k.label,
                "value": value,
                "text": k.fmt(value),
                "status": k.status(value, prev, now),
                "rule": k.rule,
                "previous": None if prev is None or _missing(prev.get(k.column)) else float(prev[k.column]),
            }
        )
    return cards


# --- figures -------------------------------------------------------------------------------------


def _months(s: pd.Series) -> list[str]:
    return [f"{pd.Timestamp(v):%Y-%m}" for v in s]


def _floats(s: pd.Series) -> list[float | None]:
    return [None if _missing(v) or v is None else float(v) for v in s]


@contextmanager
def white_theme() -> Iterator[None]:
    """Figures built inside use plotly's "plotly_white" template as their default. Naming it per
    figure (``update_layout(template=...)``) validates a copy of the whole template every time,
    about 11 ms a figure; the default template is shared."""
    previous = pio.templates.default
    pio.templates.default = "plotly_white"
    try:
        yield
    finally:
        pio.templates.default = previous


def titled(fig: go.Figure, title: str, height: int = 380, **kw) -> go.Figure:
    """The dashboards' common figure layout: title, height, margins, legend below."""
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 15}},
        height=height,
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
        legend={"orientation": "h", "y": -0.15},
        **kw,
    )
    return fig


def fig_cashflow(k: pd.DataFrame) -> go.Figure:
    m = _months(k["report_month"])
    net = _floats(k["net_pen"])
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.6, 0.4],
        vertical_spacing=0.08,
        subplot_titles=("Inflow vs outflow (PEN)", "Net cash flow (PEN): red = deficit"),
    )
    fig.add_trace(
        go.Scatter(
            x=m, y=_floats(k["inflow_pen"]), name="inflow", mode="lines+markers", line={"color": INFLOW, "width": 3}
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=m,
            y=_floats(k["outflow_pen"]),
            name="outflow (shaded: gap to inflow)",
            mode="lines+markers",
            line={"color": OUTFLOW, "width": 3},
            fill="tonexty",
            fillcolor="rgba(215,48,31,0.18)",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=m,
            y=net,
            name="net",
            marker_color=[OUTFLOW if (v or 0) < 0 else INFLOW for v in net],
            text=[_money(v) if v is not None else "" for v in net],
            textposition="outside",
        ),
        row=2,
        col=1,
    )
    fig.add_hline(y=0, line_color="#222", line_width=1, row=2, col=1)
    fig.update_xaxes(type="category")
    return titled(fig, "Cash flow: every month loaded", height=520)


def fig_spend_share(spend: pd.DataFrame) -> go.Figure:
    s = spend.sort_values("share_of_month")
    fig = go.Figure(
        go.Bar(
            x=_floats(s["share_of_month"]),
            y=list(s["category"]),
            orientation="h",
            text=[_pct(v) for v in s["share_of_month"]],
            textposition="outside",
            marker_color="#4c78a8",
            name="share of card spend",
        )
    )
    fig.update_xaxes(tickformat=".0%", range=[0, float(s["share_of_month"].max()) * 1.25 if len(s) else 1])
    return titled(fig, "Card spend by category: share of the month", showlegend=False)


def fig_spend_trend(spend_hist: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    order = spend_hist.sort_values(["report_month", "spend_pen"], ascending=[False, False])["category"].unique()
    for cat in order:
        d = spend_hist[spend_hist["category"] == cat]
        fig.add_trace(
            go.Scatter(
                x=_months(d["report_month"]), y=_floats(d["spend_pen"]), name=cat, mode="lines", stackgroup="spend"
            )
        )
    fig.update_xaxes(type="category")
    return titled(fig, "Card spend by category per month (PEN, stacked)")


def fig_growth(k: pd.DataFrame) -> go.Figure:
    m = _months(k["report_month"])
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(
            x=m,
            y=_floats(k["n_customers"]),
            name="customers",
            mode="lines+markers",
            line={"color": "#6a3d9a", "width": 3},
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=m,
            y=_floats(k["n_transactions"]),
            name="transactions",
            mode="lines+markers",
            line={"color": "#33a02c", "width": 3, "dash": "dot"},
        ),
        secondary_y=True,
    )
    # axes fitted to the data (not from zero): a few percent of growth a month must show at a glance
    fig.update_yaxes(title_text="customers", secondary_y=False)
    fig.update_yaxes(title_text="transactions", secondary_y=True)
    fig.update_xaxes(type="category")
    return titled(fig, "Customer and transaction growth")


#: Label of rows whose segment, district or zone is unknown: transactions of an account that was
#: quarantined in its first month (an inferred member in gold, see fct_transactions).
UNKNOWN = "UNKNOWN"


def fig_anomaly_segments(rates: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    rates = rates.assign(segment=rates["segment"].fillna(UNKNOWN))
    for seg in sorted(rates["segment"].unique()):
        d = rates[rates["segment"] == seg]
        fig.add_trace(
            go.Scatter(
                x=_months(d["report_month"]),
                y=_floats(d["anomaly_rate"]),
                name=seg,
                mode="lines+markers",
                line={"color": SEGMENT_COLOURS.get(seg)},
            )
        )
    fig.update_yaxes(tickformat=".1%", rangemode="tozero")
    fig.update_xaxes(type="category")
    return titled(fig, "Anomaly rate per segment (IQR rule; blank = group under 30 purchases)")


def fig_anomaly_map(branches: pd.DataFrame, districts: pd.DataFrame) -> go.Figure:
    """Branch and ATM coordinates (dim_branch), each coloured by its district's anomaly rate and
    sized by its district's anomalies (anomaly_kpis_district_monthly): a lookup, not a sum."""
    by_district = districts.set_index("district")
    b = branches[branches["district"].isin(by_district.index)].sort_values(["district", "branch_id"])
    rate = [float(by_district.at[d, "anomaly_rate"]) for d in b["district"]]
    n = [int(by_district.at[d, "n_anomalies"]) for d in b["district"]]
    first = ~b["district"].duplicated()
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=_floats(b["longitude"]),
            y=_floats(b["latitude"]),
            mode="markers",
            name="branches and ATMs",
            marker={
                "color": rate,
                "colorscale": "YlOrRd",
                "cmin": 0,
                "size": [8 + 4 * math.sqrt(v) for v in n],
                "colorbar": {"title": "anomaly rate", "tickformat": ".1%"},
                "line": {"width": 0.5, "color": "#555"},
                "showscale": True,
            },
            text=[
                f"{d} ({z}): {r:.2%}, {c} anomalies"
                for d, z, r, c in zip(b["district"], b["zone"], rate, n, strict=True)
            ],
            hoverinfo="text",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=_floats(b["longitude"][first]),
            y=_floats(b["latitude"][first]),
            mode="text",
            name="district",
            text=list(b["district"][first]),
            textposition="top center",
            textfont={"size": 9, "color": "#333"},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    fig.update_yaxes(scaleanchor="x", scaleratio=1.0, title_text="latitude")
    fig.update_xaxes(title_text="longitude", constrain="domain")
    return titled(fig, "Lima: anomaly rate by district (points = branches and ATMs)", height=620, showlegend=False)


def fig_ranking(df: pd.DataFrame, key: str, title: str, top: int = 15) -> go.Figure:
    df = df.assign(**{key: df[key].fillna(UNKNOWN)})
    d = df.sort_values(["anomaly_rate", key], ascending=[False, True]).head(top).iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=_floats(d["anomaly_rate"]),
            y=list(d[key]),
            orientation="h",
            marker_color="#e6550d",
            text=[
                f"{r:.2%} ({int(a)}/{int(p)})"
                for r, a, p in zip(d["anomaly_rate"], d["n_anomalies"], d["n_purchases"], strict=True)
            ],
            textposition="outside",
            name="anomaly rate",
        )
    )
    fig.update_xaxes(tickformat=".1%", range=[0, float(d["anomaly_rate"].max() or 0.01) * 1.35])
    return titled(fig, title, height=max(300, 24 * len(d) + 110), showlegend=False)


def fig_income_spend(c360: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for seg in sorted(c360["segment"].unique()):
        d = c360[c360["segment"] == seg]
        fig.add_trace(
            go.Scattergl(
                x=_floats(d["est_monthly_income_pen"]),
                y=_floats(d["avg_monthly_spend_pen"]),
                mode="markers",
                name=seg,
                marker={"color": SEGMENT_COLOURS.get(seg), "opacity": 0.6},
                text=list(d["customer_id"]),
                hovertemplate="%{text}<br>income %{x}<br>spend %{y}",
            )
        )
    fig.update_xaxes(title_text="estimated monthly income (PEN)")
    fig.update_yaxes(title_text="average monthly spend (PEN)")
    return titled(fig, "Customer 360: estimated income vs spend (one point per customer)")


def fig_debt_burden(c360: pd.DataFrame) -> go.Figure:
    """Every customer's debt burden ratio, one column of points per district (no box: plotly
    would compute quartiles, and the dashboard shows gold numbers only)."""
    d = c360[c360["debt_burden_ratio"].notna()].sort_values(["district", "customer_id"])
    fig = go.Figure(
        go.Box(
            x=list(d["district"]),
            y=_floats(d["debt_burden_ratio"]),
            boxpoints="all",
            jitter=0.5,
            pointpos=0,
            fillcolor="rgba(0,0,0,0)",
            line={"width": 0},
            marker={"size": 4, "color": "#756bb1", "opacity": 0.6},
            text=list(d["customer_id"]),
            hoveron="points",
            name="debt burden",
        )
    )
    fig.update_yaxes(title_text="fixed payments / income", tickformat=".0%")
    fig.update_xaxes(tickangle=-45)
    return titled(fig, "Customer 360: debt burden by district (one point per customer)", height=440, showlegend=False)


def fig_churn(k: pd.DataFrame) -> go.Figure:
    m = _months(k["report_month"])
    fig = go.Figure()
    for band, col in (("HIGH", "n_risk_high"), ("MEDIUM", "n_risk_medium"), ("LOW", "n_risk_low")):
        fig.add_trace(go.Bar(x=m, y=_floats(k[col]), name=band, marker_color=RISK_COLOURS[band]))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category")
    return titled(fig, "Churn-risk bands (customers per band)")


def fig_loans(loans: pd.DataFrame) -> go.Figure:
    m = _months(loans["report_month"])
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for col, label, colour in BUCKETS:
        fig.add_trace(go.Bar(x=m, y=_floats(loans[col]), name=label, marker_color=colour), secondary_y=False)
    fig.add_trace(
        go.Scatter(
            x=m,
            y=_floats(loans["non_performing_ratio"]),
            name="non-performing ratio",
            mode="lines+markers",
            line={"color": "#000"},
        ),
        secondary_y=True,
    )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="principal (PEN)", secondary_y=False)
    fig.update_yaxes(title_text="NPL ratio", tickformat=".1%", secondary_y=True, rangemode="tozero")
    fig.update_xaxes(type="category")
    return titled(fig, "Loan portfolio by delinquency bucket (principal of loans with an instalment due)")


def fig_deposits(dep: pd.DataFrame) -> go.Figure:
    d = dep.sort_values("total_balance_pen", ascending=False)
    fig = go.Figure()
    for zone in sorted(d["zone"].unique()):
        z = d[d["zone"] == zone]
        fig.add_trace(go.Bar(x=list(z["district"]), y=_floats(z["total_balance_pen"]), name=zone))
    fig.update_xaxes(categoryorder="array", categoryarray=list(d["district"]), tickangle=-45)
    fig.update_yaxes(title_text="deposits (PEN)")
    return titled(fig, "Deposits by district of the home branch (colour = zone)", height=440)


def fig_liquidity(liq: pd.DataFrame) -> go.Figure:
    m = _months(liq["report_month"])
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(x=m, y=_floats(liq["liquid_balances_pen"]), name="liquid deposits", marker_color="#74a9cf"),
        secondary_y=False,
    )
    fig.add_trace(
        go.Bar(x=m, y=_floats(liq["outflow_pen"]), name="month's outflow", marker_color=OUTFLOW), secondary_y=False
    )
    fig.add_trace(
        go.Scatter(
            x=m, y=_floats(liq["coverage_ratio"]), name="coverage ratio", mode="lines+markers", line={"color": "#000"}
        ),
        secondary_y=True,
    )
    fig.update_yaxes(title_text="PEN", secondary_y=False)
    fig.update_yaxes(title_text="coverage (×)", secondary_y=True, rangemode="tozero")
    fig.update_xaxes(type="category")
    return titled(fig, "Liquidity: liquid deposits vs a month of outflow")


# --- page ----------------------------------------------------------------------------------------


def critical_cases(anomalies: pd.DataFrame, churn: pd.DataFrame, c360: pd.DataFrame, top: int = 10):
    """The month's largest anomalous purchases, and its HIGH-risk customers with the most value at
    stake (lifetime value), ids and attributes only."""
    big = anomalies.sort_values(["amount_pen", "transaction_id"], ascending=[False, True]).head(top)
    risky = churn[churn["risk_band"] == "HIGH"].merge(
        c360[["customer_id", "district", "lifetime_value_pen", "debt_burden_ratio"]], on="customer_id", how="left"
    )
    risky = risky.sort_values(["lifetime_value_pen", "customer_id"], ascending=[False, True]).head(top)
    return big[CASE_COLUMNS["anomalies"]], risky[CASE_COLUMNS["customers"]]


def html_table(df: pd.DataFrame, table_id: str) -> str:
    """A DataFrame as an escaped HTML table (floats with thousands separators and 2 decimals)."""

    def cell(v: object) -> str:
        if _missing(v):
            return ""
        if isinstance(v, float):
            return f"{v:,.2f}"
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in df.columns)
    rows = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in r) + "</tr>" for r in df.itertuples(index=False))
    return f'<table id="{table_id}" class="cases"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f4f5f7;color:#222}
header{background:#14213d;color:#fff;padding:18px 28px}header h1{margin:0;font-size:24px}
header p{margin:4px 0 0;opacity:.8;font-size:13px}
main{padding:18px 28px}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(205px,1fr));gap:12px;margin-bottom:18px}
.kpi{background:#fff;border-radius:8px;padding:12px 14px;border-left:8px solid #999;box-shadow:0 1px 3px #0002}
.kpi .label{font-size:13px;color:#555}.kpi .value{font-size:26px;font-weight:700;margin:4px 0}
.kpi .prev{font-size:12px;color:#666}.kpi .dot{display:inline-block;width:10px;height:10px;border-radius:50%;
margin-right:6px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:14px}.wide{grid-column:1 / -1}
.card{background:#fff;border-radius:8px;padding:6px;box-shadow:0 1px 3px #0002;min-width:0;overflow-x:auto}
.card h3{font-size:14px;margin:6px 8px}
h2{font-size:17px;margin:22px 0 10px}
table.cases{border-collapse:collapse;width:100%;font-size:13px;background:#fff}
.cases th,.cases td{padding:5px 8px;border-bottom:1px solid #e3e3e3;text-align:left}.cases th{background:#eef0f4}
.rules{font-size:12px;color:#444}.rules td{padding:2px 10px 2px 0}
"""


def mark_empty(fig: go.Figure, text: str) -> go.Figure:
    """Say on the chart why it is empty (and flag it in its layout, for tests and readers)."""
    fig.update_layout(meta={"empty": True})
    fig.add_annotation(
        text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 16, "color": "#888"}
    )
    return fig


def write_page(path: Path, page: str) -> None:
    """Write an HTML page atomically: a reader sees the old file or the new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)


def _kpi_html(card: dict) -> str:
    colour = COLOURS[card["status"]]
    prev = card.get("previous")
    fmt = next(k.fmt for k in KPIS if k.column == card["column"])
    prev_text = f"last month {fmt(prev)}" if prev is not None else "no earlier month"
    value_attr = "" if card["value"] is None else f' data-value="{card["value"]!r}"'
    return (
        f'<div class="kpi" style="border-left-color:{colour}" data-kpi="{card["column"]}"{value_attr} '
        f'data-status="{card["status"]}" title="{html.escape(card["rule"])}">'
        f'<div class="label"><span class="dot" style="background:{colour}"></span>{html.escape(card["label"])}</div>'
        f'<div class="value">{html.escape(card["text"])}</div><div class="prev">{html.escape(prev_text)}</div></div>'
    )


def build(month: dt.date, tables: Mapping[str, pd.DataFrame]) -> tuple[str, list[dict]]:
    """The dashboard for `month` from gold tables (history tables may hold later months: they are
    cut at `month`). Returns the HTML and the KPI cards."""
    with white_theme():
        return _build(month, tables)


def _build(month: dt.date, tables: Mapping[str, pd.DataFrame]) -> tuple[str, list[dict]]:
    k = upto(tables["executive_kpis_monthly"], "executive_kpis_monthly", month)
    cards = kpi_cards(tables["executive_kpis_monthly"], month)
    spend_hist = upto(tables["spend_by_category_monthly"], "spend_by_category_monthly", month)
    spend = of_month(spend_hist, "spend_by_category_monthly", month)
    districts = of_month(tables["anomaly_kpis_district_monthly"], "anomaly_kpis_district_monthly", month)
    zones = of_month(tables["anomaly_kpis_zone_monthly"], "anomaly_kpis_zone_monthly", month)
    c360 = of_month(tables["customer_360"], "customer_360", month)
    churn = of_month(tables["churn_risk"], "churn_risk", month)
    anomalies = of_month(tables["transaction_anomalies"], "transaction_anomalies", month)
    branches = branches_valid_in(upto(tables["dim_branch"], "dim_branch", month), month)
    figures: list[tuple[str, go.Figure, bool]] = [  # (id, figure, full width)
        ("cashflow", fig_cashflow(k), True),
        ("spend_share", fig_spend_share(spend), False),
        ("spend_trend", fig_spend_trend(spend_hist), False),
        ("growth", fig_growth(k), False),
        (
            "anomaly_segments",
            fig_anomaly_segments(upto(tables["anomaly_rate_monthly"], "anomaly_rate_monthly", month)),
            False,
        ),
        ("anomaly_map", fig_anomaly_map(branches, districts), True),
        ("anomaly_districts", fig_ranking(districts, "district", "Anomaly rate by district (top 15)"), False),
        ("anomaly_zones", fig_ranking(zones, "zone", "Anomaly rate by zone"), False),
        ("income_spend", fig_income_spend(c360), False),
        ("debt_burden", fig_debt_burden(c360), False),
        ("churn_bands", fig_churn(k), False),
        ("loans", fig_loans(upto(tables["loan_portfolio_monthly"], "loan_portfolio_monthly", month)), False),
        ("deposits", fig_deposits(of_month(tables["deposits_by_region"], "deposits_by_region", month)), False),
        ("liquidity", fig_liquidity(upto(tables["liquidity_monthly"], "liquidity_monthly", month)), False),
    ]
    sections = {
        "cashflow": "Cash flow",
        "spend_share": "Where customers spend",
        "growth": "Growth",
        "anomaly_map": "Anomalies",
        "income_spend": "Customers",
        "churn_bands": "Risk, credit and liquidity",
    }
    parts = []
    for i, (fid, fig, wide) in enumerate(figures):
        if not any(len(t.x if t.x is not None else []) for t in fig.data):
            mark_empty(fig, "no data in gold for this period")
        if fid in sections:
            if parts:
                parts.append("</div>")
            parts.append(f'<h2>{sections[fid]}</h2><div class="grid">')
        div = pio.to_html(
            fig,
            include_plotlyjs=(i == 0),
            full_html=False,
            div_id=f"fig-{fid}",
            config={"displaylogo": False, "responsive": True},
        )
        parts.append(f'<div class="card{" wide" if wide else ""}">{div}</div>')
    parts.append("</div>")
    big, risky = critical_cases(anomalies, churn, c360)
    rules = "".join(f"<tr><td>{html.escape(k_.label)}</td><td>{html.escape(k_.rule)}</td></tr>" for k_ in KPIS)
    first = f"{pd.Timestamp(k['report_month'].iloc[0]):%B %Y}" if len(k) else ""
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Bank executive dashboard {month:%Y-%m}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>
<body data-month="{month:%Y-%m}">
<header><h1>Executive dashboard: {month:%B %Y}</h1>
<p>Every number from the gold tables (dbt marts) of the warehouse; trends cover {first} to {month:%B %Y}.
Amounts in PEN. No personal data: customers appear by id only.</p></header>
<main>
<div class="kpis">{"".join(_kpi_html(c) for c in cards)}</div>
{"".join(parts)}
<h2>Most critical cases of the month</h2>
<div class="grid"><div class="card"><h3>Largest anomalous purchases</h3>
{html_table(big, "cases-anomalies")}</div>
<div class="card"><h3>HIGH churn risk, most lifetime value at stake</h3>
{html_table(risky, "cases-customers")}</div></div>
<h2>How the status colours are set</h2><table class="rules">{rules}</table>
</main></body></html>
"""
    return page, cards


def summary_markdown(month: dt.date, cards: list[dict], path: str) -> str:
    """The materialization's markdown: the KPI cards as a table, and where the file is."""
    rows = [f"| {EMOJI[c['status']]} {c['label']} | {c['text']} | {c['rule']} |" for c in cards]
    return "\n".join(
        [
            f"**Executive dashboard {month:%Y-%m}**: `{path}`",
            "",
            "| KPI | value | status rule |",
            "| --- | --- | --- |",
            *rows,
        ]
    )
