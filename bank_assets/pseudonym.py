"""Keyed pseudonyms for PII: HMAC-SHA256 under a secret key that never appears in SQL.

A plain ``sha256(national_id)`` of an 8-digit DNI is reversed by hashing all 10^8 candidates, and a
salt spliced into SQL text ends up in view definitions, dbt's manifest and partial-parse state. So
silver computes ``pii_pseudonym(x)``, a DuckDB scalar function implemented here in Python: the
lowercase hex HMAC-SHA256 of the UTF-8 value. The key lives only in this function's closure; SQL
text, view definitions and dbt artifacts only ever see the function's name.

Key source, first match wins:

1. ``BANK_PII_KEY``: hex, at least 32 bytes (64 hex digits);
2. the file at ``BANK_PII_KEY_FILE`` (default ``<repo>/.secrets/pii.key``): raw bytes, at least 32,
   readable by its owner only. A missing file is created (32 random bytes, mode 0600, in a 0700
   folder); only its path is logged.

The same key must be used for every month: a new key changes every pseudonym, so the SCD2
dimensions would see every customer's address change. Back the key up with the warehouse.

``python -m bank_assets.pseudonym --ensure-key`` creates or checks the key file
(``scripts/setup.sh`` runs it).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import secrets
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa

from bank_assets.settings import PROJECT_ROOT, resolve

log = logging.getLogger(__name__)

KEY_ENV = "BANK_PII_KEY"
KEY_FILE_ENV = "BANK_PII_KEY_FILE"
DEFAULT_KEY_FILE = PROJECT_ROOT / ".secrets" / "pii.key"
MIN_KEY_BYTES = 32
FUNCTION_NAME = "pii_pseudonym"

_BLOCK = 64  # SHA-256 block size (RFC 2104)


class PiiKeyError(RuntimeError):
    """The pseudonym key is missing, too short or readable by others. Messages never hold the key."""


def key_file_path() -> Path:
    """``BANK_PII_KEY_FILE`` (relative paths from the repo root), else ``<repo>/.secrets/pii.key``."""
    configured = os.environ.get(KEY_FILE_ENV)
    return Path(resolve(configured)) if configured else DEFAULT_KEY_FILE


def _key_from_env(value: str) -> bytes:
    try:
        key = bytes.fromhex(value.strip())
    except ValueError:
        raise PiiKeyError(f"{KEY_ENV} must be hex (at least {2 * MIN_KEY_BYTES} hex digits)") from None
    if len(key) < MIN_KEY_BYTES:
        raise PiiKeyError(f"{KEY_ENV} holds {len(key)} bytes; at least {MIN_KEY_BYTES} are required")
    return key


def _read_key_file(path: Path) -> bytes:
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise PiiKeyError(f"PII key file {path} is not a regular file")
    if st.st_mode & 0o077:
        raise PiiKeyError(
            f"PII key file {path} has mode {stat.S_IMODE(st.st_mode):04o}: group or others may access it. "
            f"Restrict it to its owner (chmod 600 {path}) and consider the key compromised if others read it."
        )
    key = path.read_bytes()
    if len(key) < MIN_KEY_BYTES:
        raise PiiKeyError(f"PII key file {path} holds {len(key)} bytes; at least {MIN_KEY_BYTES} are required")
    return key


def _create_key_file(path: Path) -> None:
    """32 random bytes, mode 0600, published complete or not at all (a concurrent creator wins cleanly)."""
    folder = path.parent
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)  # mkdir's mode is subject to the umask
    tmp = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            os.fchmod(f.fileno(), 0o600)  # exactly 0600, whatever the umask
            f.write(secrets.token_bytes(MIN_KEY_BYTES))
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # atomic and never overwrites: FileExistsError if someone else was first
        except FileExistsError:
            return
        log.warning("created the PII pseudonym key file %s (back it up: pseudonyms depend on it)", path)
    finally:
        tmp.unlink(missing_ok=True)


def ensure_key_file(path: Path | None = None) -> Path:
    """Create the key file if missing, check its permissions and length; returns its path."""
    path = path or key_file_path()
    if not path.exists():
        _create_key_file(path)
    _read_key_file(path)
    return path


def load_key() -> bytes:
    """The pseudonym key: ``BANK_PII_KEY`` (hex), else the key file (created if missing)."""
    value = os.environ.get(KEY_ENV)
    if value:
        return _key_from_env(value)
    return _read_key_file(ensure_key_file())


def _hmac_hex(key: bytes) -> Callable[[bytes], str]:
    """bytes -> lowercase hex HMAC-SHA256, closed over the key.

    RFC 2104 spelled out: the SHA-256 states after the padded key are computed once and copied
    per value, which is 1.5-3x faster than ``hmac.new``/``hmac.digest`` per value (the tests
    compare it with ``hmac``).
    """
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    new_inner = hashlib.sha256(bytes(b ^ 0x36 for b in key)).copy
    new_outer = hashlib.sha256(bytes(b ^ 0x5C for b in key)).copy

    def digest(value: bytes) -> str:
        i = new_inner()
        i.update(value)
        o = new_outer()
        o.update(i.digest())
        return o.hexdigest()

    return digest


def pseudonymize(value: str | None, key: bytes | None = None) -> str | None:
    """Lowercase hex HMAC-SHA256 of the UTF-8 value (what ``pii_pseudonym`` returns); None stays None."""
    if value is None:
        return None
    return _hmac_hex(key if key is not None else load_key())(value.encode("utf-8"))


#: Every UDF callable we handed to DuckDB, by key id, kept alive for the life of the process.
#: DuckDB registers a Python UDF in the catalog of the database *instance*, which all connections
#: to the same file in this process share, but holds only a borrowed pointer to the callable, owned
#: by the registering connection: once that connection is closed (or re-registers inside a
#: transaction that is rolled back), calling the function from another connection segfaults
#: (duckdb-python#530, seen with duckdb 1.5.6). A strong reference here makes that harmless.
_UDFS: dict[str, tuple[Callable[[pa.Array | pa.ChunkedArray], pa.Array], Callable[[bytes], str]]] = {}
_PROBE = b"bank-lakehouse pii_pseudonym probe"


def _udf(key: bytes) -> tuple[Callable[[pa.Array | pa.ChunkedArray], pa.Array], Callable[[bytes], str]]:
    """The arrow UDF for a key (one per key and process) and its scalar digest function."""
    key_id = hashlib.sha256(b"bank-lakehouse pii key id\0" + key).hexdigest()  # not the key, not reversible
    if key_id not in _UDFS:
        digest = _hmac_hex(key)

        def pii_pseudonym(values: pa.Array | pa.ChunkedArray) -> pa.Array:
            raw = values.cast(pa.binary()).to_pylist()  # the UTF-8 bytes as stored, no decode/encode
            return pa.array([None if v is None else digest(v) for v in raw], type=pa.string())

        _UDFS[key_id] = (pii_pseudonym, digest)
    return _UDFS[key_id]


def _create(con: duckdb.DuckDBPyConnection, function: Callable[[pa.Array | pa.ChunkedArray], pa.Array]) -> None:
    con.create_function(
        FUNCTION_NAME,
        function,
        [duckdb.sqltype("VARCHAR")],
        duckdb.sqltype("VARCHAR"),
        type="arrow",
        null_handling="special",  # the function maps NULL to NULL itself
        side_effects=False,
    )


def register_pseudonym(con: duckdb.DuckDBPyConnection, key: bytes | None = None) -> None:
    """Make ``pii_pseudonym(VARCHAR) -> VARCHAR`` callable on ``con``; calling it again is a no-op.

    Vectorized: DuckDB hands the function a pyarrow array per chunk; NULL in, NULL out. ``key`` is
    for tests; by default it comes from ``load_key()``. DuckDB keeps the function in the catalog of
    the database instance, shared by every connection to the same file in this process, so it may
    already be there: it is kept when it computes the same pseudonyms and refused (PiiKeyError)
    when it was registered with another key.

    Use the function only to compute values that are stored (silver's staging tables), never in a
    view or a dbt model: it exists only in the Python process that registered it.
    """
    function, digest = _udf(key if key is not None else load_key())
    exists = con.execute(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name = $f", {"f": FUNCTION_NAME}
    ).fetchone()[0]
    if exists:
        probe = con.execute(f"SELECT {FUNCTION_NAME}($p)", {"p": _PROBE.decode()}).fetchone()[0]
        if probe != digest(_PROBE):
            raise PiiKeyError(f"{FUNCTION_NAME} is already registered on this database with a different key")
        return
    try:
        _create(con, function)
    except duckdb.NotImplementedException:
        # This connection registered it inside a transaction that was rolled back: the catalog
        # entry is gone but the connection's own list still has it and refuses a second one. A
        # cursor is another connection to the same database; what it registers, `con` sees.
        cursor = con.cursor()
        try:
            _create(cursor, function)
        finally:
            cursor.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bank_assets.pseudonym", description=__doc__.split("\n\n")[0])
    parser.add_argument("--ensure-key", action="store_true", help="create the key file if missing and check it")
    args = parser.parse_args(argv)
    if not args.ensure_key:
        parser.print_help()
        return 2
    try:
        if os.environ.get(KEY_ENV):
            _key_from_env(os.environ[KEY_ENV])
            print(f"PII pseudonym key: from {KEY_ENV} (the key file is not used)")
            return 0
        existed = key_file_path().exists()
        path = ensure_key_file()
    except PiiKeyError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"PII pseudonym key: {path} ({'checked' if existed else 'created'}, mode 0600)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
