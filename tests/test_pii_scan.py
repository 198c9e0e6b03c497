"""PII stays inside silver: after a real landing -> gold run, no raw customer PII from the landing
files (and not the pseudonym key) is found in the dbt-built schemas, the Dagster instance (event
log, run storage, compute logs) or dbt's artifacts.

Needles are the landing values of customers' first_name, last_name, email, national_id, phone and
street (as sent, trimmed, and emails lower-cased as silver stores them), at least 5 characters.
A value that also occurs in non-PII text (any other landing column, the project's own code and
dbt files: a last name can be part of a merchant's name or a district) proves nothing and is
skipped. Files are searched for the UTF-8 bytes and for the JSON-escaped form (Dagster stores
events as ASCII JSON, so "Núñez" is stored as "N\\u00fa\\u00f1ez").
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import shutil
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import pytest
from dagster import AssetSelection, DagsterInstance, serialize_value

from bank_assets import pseudonym
from bank_assets.assets import gold
from bank_assets.contracts import NULL_TOKENS
from bank_assets.settings import DBT_PROJECT_DIR, PROJECT_ROOT

from .pipeline import project_instance, resources, run, run_gold, run_months

pytestmark = pytest.mark.slow

MONTH = "2024-01"
PII_COLUMNS = ("first_name", "last_name", "email", "national_id", "phone", "street")
DBT_SCHEMAS = ("staging", "intermediate", "gold")
#: every schema built from silver: dbt's, and the analytics group's (Python, dagster-duckdb-pandas)
SCANNED_SCHEMAS = (*DBT_SCHEMAS, "analytics")
MIN_LEN = 5
# A fixed test key (not a secret): the pseudonyms, and so the scans, are the same on every run.
TEST_KEY = hashlib.sha256(b"bank-lakehouse test_pii_scan").hexdigest()


def landing_values(root: Path) -> tuple[set[str], set[str]]:
    """(PII values of customers, every other landing value) from the landing CSVs."""
    pii: set[str] = set()
    other: set[str] = set()
    files = sorted(root.rglob("*.csv"))
    assert any(p.name == "customers.csv" for p in files), f"no customers.csv under {root}"
    for path in files:
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                for col, value in row.items():
                    if not value:
                        continue
                    if path.name == "customers.csv" and col in PII_COLUMNS:
                        pii.update({value, value.strip()} | ({value.strip().lower()} if col == "email" else set()))
                    else:
                        other.add(value)
    return pii, other


def project_text() -> str:
    """The project's own code and dbt files: text that is in the artifacts by construction."""
    paths = [*(PROJECT_ROOT / "bank_assets").rglob("*.py")]
    for folder in ("models", "macros", "tests"):
        paths += [p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.suffix in (".sql", ".yml")]
    paths += [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    return "\n".join(p.read_text(encoding="utf-8") for p in paths)


def needles_from(pii: set[str], other: set[str]) -> list[str]:
    innocent = "\n".join(other) + "\n" + project_text()
    lowered = innocent.lower()
    tokens = {t.lower() for t in NULL_TOKENS}
    return sorted(v for v in pii if len(v) >= MIN_LEN and v.lower() not in tokens and v.lower() not in lowered)


class Needles:
    """Finds any of many values in bytes: UTF-8 and JSON-escaped forms, exact bytes.

    One regex alternation of ~3,000 values runs at ~0.15 MB/s; instead every 5-byte window of
    the blob is matched against the needles' first 5 bytes with numpy, and only those positions
    are compared in full (about 1 s for the whole scan).
    """

    def __init__(self, values: list[str]) -> None:
        self.value_of = {f: v for v in values for f in (v.encode(), json.dumps(v)[1:-1].encode())}
        self.by_prefix: dict[int, list[bytes]] = defaultdict(list)
        for form in self.value_of:
            self.by_prefix[self._int(form[:MIN_LEN])].append(form)
        self.prefixes = np.array(sorted(self.by_prefix), dtype=np.uint64)

    @staticmethod
    def _int(prefix: bytes) -> int:
        return int.from_bytes(prefix, "big")

    def find(self, blob: bytes) -> set[str]:
        if len(blob) < MIN_LEN:
            return set()
        b = np.frombuffer(blob, dtype=np.uint8).astype(np.uint64)
        n = len(b) - MIN_LEN + 1
        windows = np.zeros(n, dtype=np.uint64)
        for i in range(MIN_LEN):
            windows = (windows << np.uint64(8)) | b[i : i + n]
        found = set()
        for pos in np.flatnonzero(np.isin(windows, self.prefixes)).tolist():
            for form in self.by_prefix[int(windows[pos])]:
                if blob.startswith(form, pos):
                    found.add(self.value_of[form])
        return found


def found_in(blobs: dict[str, bytes], needles: Needles) -> dict[str, list[str]]:
    hits = {}
    for name, blob in blobs.items():
        found = needles.find(blob)
        if found:
            hits[name] = sorted(found)[:10]
    return hits


def read_tree(root: Path, label: str) -> dict[str, bytes]:
    return {f"{label}/{p.relative_to(root)}": p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def keeping_artifacts(into: Path):
    """gold.invocation_target that copies each dbt invocation folder before it is deleted."""
    original = gold.invocation_target

    @contextmanager
    def invocation_target(context, name: str, key: str) -> Iterator[Path]:
        with original(context, name, key) as path:
            try:
                yield path
            finally:
                shutil.copytree(path, into / path.name, dirs_exist_ok=True)

    return invocation_target


def dagster_texts(instance: DagsterInstance) -> dict[str, bytes]:
    """Every file under the instance's root (SQLite event log and run storage, compute logs) and
    every run and event as serialized by Dagster."""
    blobs = read_tree(Path(instance.root_directory), "dagster_home")
    for dagster_run in instance.get_runs():
        records = instance.get_records_for_run(dagster_run.run_id, limit=1_000_000).records
        events = "\n".join(serialize_value(r.event_log_entry) for r in records)
        blobs[f"run {dagster_run.run_id}"] = (serialize_value(dagster_run) + "\n" + events).encode()
    return blobs


@pytest.fixture(scope="module")
def scanned(tmp_path_factory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("pii_scan")
    res = resources(root)  # tiny scale, 300 customers, the demo's defects (stray whitespace, mixed case)
    artifacts = root / "dbt_artifacts"
    started = time.time()
    with pytest.MonkeyPatch.context() as mp, project_instance() as instance:
        mp.setenv(pseudonym.KEY_ENV, TEST_KEY)
        mp.setattr(gold, "invocation_target", keeping_artifacts(artifacts))
        run_months(res, [MONTH], instance)
        run_gold(res, [MONTH], instance)
        assert run(res, MONTH, instance, selection=AssetSelection.groups("analytics")).success
        pii, other = landing_values(Path(res["landing"].resolved_root))
        target = DBT_PROJECT_DIR / "target"
        dbt = read_tree(artifacts, "invocations") if artifacts.exists() else {}
        for p in target.glob("*"):  # what stays in the shared target folder (parse caches, manifest)
            with contextlib.suppress(FileNotFoundError):  # another test worker's file may come and go
                recent = p.is_file() and p.stat().st_mtime >= started - 1
                if recent or p.name in ("manifest.json", "partial_parse.msgpack"):
                    dbt[f"target/{p.name}"] = p.read_bytes()
        yield {
            "res": res,
            "needles": needles_from(pii, other),
            "dagster": dagster_texts(instance),
            "dbt": dbt,
        }


def warehouse_hits(path: str, schemas: tuple[str, ...], needles: list[str]) -> dict[str, list[str]]:
    """Every VARCHAR column of every table and view in `schemas`: values equal to a needle, or
    containing a needle of 8+ characters that is not only digits (an email or a street inside a
    longer text; short or numeric needles inside longer values would be chance)."""
    long_text = [v for v in needles if len(v) >= 8 and not v.isdigit()]
    hits = {}
    with duckdb.connect(path, read_only=True) as con:
        con.execute("CREATE TEMP TABLE needles AS SELECT unnest($n::VARCHAR[]) AS v", {"n": needles})
        con.execute("CREATE TEMP TABLE long_needles AS SELECT unnest($n::VARCHAR[]) AS v", {"n": long_text})
        columns = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE table_schema IN (SELECT unnest($s::VARCHAR[])) AND data_type = 'VARCHAR' ORDER BY ALL",
            {"s": list(schemas)},
        ).fetchall()
        assert {s for s, _, _ in columns} == set(schemas), "a schema to scan is missing or has no text column"
        for schema, table, column in columns:
            c = f'"{column}"'
            found = con.execute(
                f'SELECT DISTINCT {c} FROM "{schema}"."{table}" t WHERE {c} IN (SELECT v FROM needles) '
                f"OR EXISTS (SELECT 1 FROM long_needles n WHERE contains(t.{c}, n.v)) LIMIT 5"
            ).fetchall()
            if found:
                hits[f"{schema}.{table}.{column}"] = [v for (v,) in found]
    return hits


def test_the_scan_finds_pii_where_it_is(scanned):
    """Controls: the needles cover every PII column, and the same scans find them in silver, in
    the landing file and in JSON-escaped text."""
    needles = scanned["needles"]
    assert len(needles) > 500, len(needles)
    path = scanned["res"]["warehouse"].resolved_path
    silver = warehouse_hits(path, ("silver",), needles)
    assert {f"silver.customers.{c}" for c in PII_COLUMNS} <= set(silver), sorted(silver)
    finder = Needles(needles)
    landing = Path(scanned["res"]["landing"].resolved_root)
    in_file = set().union(*(finder.find(p.read_bytes()) for p in landing.rglob("customers.csv")))
    assert len(in_file) >= 0.9 * len(needles)
    accented = [v for v in needles if not v.isascii()]
    assert accented and finder.find(json.dumps(accented).encode()) >= set(accented)  # ASCII JSON
    assert scanned["dagster"] and any(k.startswith("invocations/") for k in scanned["dbt"])


def test_no_pii_in_dbt_and_analytics_schemas(scanned):
    hits = warehouse_hits(scanned["res"]["warehouse"].resolved_path, SCANNED_SCHEMAS, scanned["needles"])
    assert not hits, hits


def test_no_pii_in_the_dagster_instance(scanned):
    hits = found_in(scanned["dagster"], Needles(scanned["needles"]))
    assert not hits, hits


def test_no_pii_in_dbt_artifacts(scanned):
    hits = found_in(scanned["dbt"], Needles(scanned["needles"]))
    assert not hits, hits


def test_the_key_is_nowhere(scanned):
    """Neither the key nor its hex is in the warehouse file, the Dagster instance or dbt's files."""
    key = bytes.fromhex(TEST_KEY)
    forms = [key, TEST_KEY.encode(), TEST_KEY.upper().encode()]
    blobs = {**scanned["dagster"], **scanned["dbt"]}
    blobs["warehouse"] = Path(scanned["res"]["warehouse"].resolved_path).read_bytes()
    assert not [name for name, blob in blobs.items() if any(f in blob for f in forms)]


def test_silver_holds_the_pseudonyms(scanned):
    """silver.customers carries HMAC-SHA256 pseudonyms under the run's key, which staging passes on."""
    with duckdb.connect(scanned["res"]["warehouse"].resolved_path, read_only=True) as con:
        rows = con.execute(
            "SELECT national_id, street, district, national_id_hash, address_hash FROM silver.customers LIMIT 50"
        ).fetchall()
        staged = dict(
            con.execute("SELECT national_id_hash, address_hash FROM staging.stg_silver__customers").fetchall()
        )
    key = bytes.fromhex(TEST_KEY)
    for national_id, street, district, id_hash, address_hash in rows:
        assert id_hash == pseudonym.pseudonymize(national_id, key)
        assert address_hash == pseudonym.pseudonymize(f"{street or ''}|{district}", key)
        assert staged[id_hash] == address_hash
