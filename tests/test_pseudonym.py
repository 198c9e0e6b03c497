"""pii_pseudonym: a keyed HMAC-SHA256 in Python whose key stays out of SQL, catalogs and files."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from bank_assets import pseudonym
from bank_assets.pseudonym import PiiKeyError, load_key, pseudonymize, register_pseudonym

VALUES = ["12345678", "", "a", "Av. Arequipa 1234|Lince", "ñandú José Ñuñez", "x" * 200]


@pytest.fixture(autouse=True)
def key_file(tmp_path, monkeypatch) -> Path:
    """Every test gets its own key file location and no BANK_PII_KEY: the repo's .secrets is never touched."""
    monkeypatch.delenv(pseudonym.KEY_ENV, raising=False)
    path = tmp_path / "secrets" / "pii.key"
    monkeypatch.setenv(pseudonym.KEY_FILE_ENV, str(path))
    return path


def udf(con: duckdb.DuckDBPyConnection, values: list[str | None]) -> list[str | None]:
    """pii_pseudonym over a temp table v(i, x) holding the values, in order."""
    con.register("values_in", pa.table({"i": range(len(values)), "x": pa.array(values, pa.string())}))
    con.execute("CREATE OR REPLACE TEMP TABLE v AS SELECT * FROM values_in")
    con.unregister("values_in")
    return [h for (h,) in con.execute("SELECT pii_pseudonym(x) FROM v ORDER BY i").fetchall()]


def secret_forms(key: bytes) -> list[bytes]:
    return [key, key.hex().encode(), key.hex().upper().encode()]


@pytest.mark.parametrize("key_len", [32, 100])  # 100 > SHA-256's block: HMAC hashes the key first
def test_matches_the_hmac_module(key_len):
    key = secrets.token_bytes(key_len)
    expected = [hmac.new(key, v.encode("utf-8"), hashlib.sha256).hexdigest() for v in VALUES]
    con = duckdb.connect()
    register_pseudonym(con, key)
    assert udf(con, VALUES) == expected
    assert [pseudonymize(v, key) for v in VALUES] == expected
    assert all(len(h) == 64 and h == h.lower() for h in expected)


def test_null_stays_null():
    key = secrets.token_bytes(32)
    con = duckdb.connect()
    register_pseudonym(con, key)
    values = [None, "12345678", None, None, "87654321", None]
    got = udf(con, values)
    assert got == [None if v is None else pseudonymize(v, key) for v in values]
    assert con.execute("SELECT pii_pseudonym(NULL)").fetchone() == (None,)
    assert pseudonymize(None, key) is None


def test_many_chunks():
    """More rows than one DuckDB vector (2048), with NULLs, in one query."""
    key = secrets.token_bytes(32)
    con = duckdb.connect()
    register_pseudonym(con, key)
    rows = con.execute(
        "SELECT i, pii_pseudonym(CASE WHEN i % 7 = 0 THEN NULL ELSE CAST(i AS VARCHAR) END) FROM range(10000) t(i)"
    ).fetchall()
    assert len(rows) == 10000
    for i, h in rows[::97]:
        assert h == (None if i % 7 == 0 else pseudonymize(str(i), key))


def test_registering_twice_is_fine_and_keys_matter():
    k1, k2 = secrets.token_bytes(32), secrets.token_bytes(32)
    con = duckdb.connect()
    register_pseudonym(con, k1)
    register_pseudonym(con, k1)
    assert udf(con, ["12345678"]) == [pseudonymize("12345678", k1)]
    with pytest.raises(PiiKeyError, match="different key"):  # one key per database
        register_pseudonym(con, k2)
    other = duckdb.connect()  # another in-memory database
    register_pseudonym(other, k2)
    assert udf(other, ["12345678"]) == [pseudonymize("12345678", k2)] != udf(con, ["12345678"])
    ids = [f"{i:08d}" for i in range(10_000_000, 10_001_000)]
    assert not {pseudonymize(v, k1) for v in ids} & {pseudonymize(v, k2) for v in ids}


LIFECYCLE = """
import duckdb, secrets, sys
from bank_assets.pseudonym import PiiKeyError, pseudonymize, register_pseudonym
key = secrets.token_bytes(32)
def ok(con):
    assert con.sql("SELECT pii_pseudonym('a')").fetchone()[0] == pseudonymize("a", key)
path = sys.argv[1]
a, b = duckdb.connect(path), duckdb.connect(path)  # one database instance, two connections
register_pseudonym(a, key)
register_pseudonym(b, key)  # already in the shared catalog: kept
try:
    register_pseudonym(b, secrets.token_bytes(32))
    raise SystemExit("a second key was accepted")
except PiiKeyError:
    pass
a.close()
ok(b)  # DuckDB only borrows the callable of a closed connection: this segfaulted before the keep-alive
mem = duckdb.connect()
mem.execute("BEGIN TRANSACTION")
register_pseudonym(mem, key)
ok(mem)
mem.execute("ROLLBACK")  # the registration is rolled back with the transaction...
register_pseudonym(mem, key)  # ...and can be done again
ok(mem)
print("lifecycle ok")
"""


def test_registration_survives_connection_lifecycles(tmp_path):
    """Shared catalogs, closed connections and rolled-back registrations (in a subprocess: the
    failure mode is a segfault)."""
    out = subprocess.run(
        [sys.executable, "-c", LIFECYCLE, str(tmp_path / "w.duckdb")],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=120,
    )
    assert out.returncode == 0 and "lifecycle ok" in out.stdout, (out.returncode, out.stderr[-2000:])


def test_key_file_is_created_private_and_reused(key_file, caplog):
    with caplog.at_level(logging.INFO, logger="bank_assets.pseudonym"):
        key = load_key()
    assert key_file.read_bytes() == key and len(key) == 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert list(key_file.parent.iterdir()) == [key_file]  # no temporary file left behind
    assert str(key_file) in caplog.text
    assert key.hex() not in caplog.text
    assert load_key() == key  # the same key on every later call
    assert pseudonymize("12345678") == pseudonymize("12345678", key)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_key_file_readable_by_others_is_refused(key_file, mode):
    key = load_key()
    key_file.chmod(mode)
    with pytest.raises(PiiKeyError, match="group or others") as err:
        load_key()
    with pytest.raises(PiiKeyError):
        register_pseudonym(duckdb.connect())
    assert key.hex() not in str(err.value)


def test_short_key_file_is_refused(key_file):
    key_file.parent.mkdir(mode=0o700)
    key_file.write_bytes(b"x" * 16)
    key_file.chmod(0o600)
    with pytest.raises(PiiKeyError, match="16 bytes"):
        load_key()


def test_key_from_the_environment(key_file, monkeypatch):
    key = secrets.token_bytes(48)
    monkeypatch.setenv(pseudonym.KEY_ENV, key.hex())
    assert load_key() == key
    assert not key_file.exists()  # the environment wins; no file is created
    monkeypatch.setenv(pseudonym.KEY_ENV, secrets.token_bytes(16).hex())
    with pytest.raises(PiiKeyError, match="at least 32"):
        load_key()
    bad = "zz" + key.hex()
    monkeypatch.setenv(pseudonym.KEY_ENV, bad)
    with pytest.raises(PiiKeyError, match="hex") as err:
        load_key()
    assert bad not in str(err.value)


def test_cli_ensure_key_prints_the_path_only(key_file, capsys):
    assert pseudonym.main(["--ensure-key"]) == 0
    out = capsys.readouterr().out
    key = key_file.read_bytes()
    assert str(key_file) in out and "created" in out and key.hex() not in out
    assert pseudonym.main(["--ensure-key"]) == 0
    assert "checked" in capsys.readouterr().out
    key_file.chmod(0o644)
    assert pseudonym.main(["--ensure-key"]) == 1
    assert key_file.read_bytes() == key  # never replaced


def test_key_is_nowhere_in_the_catalog_or_the_database_file(tmp_path):
    key = secrets.token_bytes(32)
    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    register_pseudonym(con, key)
    con.execute("CREATE SCHEMA silver")
    con.execute(
        "CREATE TABLE silver.customers AS SELECT CAST(10000000 + i AS VARCHAR) AS national_id FROM range(100) t(i)"
    )
    con.execute("CREATE TABLE silver.hashed AS SELECT pii_pseudonym(national_id) AS h FROM silver.customers")
    con.execute("CREATE VIEW silver.v AS SELECT pii_pseudonym(national_id) AS h FROM silver.customers")
    assert con.execute("SELECT count(DISTINCT h) FROM silver.v").fetchone() == (100,)
    text = "\n".join(
        repr(con.execute(f"SELECT * FROM {f}()").fetchall())
        for f in ("duckdb_views", "duckdb_functions", "duckdb_tables", "duckdb_settings", "duckdb_columns")
    )
    assert "pii_pseudonym" in text  # the catalog names the function...
    for secret in secret_forms(key):  # ...and holds nothing of the key
        assert secret.decode("latin-1") not in text
    con.execute("CHECKPOINT")
    con.close()
    data = db.read_bytes()
    assert not [s for s in secret_forms(key) if s in data]


def test_enumerating_ids_without_the_key_recovers_nothing():
    """The old scheme, sha256(national_id), falls to enumerating the ids; the keyed pseudonym does not."""
    key = secrets.token_bytes(32)
    ids = [str(i) for i in range(10_000_000, 10_010_000)]  # 10^4 eight-digit DNIs
    con = duckdb.connect()
    register_pseudonym(con, key)
    pseudonyms = set(udf(con, ids))
    old_hashes = {h for (h,) in con.execute("SELECT sha256(x) FROM v").fetchall()}
    rainbow = {hashlib.sha256(i.encode()).hexdigest(): i for i in ids}
    assert len(pseudonyms) == len(ids)
    assert set(rainbow) == old_hashes  # the old scheme: every id recovered
    assert not pseudonyms & set(rainbow)  # keyed: none
    wrong_key = secrets.token_bytes(32)  # a guessed key does no better
    assert not pseudonyms & {pseudonymize(i, wrong_key) for i in ids}
