"""Landing assets: one per source table, that month's landing file.

With the landing zone in "generate" mode the synthetic generator writes the month's files; in
"files" mode (BANK_LANDING_MODE=files) the asset only checks that your export is there and
describes it, so bronze reads your data. Reference tables (merchants, branches) are monthly
snapshots; a month without its own file carries the latest earlier one forward.
"""

import hashlib
import json
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetRecordsFilter,
    AssetSpec,
    DagsterInstance,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from bank_assets.assets.common import INGEST_BACKFILL, OWNER, column_schema, key, partition_keys
from bank_assets.contracts import CONTRACTS, TABLES
from bank_assets.layout import landing_file, manifest_file, resolve_landing_file
from bank_assets.partitions import monthly_partitions
from bank_assets.resources import LandingZone
from bank_assets.synthetic import World, write_table
from bank_assets.synthetic.months import parse_month
from bank_assets.warehouse.bronze import check_landing_path


def _spec(table: str) -> AssetSpec:
    c = CONTRACTS[table]
    where = f"landing/{table}/<YYYY-MM>/{table}.csv"
    carry = (
        " A month without its own file carries the latest earlier month's file forward." if c.carries_forward else ""
    )
    return AssetSpec(
        key=key("landing", table),
        description=f"{c.description} Landing file `{where}` (UTF-8 CSV with header).{carry}",
        group_name="landing",
        kinds={"csv"},
        owners=[OWNER],
        skippable=True,
        partitions_def=monthly_partitions,
        metadata={"dagster/column_schema": column_schema(c, all_text=True), "grain": c.grain},
    )


def file_lines_and_digest(path: Path) -> tuple[str, int]:
    """sha256 and line count of a file in one pass (a last line without a newline counts)."""
    h, lines, last = hashlib.sha256(), 0, b"\n"
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return h.hexdigest(), lines + (last != b"\n")


def describe(root: Path, table: str, month: str) -> dict:
    """Path, rows and bytes of the file holding `table` for `month`; a clear error when missing."""
    path = resolve_landing_file(root, table, month)
    if path is None:
        carry = " (or in an earlier month, which is carried forward)" if CONTRACTS[table].carries_forward else ""
        raise FileNotFoundError(
            f"landing file {landing_file(root, table, month)} is missing{carry}. In BANK_LANDING_MODE=files, "
            f"drop your export there (see README, 'Landing zone contract'); or use mode 'generate'."
        )
    check_landing_path(root, path)
    digest, lines = file_lines_and_digest(path)
    rows = max(lines - 1, 0)
    meta: dict = {
        "path": MetadataValue.path(str(path)),
        "dagster/row_count": rows,
        "bytes": path.stat().st_size,
        "sha256": digest,
    }
    if path.parent.name != month:
        meta["carried_forward_from"] = path.parent.name
    manifest = manifest_file(path)
    if manifest.exists():
        meta["injected_defects"] = MetadataValue.json(json.loads(manifest.read_text())["defects"])
    return meta


def delivery(instance: DagsterInstance, asset_key: AssetKey, partition: str, digest: str) -> str:
    """How this month's file compares with the one recorded last time: "first delivery",
    "unchanged" or "RESTATEMENT" (the content changed: bronze then records the rows added, removed
    and changed, and the later months that read the month are stale until rebuilt)."""
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition]), limit=1
    ).records
    if not records or records[0].asset_materialization is None:
        return "first delivery"
    before = records[0].asset_materialization.metadata.get("sha256")
    if before is None:
        return "first delivery"
    return "unchanged" if before.value == digest else "RESTATEMENT"


@multi_asset(
    name="landing_files",
    specs=[_spec(t) for t in TABLES],
    partitions_def=monthly_partitions,
    backfill_policy=INGEST_BACKFILL,
    can_subset=True,
)
def landing_files(context: AssetExecutionContext, landing: LandingZone):
    """The month's landing files (generated, or your exports in files mode), month by month."""
    root = Path(landing.resolved_root)
    world = World(landing.generator_config()) if landing.mode == "generate" else None
    tables = [t for t in TABLES if key("landing", t) in context.selected_asset_keys]
    for pk in partition_keys(context):
        month = pk[:7]
        for table in tables:
            if world is not None:
                write_table(world, table, parse_month(month), root)
            meta = describe(root, table, month)
            meta["delivery"] = delivery(context.instance, key("landing", table), pk, meta["sha256"])
            if meta["delivery"] == "RESTATEMENT":
                context.log.warning(f"landing {table} {month}: re-delivered with new content (a restatement)")
            context.add_asset_metadata(meta, asset_key=key("landing", table), partition_key=pk)
        context.log.info(f"landing {month}: {len(tables)} files {'generated' if world else 'found'}")
    for table in tables:
        yield MaterializeResult(asset_key=key("landing", table))
