"""The reports group: the dashboard opened in a real browser, its numbers and the Parquet
exports compared with the gold tables they come from.

Two tiny months through the main job (`monthly_pipeline`: landing -> gold -> reports)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dagster import AssetKey

from bank_assets.reports.exports import PII_COLUMNS
from bank_assets.settings import PROJECT_ROOT

from . import browser
from .conftest import copy_of_built
from .pipeline import query, resources

MONTHS = ["2024-01", "2024-02"]
MONTH = MONTHS[-1]
SCREENSHOT = PROJECT_ROOT / "reports" / "dashboard_test.png"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(two_months_built, tmp_path_factory):
    """A copy of the session's two built months (MONTHS)."""
    with copy_of_built(two_months_built, tmp_path_factory.mktemp("reports")) as (root, instance):
        yield resources(root), instance


def reports_root(res) -> Path:
    return Path(res["reports"].resolved_root)


def dashboard_html(res) -> str:
    return (reports_root(res) / "dashboard" / f"{MONTH}.html").read_text(encoding="utf-8")


def figures(page: str) -> dict[str, dict]:
    """Every Plotly figure embedded in the HTML: div id -> {"data": [...], "layout": {...}}."""
    out = {}
    decoder = json.JSONDecoder()
    for m in re.finditer(r'Plotly\.newPlot\(\s*"(fig-[\w-]+)",\s*', page):
        data, end = decoder.raw_decode(page, m.end())
        rest = page[end:].lstrip()[1:].lstrip()  # skip the comma
        layout, _ = decoder.raw_decode(rest)
        out[m[1]] = {"data": data, "layout": layout}
    return out


def kpis(page: str) -> dict[str, float]:
    return {k: float(v) for k, v in re.findall(r'data-kpi="(\w+)" data-value="([^"]+)"', page)}


def test_dashboard_renders_in_chromium(built):
    res, _ = built
    binary = browser.chromium()
    if binary is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    path = reports_root(res) / "dashboard" / f"{MONTH}.html"
    page = browser.Page(binary)
    try:
        page.open(path.as_uri())
        n = page.wait_for(
            """(() => { const d = [...document.querySelectorAll('.js-plotly-plot')];
                 return d.length > 0 && d.every(g => g._fullLayout && g.querySelector('.main-svg')) && d.length; })()"""
        )
        drawn = page.evaluate(
            """[...document.querySelectorAll('.js-plotly-plot')].map(g => ({
                id: g.id,
                points: g.data.reduce((s, t) => s + (t.x ? t.x.length : 0), 0),
                empty: !!(g.layout.meta && g.layout.meta.empty),
                marks: g.querySelectorAll('.point, .bars path, .scatterlayer .js-line, .scatterlayer .js-fill, '
                  + '.textpoint, .gl-container canvas').length }))"""
        )
        page.screenshot(SCREENSHOT)
    finally:
        page.close()
    assert page.errors == [], page.errors
    assert n == len(figures(dashboard_html(res))) >= 14
    for fig in drawn:
        assert not fig["empty"], fig
        assert fig["points"] > 0 and fig["marks"] > 0, fig
    assert SCREENSHOT.stat().st_size > 50_000


def test_dashboard_numbers_are_gold_numbers(built):
    res, _ = built
    page = dashboard_html(res)
    # plotly.js is embedded (opens offline): no external script, the bundle itself is in the page
    assert not re.search(r"<script[^>]+src=", page) and len(page) > 3_000_000
    figs = figures(page)
    gold = pd.DataFrame(
        query(res, "SELECT * FROM gold.executive_kpis_monthly ORDER BY report_month"),
        columns=[c for (c,) in query(res, "SELECT column_name FROM (DESCRIBE gold.executive_kpis_monthly)")],
    )
    # KPI cards: the month's row of executive_kpis_monthly, as is
    row = gold[gold["report_month"].astype(str) == f"{MONTH}-01"].iloc[0]
    shown = kpis(page)
    assert set(shown) >= {"n_customers", "n_transactions", "inflow_pen", "outflow_pen", "net_pen", "anomaly_rate"}
    for column, value in shown.items():
        assert value == pytest.approx(float(row[column]), abs=1e-9), column
    # executive_kpis_monthly itself agrees with the marts it summarises
    assert (
        int(row["n_customers"])
        == query(res, "SELECT count(*) FROM gold.customer_360 WHERE as_of_month = $m", {"m": f"{MONTH}-01"})[0][0]
    )
    # cash flow: every month, inflow / outflow / net as in cashflow_monthly
    cash = query(res, "SELECT inflow_pen, outflow_pen, net_pen FROM gold.cashflow_monthly ORDER BY report_month")
    traces = {t["name"].split(" ")[0]: t["y"] for t in figs["fig-cashflow"]["data"]}
    for i, name in enumerate(("inflow", "outflow", "net")):
        assert traces[name] == pytest.approx([float(r[i]) for r in cash], rel=1e-12), name
    assert all(v < 0 for v in traces["net"])  # the demo bank's deficit is what the chart shows
    # spend shares of the month as in spend_by_category_monthly
    share = dict(
        query(res, "SELECT category, share_of_month FROM gold.spend_by_category_monthly WHERE report_month = $m",
              {"m": f"{MONTH}-01"})
    )  # fmt: skip
    bar = figs["fig-spend_share"]["data"][0]
    assert dict(zip(bar["y"], bar["x"], strict=True)) == pytest.approx({k: float(v) for k, v in share.items()})
    # district ranking: anomaly rates of anomaly_kpis_district_monthly
    rates = dict(
        query(res, "SELECT district, anomaly_rate FROM gold.anomaly_kpis_district_monthly WHERE report_month = $m",
              {"m": f"{MONTH}-01"})
    )  # fmt: skip
    bar = figs["fig-anomaly_districts"]["data"][0]
    assert bar["y"] and bar["x"] == pytest.approx([float(rates[d]) for d in bar["y"]])
    # no PII in the page: customer ids only, never emails or names of silver's customers
    emails, names = zip(*query(res, "SELECT email, last_name FROM silver.customers WHERE email IS NOT NULL LIMIT 50"),
                        strict=True)  # fmt: skip
    assert not any(e in page for e in emails)
    assert not any(f">{n}<" in page for n in names)


def test_dashboard_materialization_metadata(built):
    _, instance = built
    event = instance.get_latest_materialization_event(AssetKey(["reports", "dashboard"]))
    md = event.asset_materialization.metadata
    assert event.asset_materialization.partition == f"{MONTH}-01"
    assert md["path"].value.endswith(f"dashboard/{MONTH}.html")
    assert "Executive dashboard" in md["summary"].value
    assert isinstance(md["net_pen"].value, float) and isinstance(md["n_customers"].value, int)


def test_exports_equal_gold(built):
    res, _ = built
    root = reports_root(res) / "exports"
    tables = [p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert "fct_transactions" in tables and "executive_kpis_monthly" in tables and len(tables) >= 23
    assert not list(root.glob(".staging/*"))  # nothing left half-written
    with duckdb.connect(res["warehouse"].resolved_path, read_only=True) as con:
        for table in ("fct_transactions", "cashflow_monthly", "customer_360", "transaction_anomalies"):
            exported = f"read_parquet('{root}/{table}/*/*/*.parquet', hive_partitioning = true)"
            cols = [c for (c, *_) in con.execute(f"DESCRIBE gold.{table}").fetchall()]
            assert not set(cols) & PII_COLUMNS
            select = ", ".join(f'"{c}"' for c in cols)
            diff = con.execute(
                f"SELECT count(*) FROM ((SELECT {select} FROM gold.{table} EXCEPT ALL SELECT {select} FROM {exported})"
                f" UNION ALL (SELECT {select} FROM {exported} EXCEPT ALL SELECT {select} FROM gold.{table}))"
            ).fetchone()[0]
            assert diff == 0, table
        months = con.execute(
            f"SELECT DISTINCT year, month FROM read_parquet('{root}/cashflow_monthly/*/*/*.parquet', "
            "hive_partitioning = true) ORDER BY ALL"
        ).fetchall()
        assert months == [(2024, "01"), (2024, "02")]  # month=MM, as written (zero-padded text)
        csv = con.execute(f"SELECT count(*), min(as_of_month) FROM read_csv('{root}/customer_360.csv')").fetchone()
        n = con.execute("SELECT count(*) FROM gold.customer_360 WHERE as_of_month = $m", {"m": f"{MONTH}-01"})
        n = n.fetchone()
        assert csv == (n[0], pd.Timestamp(f"{MONTH}-01").date())


def test_analytics_pages_open_in_chromium_and_draw_the_tables(built):
    """One page per category for the month, linked to each other and to the executive dashboard;
    the inferential page draws group_tests' intervals as they are in the warehouse."""
    from bank_assets.reports.analytics_pages import CATEGORIES, PLOTLY_JS, page_name

    res, _ = built
    folder = reports_root(res) / "analytics" / MONTH
    pages = {c: (folder / page_name(c)).read_text(encoding="utf-8") for c in CATEGORIES}
    assert (folder.parent / PLOTLY_JS).stat().st_size > 1_000_000, "the pages' one copy of plotly.js"
    for category, page in pages.items():
        assert f'data-category="{category}"' in page and f"../../dashboard/{MONTH}.html" in page
        assert len(page) < 1_000_000, f"{category}: plotly.js is embedded again"
        assert page.count(f'src="../{PLOTLY_JS}"') == (1 if "Plotly.newPlot" in page else 0), category
        assert all(f'href="{page_name(c)}"' in page for c in CATEGORIES)
    fig = figures(pages["inferential"])["fig-spend"]["data"][0]
    rows = query(
        res,
        "SELECT group_a || ' - ' || group_b, estimate, ci_low, ci_high FROM analytics.group_tests "
        "WHERE test = 'spend_by_segment' AND as_of_month = $m",
        {"m": f"{MONTH}-01"},
    )
    assert rows and sorted(fig["y"]) == sorted(r[0] for r in rows)
    by_label = {r[0]: r[1:] for r in rows}
    for label, x, plus, minus in zip(fig["y"], fig["x"], fig["error_x"]["array"], fig["error_x"]["arrayminus"],
                                     strict=True):  # fmt: skip
        est, lo, hi = by_label[label]
        assert (x, x + plus, x - minus) == pytest.approx((est, hi, lo))
    heat = figures(pages["exploratory"])["fig-heatmap"]["data"][0]
    n = query(res, "SELECT sum(n_transactions) FROM gold.txn_heatmap_monthly WHERE transaction_month = $m",
              {"m": f"{MONTH}-01"})[0][0]  # fmt: skip
    assert sum(v for row in heat["z"] for v in row) == n > 0
    binary = browser.chromium()
    if binary is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    page = browser.Page(binary)
    try:
        for category in ("inferential", "exploratory"):
            page.open((folder / page_name(category)).as_uri())
            assert page.wait_for(
                "document.querySelectorAll('.js-plotly-plot .main-svg').length > 0 && "
                "document.querySelectorAll('.js-plotly-plot').length"
            )
    finally:
        page.close()
    assert page.errors == [], page.errors


def test_analytics_pages_draw_the_new_marts_as_the_warehouse_holds_them(built):
    """Credit decisions, cross-sell lift and the fraud queue are drawn from gold as they are, and the
    diagnostic and real-time pages render in Chromium without a script error."""
    from bank_assets.reports.analytics_pages import page_name

    res, _ = built
    folder = reports_root(res) / "analytics" / MONTH
    m = {"m": f"{MONTH}-01"}
    diagnostic = figures((folder / page_name("diagnostic")).read_text(encoding="utf-8"))
    n_apps = query(res, "SELECT sum(n_applications) FROM gold.credit_decisions_monthly WHERE application_month = $m", m)
    drawn = sum(sum(trace["y"]) for trace in diagnostic["fig-decisions"]["data"])
    assert drawn == n_apps[0][0] > 0
    exploratory = figures((folder / page_name("exploratory")).read_text(encoding="utf-8"))
    lift = {
        (a, b): float(v)
        for a, b, v in query(
            res, "SELECT product_a, product_b, lift FROM gold.product_cross_sell_pairs WHERE as_of_month = $m", m
        )
    }
    heat = exploratory["fig-cross_sell"]["data"][0]
    drawn_lift = {
        (a, b): v for a, row in zip(heat["y"], heat["z"], strict=True) for b, v in zip(heat["x"], row, strict=True)
    }
    assert lift and all(drawn_lift[k] == pytest.approx(v, abs=5e-4) for k, v in lift.items())
    real_time = (folder / page_name("real_time")).read_text(encoding="utf-8")
    n_open = query(res, "SELECT coalesce(sum(n_open), 0) FROM gold.fraud_alert_ageing WHERE snapshot_month = $m", m)
    if n_open[0][0]:
        queue = figures(real_time)["fig-fraud_queue"]["data"]
        assert sum(sum(trace["y"]) for trace in queue) == n_open[0][0]
    assert f"<b>{n_open[0][0]}</b> fraud alerts open at month end" in real_time or n_open[0][0] == 0
    regulatory = (folder / page_name("regulatory")).read_text(encoding="utf-8")
    ((lcr, hqla, net),) = query(
        res, "SELECT lcr, hqla_pen, net_cash_outflows_pen FROM gold.lcr_monthly WHERE report_month = $m", m
    )
    assert f"Liquidity coverage ratio <b>{float(lcr):.1%}</b>" in regulatory
    bars = figures(regulatory)["fig-lcr"]["data"]
    assert sum(b["y"][0] for b in bars if b["x"] == ["HQLA"]) == pytest.approx(float(hqla))
    assert sum(b["y"][0] for b in bars if b["x"] == ["Net cash outflows"]) == pytest.approx(float(net))
    binary = browser.chromium()
    if binary is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    page = browser.Page(binary)
    try:
        for category in ("diagnostic", "real_time", "prescriptive", "causal", "regulatory"):
            page.open((folder / page_name(category)).as_uri())
            assert page.wait_for("document.querySelectorAll('.card').length > 0")
    finally:
        page.close()
    assert page.errors == [], page.errors


def test_every_table_the_reports_read_has_its_month_column_from_one_declaration():
    """The dashboards select months by month_column(table): a gold model's meta.partition_column
    (manifest), an analytics table's as_of_month. Each is a column the table declares."""
    from bank_assets.analytics.tables import TABLES
    from bank_assets.reports import analytics_pages, dashboard
    from bank_assets.reports.month_columns import gold_month_columns, month_column

    manifest = json.loads((PROJECT_ROOT / "dbt_models" / "target" / "manifest.json").read_text())
    gold_columns = {n["name"]: set(n["columns"]) for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    read = {*dashboard.MONTH_TABLES, *dashboard.HISTORY_TABLES, *analytics_pages.TABLES_READ}
    for table in sorted(read):
        column = month_column(table)
        declared = set(TABLES[table].schema) if table in TABLES else gold_columns[table]
        assert column in declared, (table, column)
    assert month_column("transaction_anomalies") == gold_month_columns()["transaction_anomalies"]
    with pytest.raises(KeyError):
        month_column("no_such_table")
