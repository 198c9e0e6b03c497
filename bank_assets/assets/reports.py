"""Reports: the consumption layer downstream of gold, monthly like the rest of the graph.

* ``reports/dashboard``: the executive dashboard of each month, one self-contained HTML file
  (Plotly with its JS embedded) at ``<BANK_REPORTS_DIR>/dashboard/<YYYY-MM>.html``. Gold tables
  arrive as pandas DataFrames through dagster-duckdb-pandas (``GoldTableReader``, read-only):
  the run's months of the month-grained tables, and every month up to the run's last one of the
  tables the trend charts need (``gold_history_reader``).
* ``reports/gold_exports``: every gold table as Parquet, ``year=/month=`` folders, replaced
  atomically per month, plus ``customer_360.csv`` of the latest month: the read path for BI.

Both read the warehouse only (read-only connections). On the embedded profile they take the
``duckdb_warehouse`` pool, so they never run while a writer holds the file; on the lakehouse
profile they take none (a DuckLake reader sees committed snapshots). Like gold, they follow their parents month by month
(``GOLD_AUTOMATION``), and a range run walks its months oldest first, recording each month's
metadata on its partition.
"""

import datetime as dt
from pathlib import Path

import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
)

from bank_assets.assets.common import OWNER, REPORTS_POOL, SINGLE_RUN, months_of
from bank_assets.assets.dbt_project import model_nodes
from bank_assets.assets.gold import gold
from bank_assets.assets.gold_translator import GOLD_AUTOMATION
from bank_assets.partitions import monthly_partitions
from bank_assets.reports import analytics_pages as ap
from bank_assets.reports import dashboard as dash
from bank_assets.reports import exports
from bank_assets.resources import LandingZone, ReportsDir, Warehouse

GROUP = "reports"
#: what every reports asset shares: monthly, a range in one run, after gold by automation, read-only pool
MONTHLY_REPORT = dict(
    group_name=GROUP,
    partitions_def=monthly_partitions,
    backfill_policy=SINGLE_RUN,
    automation_condition=GOLD_AUTOMATION,
    pool=REPORTS_POOL,
    owners=[OWNER],
)
TAGS = {"dagster/kind/plotly": "", "dagster/kind/html": ""}


def dashboard_path(root: str | Path, month: dt.date) -> Path:
    return Path(root) / "dashboard" / f"{month:%Y-%m}.html"


def _ins() -> dict[str, AssetIn]:
    ins = {t: AssetIn(key=AssetKey(["gold", t]), input_manager_key="gold_reader") for t in dash.MONTH_TABLES}
    ins |= {t: AssetIn(key=AssetKey(["gold", t]), input_manager_key="gold_history_reader") for t in dash.HISTORY_TABLES}
    return ins


def _kpi_metadata(cards: list[dict]) -> dict[str, object]:
    """Numeric KPIs as float/int metadata (the UI plots them over partitions)."""
    out: dict[str, object] = {}
    for c in cards:
        if c["value"] is None:
            continue
        is_count = c["column"].startswith("n_")
        out[c["column"]] = MetadataValue.int(int(c["value"])) if is_count else MetadataValue.float(float(c["value"]))
    out["kpis_red"] = MetadataValue.int(sum(c["status"] == dash.RED for c in cards))
    return out


@asset(
    key=AssetKey(["reports", "dashboard"]),
    ins=_ins(),
    **MONTHLY_REPORT,
    tags=TAGS,
    description="Executive dashboard of the month: one self-contained HTML file (Plotly, opens offline) "
    "at <BANK_REPORTS_DIR>/dashboard/<YYYY-MM>.html, every number from gold.",
)
def dashboard(context: AssetExecutionContext, reports: ReportsDir, **tables: pd.DataFrame) -> MaterializeResult:
    """The dashboard of every month of the run, oldest first."""
    for pk, month in months_of(context):
        page, cards = dash.build(month, tables)
        path = dashboard_path(reports.resolved_root, month)
        dash.write_page(path, page)
        context.log.info(f"dashboard {month:%Y-%m}: {path}")
        context.add_asset_metadata(
            {
                "path": MetadataValue.path(str(path)),
                "summary": MetadataValue.md(dash.summary_markdown(month, cards, str(path))),
                "size_bytes": MetadataValue.int(path.stat().st_size),
                **_kpi_metadata(cards),
            },
            partition_key=pk,
        )
    return MaterializeResult()


def gold_tables() -> dict[str, str]:
    """Every gold model and its month column (dbt meta.partition_column)."""
    return {
        name: n["config"]["meta"]["partition_column"]
        for name, n in model_nodes().items()
        if n["config"].get("schema") == "gold"
    }


@asset(
    key=AssetKey(["reports", "gold_exports"]),
    deps=sorted(gold.keys, key=lambda k: k.to_user_string()),
    **MONTHLY_REPORT,
    tags={"dagster/kind/parquet": ""},
    description="Every gold table as Parquet (zstd) under <BANK_REPORTS_DIR>/exports/<table>/year=YYYY/month=MM/, "
    "replaced atomically per month, and customer_360.csv of the latest month: the read path for BI while "
    "pipelines run (never locks the warehouse). No PII (checked before publishing).",
)
def gold_exports(context: AssetExecutionContext, warehouse: Warehouse, reports: ReportsDir) -> MaterializeResult:
    root = Path(reports.resolved_root) / "exports"
    tables = gold_tables()
    with (
        warehouse.connect(log=context.log.info, read_only=True) as con,
        warehouse.connect(log=context.log.info, read_only=True) as second,  # the tables on two threads
    ):
        for pk, month in months_of(context):
            written = exports.export_month([con, second], root, month, tables)
            latest = exports.latest_exported_month(root, "customer_360")
            csv = None
            if latest is None or month >= latest:
                csv = exports.write_customer_360_csv(con, root, month)
            rows = {t.table: t.rows for t in written}
            context.add_asset_metadata(
                {
                    "path": MetadataValue.path(str(root)),
                    "tables": MetadataValue.int(len(written)),
                    "rows": MetadataValue.int(sum(rows.values())),
                    "bytes": MetadataValue.int(sum(t.bytes for t in written)),
                    "rows_by_table": MetadataValue.json(rows),
                    **({"customer_360_csv": MetadataValue.path(str(csv))} if csv else {}),
                },
                partition_key=pk,
            )
            context.log.info(f"exports {month:%Y-%m}: {len(written)} tables, {sum(rows.values())} rows -> {root}")
    return MaterializeResult()


def _analytics_ins() -> dict[str, AssetIn]:
    ins = {
        t: AssetIn(key=AssetKey(["analytics", t]), input_manager_key="analytics_writer")
        for t in ap.TABLES_READ
        if t not in ap.GOLD_TABLES
    }
    ins |= {t: AssetIn(key=AssetKey(["gold", t]), input_manager_key="gold_reader") for t in ap.GOLD_TABLES}
    return ins


@asset(
    key=AssetKey(["reports", "analytics_dashboard"]),
    ins=_analytics_ins(),
    **MONTHLY_REPORT,
    tags=TAGS,
    description="The analytics dashboard of the month: one HTML page per category (diagnostic, "
    "exploratory, inferential, predictive, prescriptive, causal, real-time) and a regulatory page (LCR, IFRS 9, "
    "AML) at "
    "<BANK_REPORTS_DIR>/analytics/<YYYY-MM>/<category>.html, linked to each other and to the executive dashboard, "
    "loading one plotly.js in <BANK_REPORTS_DIR>/analytics/.",
)
def analytics_dashboard(
    context: AssetExecutionContext, reports: ReportsDir, landing: LandingZone, **tables: pd.DataFrame
) -> MaterializeResult:
    ap.write_plotly_js(Path(reports.resolved_root) / "analytics")
    for pk, month in months_of(context):
        folder = Path(reports.resolved_root) / "analytics" / f"{month:%Y-%m}"
        pages = ap.build(month, tables, aml_planted(landing, month))
        for category, page in pages.items():
            dash.write_page(folder / ap.page_name(category), page)
        context.log.info(f"analytics dashboard {month:%Y-%m}: {len(pages)} pages in {folder}")
        context.add_asset_metadata(
            {"path": MetadataValue.path(str(folder)), "pages": MetadataValue.json(sorted(pages))}, partition_key=pk
        )
    return MaterializeResult()


def aml_planted(landing: LandingZone, month: dt.date) -> pd.DataFrame | None:
    """The synthetic bank's planted AML cases of the month when it writes the landing files
    (generate mode), to score the alert rules on the regulatory page; None for a bank's own files."""
    if landing.mode != "generate":
        return None
    from bank_assets.synthetic import World
    from bank_assets.synthetic.aml import truth
    from bank_assets.synthetic.months import parse_month

    cfg = landing.generator_config()
    return truth(cfg, World(cfg).snapshot(parse_month(f"{month:%Y-%m}"))).to_pandas()


report_assets = [dashboard, gold_exports, analytics_dashboard]
