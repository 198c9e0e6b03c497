"""The lakehouse profile: DuckLake (catalog in PostgreSQL, Parquet in an S3 bucket), dagster-postgres,
Celery workers; the same assets and dbt models as the embedded default.

The tests that need servers start their own (devtools.stack: PostgreSQL, SeaweedFS,
Redis on 127.0.0.1). Where those are not installed they are skipped, except in CI, where
BANK_REQUIRE_LAKEHOUSE=1 makes a missing server a failure.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from bank_assets.lakehouse import profile
from devtools.stack import local_stack, unavailable_reason

pytestmark = pytest.mark.slow  # runs the Dagster graph (or a server) end to end

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable


def need_stack() -> None:
    reason = unavailable_reason()
    if reason and os.environ.get("BANK_REQUIRE_LAKEHOUSE") == "1":
        pytest.fail(f"BANK_REQUIRE_LAKEHOUSE=1 but the lakehouse stack cannot start: {reason}")
    if reason:
        pytest.skip(reason)


# --- configuration ------------------------------------------------------------------------------


def test_profile_is_chosen_by_configuration(monkeypatch):
    monkeypatch.delenv("BANK_PROFILE", raising=False)
    assert profile.profile() == "embedded" and not profile.is_lakehouse()
    monkeypatch.setenv("BANK_PROFILE", "lakehouse")
    assert profile.is_lakehouse()
    monkeypatch.setenv("BANK_PROFILE", "cloud")
    with pytest.raises(ValueError, match="expected 'embedded'"):
        profile.profile()


def test_lake_settings_name_what_is_missing(monkeypatch):
    monkeypatch.setenv("BANK_PROFILE", "lakehouse")
    monkeypatch.delenv("BANK_LAKE_CATALOG", raising=False)
    with pytest.raises(RuntimeError, match="BANK_LAKE_CATALOG"):
        profile.LakeSettings.from_env()
    monkeypatch.setenv("BANK_LAKE_CATALOG", "host=127.0.0.1 port=5 user=u dbname=lake")
    monkeypatch.setenv("BANK_LAKE_DATA_PATH", "s3://b/p/")
    monkeypatch.setenv("BANK_S3_ENDPOINT", "127.0.0.1:9")
    monkeypatch.setenv("BANK_S3_KEY_ID", "k")
    monkeypatch.setenv("BANK_S3_SECRET", "s")
    s = profile.LakeSettings.from_env()
    assert s.attach_sql(read_only=True).endswith("(DATA_PATH 's3://b/p/', READ_ONLY)")
    assert "ducklake:postgres:host=127.0.0.1 port=5 user=u dbname=lake" in s.attach_sql()
    secret = s.secret_sql() or ""
    assert "ENDPOINT '127.0.0.1:9'" in secret and "URL_STYLE 'path'" in secret and "USE_SSL false" in secret


def test_extensions_come_from_the_wheels_and_nothing_autoinstalls(tmp_path):
    installed = profile.install_extensions(str(tmp_path))
    assert {"ducklake", "postgres_scanner", "httpfs"} <= set(installed)
    assert list(tmp_path.rglob("ducklake.duckdb_extension")), "ducklake was not copied into the folder"
    con = duckdb.connect(config=profile.connection_config("256MB", str(tmp_path)))
    try:
        assert con.execute("SELECT current_setting('autoinstall_known_extensions')").fetchone()[0] is False
        for name in profile.EXTENSIONS:
            con.execute(f"LOAD {name}")
        loaded = {r[0] for r in con.execute("SELECT extension_name FROM duckdb_extensions() WHERE loaded").fetchall()}
        assert set(profile.EXTENSIONS) <= loaded
    finally:
        con.close()


def test_conflicts_are_retried_a_bounded_number_of_times(monkeypatch):
    monkeypatch.setattr(profile.time, "sleep", lambda s: None)
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise duckdb.TransactionException("Failed to commit DuckLake transaction: Transaction conflict")
        return "done"

    seen: list[str] = []
    assert profile.retry_on_conflict(flaky, attempts=5, log=seen.append) == "done"
    assert len(calls) == 3 and len(seen) == 2 and all("transaction conflict" in m for m in seen)

    calls.clear()

    def always() -> None:
        calls.append(1)
        raise duckdb.TransactionException("Transaction conflict - attempting to delete")

    with pytest.raises(duckdb.TransactionException):
        profile.retry_on_conflict(always, attempts=4, log=seen.append)
    assert len(calls) == 4

    calls.clear()

    def other() -> None:
        calls.append(1)
        raise duckdb.CatalogException("Table with name nope does not exist")

    with pytest.raises(duckdb.CatalogException):
        profile.retry_on_conflict(other, attempts=4)
    assert len(calls) == 1, "an error that is not a conflict must not be retried"


# --- DuckLake with concurrent writers -----------------------------------------------------------

LOAD_MONTH = textwrap.dedent(
    """
    import datetime as dt, sys
    from pathlib import Path
    from bank_assets.contracts import CONTRACTS
    from bank_assets.layout import landing_file
    from bank_assets.warehouse import bronze, journal
    from bank_assets.warehouse.connection import connect
    landing, month, run_id = Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]), sys.argv[3]
    contract = CONTRACTS["transactions"]
    path = landing_file(landing, "transactions", f"{month:%Y-%m}")
    with connect("") as con:
        saved = lambda *scopes: journal.save(con, run_id, scopes, "bronze__transactions")
        n = bronze.load(con, contract, path, month, dt.datetime(2026, 1, 1), save=saved).rows
    print("ROWS", n)
    """
)


@pytest.mark.slow
def test_months_write_side_by_side_and_a_rollback_touches_only_its_month(tmp_path, monkeypatch):
    need_stack()
    from bank_assets.layout import landing_file
    from bank_assets.synthetic import DefectRates, GeneratorConfig, Scale, generate
    from bank_assets.synthetic.months import month_range, parse_month
    from bank_assets.warehouse import journal
    from bank_assets.warehouse.connection import connect

    landing = tmp_path / "landing"
    cfg = GeneratorConfig(seed=5, scale=Scale.named("tiny"), defects=DefectRates.clean())
    generate(cfg, month_range(parse_month("2024-01"), parse_month("2024-02")), landing)
    rows = {}
    for m in ("2024-01", "2024-02"):
        with open(landing_file(landing, "transactions", m), newline="") as fh:
            rows[m] = sum(1 for _ in csv.reader(fh)) - 1

    with local_stack(log=lambda m: None) as stack:  # its own folder: pytest's tmp_path is private to us
        env = {
            "BANK_PROFILE": "lakehouse",
            "BANK_LAKE_CATALOG": stack.pg_dsn("lake"),
            "BANK_LAKE_DATA_PATH": f"s3://{stack.bucket}/t/",
            "BANK_S3_ENDPOINT": stack.s3_endpoint,
            "BANK_S3_KEY_ID": stack.s3_key_id,
            "BANK_S3_SECRET": stack.s3_secret,
        }
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        subprocess.run([PY, "-m", "bank_assets.lakehouse", "init"], check=True, cwd=ROOT, capture_output=True)

        def start(month: str, run_id: str) -> subprocess.Popen[str]:
            return subprocess.Popen(
                [PY, "-c", LOAD_MONTH, str(landing), f"{month}-01", run_id],
                cwd=ROOT,
                env={**os.environ},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )

        # 1. two months of the same table at once, then the same month twice at once
        procs = [start("2024-01", "run-a"), start("2024-02", "run-b")]
        outs = [p.communicate(timeout=600) for p in procs]
        assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
        procs = [start("2024-02", "run-c"), start("2024-02", "run-d")]
        outs = [p.communicate(timeout=600) for p in procs]
        assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
        retried = sum(o[1].count("DuckLake transaction conflict (attempt") for o in outs)
        print(f"same month written twice at once: {retried} conflict(s) retried")

        with connect("") as con:
            counts = dict(
                con.execute(
                    "SELECT strftime(_partition_month, '%Y-%m'), count(*) FROM bronze.transactions GROUP BY 1"
                ).fetchall()
            )
            assert counts == rows, f"bronze.transactions by month {counts}, landing rows {rows}"
            files = [
                f
                for (f,) in con.execute(
                    "SELECT data_file FROM ducklake_list_files('lake', 'transactions', schema => 'bronze')"
                ).fetchall()
            ]
            assert files and all(f.startswith(f"s3://{stack.bucket}/t/") for f in files), files[:3]
            assert {re.search(r"year=\d+/month=\d+", f).group(0) for f in files} == {
                "year=2024/month=1",
                "year=2024/month=2",
            }, files

            # 2. run-e replaces January and fails: its rollback restores January only, while
            #    February (written by other runs meanwhile) stays as it is. A reader (read-only
            #    attach) inside one transaction keeps its snapshot while run-e commits.
            before = con.execute("SELECT count(*), sum(hash(t)) FROM bronze.transactions t").fetchone()
            with connect("", read_only=True) as reader:
                reader.execute("BEGIN TRANSACTION")
                seen = reader.execute("SELECT count(*) FROM bronze.transactions").fetchone()[0]
                con.execute("BEGIN TRANSACTION")
                scope = journal.month_scope("bronze.transactions", "_partition_month", dt.date(2024, 1, 1))
                journal.save(con, "run-e", [scope], "bronze__transactions")
                con.execute("DELETE FROM bronze.transactions WHERE _partition_month = DATE '2024-01-01'")
                con.execute("COMMIT")
                assert reader.execute("SELECT count(*) FROM bronze.transactions").fetchone()[0] == seen == before[0]
                reader.execute("COMMIT")
                now = reader.execute("SELECT count(*) FROM bronze.transactions").fetchone()[0]
                assert now == rows["2024-02"], f"a new read sees {now} rows, expected February's {rows['2024-02']}"
        extra = start("2024-02", "run-f")
        assert extra.wait(timeout=600) == 0, extra.stderr.read() if extra.stderr else ""
        with connect("") as con:
            assert journal.rollback(con, "run-e", "bronze__transactions", "test") == 1
            after = con.execute("SELECT count(*), sum(hash(t)) FROM bronze.transactions t").fetchone()
        assert after == before, f"after the rollback {after}, before the failed run {before}"

        # 3. a run's hold attaches the lake once: its connections are cursors of that one DuckDB,
        #    each with its own transaction (what one commits, the next transaction of another sees)
        from bank_assets.warehouse import connection

        opened: list[bool] = []
        real_open = connection.open_lake
        monkeypatch.setattr(connection, "open_lake", lambda *a, **k: opened.append(True) or real_open(*a, **k))
        with connection.hold(""), connect("") as a, connect("", read_only=True) as b:
            a.execute("CREATE OR REPLACE TABLE silver.held_probe (n INTEGER)")
            a.execute("BEGIN TRANSACTION")
            a.execute("INSERT INTO silver.held_probe VALUES (1)")
            assert b.execute("SELECT count(*) FROM silver.held_probe").fetchone()[0] == 0
            a.execute("COMMIT")
            assert b.execute("SELECT count(*) FROM silver.held_probe").fetchone()[0] == 1
            a.execute("DROP TABLE silver.held_probe")
        assert opened == [True], f"{len(opened)} lake connections opened inside one hold, expected 1"
        with connect(""):
            pass
        assert len(opened) == 2, "after the hold, a connection attaches the lake again"


# --- the graph on the lakehouse, through the daemon ---------------------------------------------


@pytest.mark.slow
def test_backfill_through_the_daemon_on_two_workers_equals_the_embedded_default():
    """scripts/lakehouse.sh at tiny scale over 2 months and 2 workers: the backfill of landing..silver
    runs both months at once on the two Celery workers, gold follows by automation, every run
    succeeds, each layer's Parquet sits in one folder per month, and every gold table has the
    same rows (count and the sum of row hashes) as the embedded default on the same files."""
    need_stack()
    result = ROOT / ".pytest_cache" / f"lakehouse-demo-{os.getpid()}.json"
    result.parent.mkdir(exist_ok=True)
    cmd = [PY, "-m", "devtools.lakehouse_demo", "--months", "2", "--scale", "tiny", "--workers", "2"]
    cmd += ["--result", str(result)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BANK_", "DAGSTER_"))}
    cp = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=2400)
    print(cp.stdout[-6000:])
    assert cp.returncode == 0, f"{cp.stdout[-4000:]}\n{cp.stderr[-4000:]}"
    summary = json.loads(result.read_text())
    result.unlink()
    (trial,) = summary["trials"]
    assert trial["max_parallel_runs"] == 2, "the two months did not run side by side"
    assert trial["gold_tables"] >= 20 and trial["gold_tables_equal"] == trial["gold_tables"], trial["differs"]
    assert trial["failed"] == [] and summary["problems"] == 0
    assert all(n == 2 for n in trial["month_folders"].values()), trial["month_folders"]
    assert summary["servers_stopped"]


@pytest.mark.slow
def test_the_lakehouse_instance_holds_its_postgresql_connections(tmp_path, monkeypatch):
    """deploy/lakehouse/dagster.yaml's storage (PooledPostgresStorage) stores what dagster-postgres
    stores, through a held connection per storage: three runs with a check open at most a few
    connections, where dagster-postgres' own storage opens one for every statement."""
    need_stack()
    import sqlalchemy
    import yaml
    from dagster import DagsterInstance, materialize

    from bank_assets.lakehouse.postgres_storage import TableCachingPostgresEventLogStorage
    from devtools.lakehouse_demo import create_databases
    from tests.pipeline import assert_runs_stored, asset_with_check

    deployed = yaml.safe_load((ROOT / "deploy" / "lakehouse" / "dagster.yaml").read_text())["storage"]
    plain = {"postgres": deployed["custom"]["config"]}

    numbers, positive = asset_with_check()
    connects: dict[str, int] = {}
    with local_stack(log=lambda m: None) as stack:
        create_databases(stack, ["dagster_pooled", "dagster_plain"])
        for k, v in {"HOST": stack.pg_host, "PORT": str(stack.pg_port), "USER": stack.pg_user, "PASSWORD": ""}.items():
            monkeypatch.setenv(f"BANK_DAGSTER_PG_{k}", v)
        for name, storage in (("pooled", deployed), ("plain", plain)):
            monkeypatch.setenv("BANK_DAGSTER_PG_DB", f"dagster_{name}")
            home = tmp_path / name
            home.mkdir()
            (home / "dagster.yaml").write_text(yaml.safe_dump({"storage": storage, "telemetry": {"enabled": False}}))
            with DagsterInstance.from_config(str(home)) as instance:
                pooled = isinstance(instance.event_log_storage, TableCachingPostgresEventLogStorage)
                assert pooled == (name == "pooled"), type(instance.event_log_storage)
                opened: list[int] = []

                def count(*_: object, opened: list[int] = opened) -> None:
                    opened.append(1)

                sqlalchemy.event.listen(sqlalchemy.pool.Pool, "connect", count)
                try:
                    results = [materialize([numbers, positive], instance=instance) for _ in range(3)]
                finally:
                    sqlalchemy.event.remove(sqlalchemy.pool.Pool, "connect", count)
                connects[name] = len(opened)
                assert_runs_stored(instance, results, name)
                history = instance.event_log_storage.get_asset_check_execution_history(positive.check_key, limit=10)
                assert [rec.status.value for rec in history] == ["SUCCEEDED"] * 3, name
    print(f"PostgreSQL connections opened by three runs: {connects}")
    assert connects["pooled"] <= 6 and connects["plain"] >= 10 * max(connects["pooled"], 1), connects
