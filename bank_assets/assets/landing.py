"""Landing assets: one per source table, that month's landing files.

With the landing zone in "generate" mode the synthetic generator writes the month's files (in the
source profile's dialect); in "files" mode (BANK_LANDING_MODE=files) the asset only checks that
your export is there and describes it, so bronze reads your data. Where the files are and how they
are written is the source profile's (BANK_SOURCE_PROFILE). Reference tables (merchants, branches)
are monthly snapshots; a month without its own files carries the latest earlier ones forward.
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
from bank_assets.layout import expected_files, manifest_file, resolve_landing_files
from bank_assets.partitions import monthly_partitions
from bank_assets.resources import LandingZone
from bank_assets.source_profile import SourceProfile, TableSource, active_profile
from bank_assets.synthetic.months import parse_month
from bank_assets.warehouse.bronze import check_landing_path


def _spec(table: str) -> AssetSpec:
    c = CONTRACTS[table]
    where = f"landing/{table}/<YYYY-MM>/{table}.csv in the default profile"
    carry = (
        " A month without its own file carries the latest earlier month's file forward." if c.carries_forward else ""
    )
    return AssetSpec(
        key=key("landing", table),
        description=f"{c.description} Landing file `{where}` (UTF-8 CSV with header; a source profile "
        f"may declare other files and formats).{carry}",
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


def data_rows(path: Path, source: TableSource) -> tuple[str, int]:
    """sha256 and data rows of one landing file (a CSV's lines less its header; Parquet's count)."""
    digest, lines = file_lines_and_digest(path)
    if source.format == "parquet":
        import pyarrow.parquet as pq

        try:
            return digest, pq.ParquetFile(path).metadata.num_rows
        except Exception:  # bronze names the problem; here only the count is unknown
            return digest, 0
    return digest, max(lines - (1 if source.header else 0), 0)


def describe(root: Path, table: str, month: str, profile: SourceProfile | None = None) -> dict:
    """Paths, rows and bytes of the files holding `table` for `month`; a clear error when missing."""
    profile = profile or active_profile()
    source = profile.table(table)
    paths = resolve_landing_files(root, table, month, source)
    if not paths:
        carry = " (or in an earlier month, which is carried forward)" if CONTRACTS[table].carries_forward else ""
        raise FileNotFoundError(
            f"landing file {expected_files(root, table, month, source)} is missing{carry} (source profile "
            f"{profile.name}). In BANK_LANDING_MODE=files, drop your export there (see docs/source_profiles.md); "
            "or use mode 'generate'."
        )
    digests, rows = [], 0
    for path in paths:
        check_landing_path(root, path)
        digest, n = data_rows(path, source)
        digests.append(digest)
        rows += n
    meta: dict = {
        "path": MetadataValue.path(str(paths[0])),
        "dagster/row_count": rows,
        "bytes": sum(p.stat().st_size for p in paths),
        "sha256": digests[0] if len(digests) == 1 else hashlib.sha256("".join(digests).encode()).hexdigest(),
        "source_profile": profile.label,
    }
    if len(paths) > 1:
        meta["files"] = MetadataValue.json([str(p) for p in paths])
    own = source.month_files(root, month)
    if not own:
        meta["carried_forward_from"] = paths[0].parent.name if source.is_default_csv else str(paths[0].parent)
    manifest = manifest_file(paths[0])
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
    profile = active_profile()
    world = None
    if landing.mode == "generate":  # the generator (numpy, scipy, Faker pools) loads only to generate
        from bank_assets.synthetic import World
        from bank_assets.synthetic.generate import write_for

        world = World(landing.generator_config())
    tables = [t for t in TABLES if key("landing", t) in context.selected_asset_keys]
    for pk in partition_keys(context):
        month = pk[:7]
        for table in tables:
            if world is not None:
                write_for(world, table, parse_month(month), root, profile.table(table))
            meta = describe(root, table, month, profile)
            meta["delivery"] = delivery(context.instance, key("landing", table), pk, meta["sha256"])
            if meta["delivery"] == "RESTATEMENT":
                context.log.warning(f"landing {table} {month}: re-delivered with new content (a restatement)")
            context.add_asset_metadata(meta, asset_key=key("landing", table), partition_key=pk)
        context.log.info(f"landing {month}: {len(tables)} files {'generated' if world else 'found'}")
    for table in tables:
        yield MaterializeResult(asset_key=key("landing", table))
