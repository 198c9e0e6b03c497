"""Source profiles: a bank's own dialect declared in YAML, validated, read strictly, recorded.

The fast tests check validation and each declared format's typing rule in DuckDB; the slow one
loads the same two months written in the built-in dialect and in ``profiles/lima_core.yml`` and
expects the same silver and gold.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from bank_assets.contracts import CONTRACTS, Column
from bank_assets.source_profile import (
    DEFAULT_PROFILE,
    ProfileError,
    TableSource,
    default_source,
    load_profile,
    parse_profile,
)
from bank_assets.warehouse.silver import raw_expr, typed_from_raw

LIMA = load_profile("lima_core")


def _profile(tables: dict | None = None, **top) -> dict:
    return {"name": "test_bank", "tables": tables or {}, **top}


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (_profile({"transactions": {"delimeter": ";"}}), "unknown key 'delimeter' (did you mean 'delimiter'?)"),
        (_profile({"transaction": {}}), "unknown key 'transaction' (did you mean 'transactions'?)"),
        (_profile({"transactions": {"format": "xlsx"}}), "'xlsx' is not allowed; allowed: csv, parquet"),
        (_profile({"transactions": {"encoding": "latin-9x"}}), "is not a known encoding"),
        (_profile({"transactions": {"date_format": "%d/%b/%Y"}}), "directive %b is not supported"),
        (_profile({"transactions": {"timestamp_format": "%d/%m/%Y"}}), "must use each of %Y, %m, %d, %H, %M, %S"),
        (_profile({"transactions": {"decimal_separator": ";"}}), "allowed: '.', ','"),
        (_profile({"transactions": {"thousands_separator": "."}}), "must differ from the decimal separator"),
        (_profile({"transactions": {"timezone": "Lima"}}), "'Lima' is not an IANA time zone"),
        (_profile({"transactions": {"files": "tx.csv"}}), "must name the month with {month}"),
        (_profile({"transactions": {"files": "../tx_{month}.csv"}}), "relative to the landing root"),
        (_profile({"fx_rates": {"columns": {"FECHA": "rate_date", "MONEDA": "currency"}}}), "not mapped: rate_to_pen"),
        (
            _profile({"fx_rates": {"columns": {"A": "rate_date", "B": "currency", "C": "rate_to_pn"}}}),
            "unknown key 'rate_to_pn' (did you mean 'rate_to_pen'?)",
        ),
        (_profile(defaults={"header": "yes"}), "defaults.header: must be true or false"),
        (_profile(owner="me"), "unknown key 'owner'"),
        ({"tables": {}}, "name: must be lower-case letters"),
    ],
)
def test_a_bad_profile_is_refused_naming_the_key_and_the_allowed_values(data, says):
    with pytest.raises(ProfileError) as err:
        parse_profile(data, "profiles/test_bank.yml")
    assert "profiles/test_bank.yml" in str(err.value)
    assert says in str(err.value)


def test_a_profile_file_with_a_typo_is_refused_at_load(tmp_path):
    path = tmp_path / "typo.yml"
    path.write_text("name: typo\ndefaults:\n  encodng: latin-1\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"defaults: unknown key 'encodng' \(did you mean 'encoding'\?\)"):
        load_profile(str(path))
    with pytest.raises(ProfileError, match=r"no file .*nowhere\.yml"):
        load_profile("nowhere")


def test_the_default_profile_is_the_built_in_dialect_and_lima_core_differs_where_declared():
    assert all(DEFAULT_PROFILE.table(t) == default_source(t) for t in CONTRACTS)
    assert all(DEFAULT_PROFILE.table(t).is_default_csv for t in CONTRACTS)
    tx = LIMA.table("transactions")
    assert (tx.delimiter, tx.encoding, tx.decimal_separator, tx.thousands_separator) == (";", "latin-1", ",", ".")
    assert tx.renames["IMPORTE"] == "amount" and tx.files == ("core/{yyyymm}/MOVIMIENTOS_{yyyymm}_*.csv",)
    assert LIMA.table("merchants").format == "parquet"
    assert LIMA.table("products").files == default_source("products").files  # not listed: default layout
    assert LIMA.digest != DEFAULT_PROFILE.digest and len(LIMA.digest) == 12


def test_month_files_follow_the_patterns_in_name_order_and_find_earlier_months(tmp_path):
    tx = LIMA.table("transactions")
    for name in ("MOVIMIENTOS_202402_2.csv", "MOVIMIENTOS_202402_1.csv", "MOVIMIENTOS_202401_1.csv"):
        folder = tmp_path / "core" / name.split("_")[1]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("x\n")
    assert [p.name for p in tx.month_files(tmp_path, "2024-02")] == [
        "MOVIMIENTOS_202402_1.csv",
        "MOVIMIENTOS_202402_2.csv",
    ]
    assert tx.month_files(tmp_path, "2024-03") == []
    assert tx.months_with_files(tmp_path) == ["2024-01", "2024-02"]


def _typed(column: Column, source: TableSource, values: list[str]) -> list:
    expr = typed_from_raw(column, f"({raw_expr('v', source.null_tokens)})", source)
    with duckdb.connect() as con:
        rows = con.execute(f"SELECT {expr} FROM (SELECT unnest($v) AS v)", {"v": values}).fetchall()
    return [r[0] for r in rows]


def _col(name: str, type_: str) -> Column:
    return Column(name, type_, "test")  # type: ignore[arg-type]


def test_each_declared_format_is_parsed_exactly_and_anything_else_is_null():
    """NULL here is what silver quarantines as INVALID_DATE / INVALID_TIMESTAMP / INVALID_NUMBER
    (the raw value is not null): nothing is rounded, re-padded or guessed."""
    import datetime as dt
    from decimal import Decimal

    src = LIMA.table("accounts")
    dates = _typed(_col("d", "date"), src, ["31/01/2024", "1/2/2024", "2024-01-31", "30/02/2024", "31/01/24"])
    assert dates == [dt.date(2024, 1, 31), None, None, None, None]
    money = _typed(_col("m", "money"), src, ["1.234,56", "1234,56", "-12,5", "1,234.56", "12.34", "1.23,45", "1,234"])
    assert money == [Decimal("1234.56"), Decimal("1234.56"), Decimal("-12.50"), None, None, None, None]
    assert _typed(_col("i", "int"), src, ["1.234", "12", "1,0"]) == [1234, 12, None]
    ts = _typed(_col("t", "timestamp"), LIMA.table("transactions"), ["01/02/2024 07:05:09", "2024-02-01 07:05:09"])
    assert ts == [dt.datetime(2024, 2, 1, 7, 5, 9), None]
    assert _typed(_col("x", "money"), src, ["NULL", "N/A"]) == [None, None]  # a null token; and invalid text


def test_naive_timestamps_are_read_in_the_declared_time_zone():
    import datetime as dt

    utc = TableSource("transactions", timestamp_format="%Y-%m-%d %H:%M:%S", timezone="UTC")
    assert _typed(_col("t", "timestamp"), utc, ["2024-07-01 12:00:00"]) == [dt.datetime(2024, 7, 1, 7, 0)]
    madrid_iso = TableSource("transactions", timezone="Europe/Madrid")  # ISO with offsets, naive in Madrid
    got = _typed(_col("t", "timestamp"), madrid_iso, ["2024-07-01 12:00:00", "2024-07-01T12:00:00Z"])
    assert got == [dt.datetime(2024, 7, 1, 5, 0), dt.datetime(2024, 7, 1, 7, 0)]


def test_the_draft_command_reports_each_file_pattern_and_drafts_a_loadable_profile(tmp_path, capsys):
    import yaml

    from bank_assets.profile_draft import main

    _write_bank(tmp_path / "landing", LIMA)
    assert main([str(tmp_path / "landing"), "--name", "draft_bank", "--out", str(tmp_path / "draft.yml")]) == 0
    out = capsys.readouterr().out
    assert "core/{yyyymm}/MOVIMIENTOS_{yyyymm}_*.csv  (4 files; csv" in out  # two a month, two months
    assert "columns found (11): NRO_OPERACION, NRO_CUENTA" in out and "looks like: no table" in out
    assert "account_events/{month}/account_events.csv  (2 files; csv, ascii, delimiter ';')" in out
    assert "mapped by name (9): event_id" in out and "missing (0): none" in out
    data = yaml.safe_load((tmp_path / "draft.yml").read_text())
    assert data["defaults"]["date_format"] == "%d/%m/%Y" and data["defaults"]["decimal_separator"] == ","
    profile = parse_profile(data, "draft.yml")  # what it could map loads as it is
    assert profile.table("account_events").delimiter == ";" and "customers" not in data["tables"]
    assert "C0000000000" not in out  # names and formats only, never a value
    assert main([str(tmp_path / "landing"), "--out", str(tmp_path / "draft.yml")]) == 2  # never overwrites


# ------------------------------------------------------------------------------------------------
# the same bank in two dialects


def _write_bank(out: Path, profile) -> None:
    from bank_assets.synthetic import GeneratorConfig, Scale, generate
    from bank_assets.synthetic.months import parse_month

    cfg = GeneratorConfig(seed=7, scale=Scale.named("tiny"))
    generate(cfg, [parse_month("2024-01"), parse_month("2024-02")], out, profile=profile)


def _build(root: Path, profile_name: str, months: list[str], job: str = "gold") -> bool:
    """`months` landing -> gold (or -> silver) under the named profile, in files mode."""
    from dagster import define_asset_job

    from bank_assets.run import run_steps
    from benchmarks.harness import _landing_to_gold_jobs
    from tests.pipeline import SILVER, project_instance, resources

    selection = _landing_to_gold_jobs()[0] if job == "gold" else define_asset_job("to_silver", selection=SILVER)
    (root / "dagster_home").mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as mp, project_instance(temp_dir=str(root / "dagster_home")) as instance:
        mp.setenv("BANK_SOURCE_PROFILE", profile_name)
        return run_steps(months, instance, resources(root, mode="files"), job=selection)


@pytest.fixture(scope="module")
def lima_built(tmp_path_factory, two_months_built) -> Path:
    """The session's two built months (tiny, 300 customers, the demo's defects), written again in
    lima_core's dialect and built landing -> gold under it."""
    from bank_assets.resources import LandingZone
    from bank_assets.synthetic import generate
    from bank_assets.synthetic.months import parse_month

    root = tmp_path_factory.mktemp("lima")
    cfg = LandingZone(root=str(two_months_built / "landing"), scale="tiny", customers=300).generator_config()
    generate(cfg, [parse_month("2024-01"), parse_month("2024-02")], root / "landing", profile=LIMA)
    assert _build(root, "lima_core", ["2024-01", "2024-02"])
    return root


LINEAGE = ("_source_file", "_source_row", "_ingested_at", "record")


def _fingerprints(db: Path) -> dict[str, tuple]:
    """count and sum(hash(row)) of every silver and gold table, lineage columns left out."""
    out = {}
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('silver', 'gold') "
            "AND table_type = 'BASE TABLE' AND NOT starts_with(table_name, '_') ORDER BY 1, 2"
        ).fetchall()
        for schema, table in tables:
            cols = [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                    "ORDER BY ordinal_position",
                    [schema, table],
                ).fetchall()
                if c not in LINEAGE
            ]
            row = ", ".join(f'"{c}"' for c in cols)
            out[f"{schema}.{table}"] = con.execute(
                f'SELECT count(*), sum(hash({row})) FROM {schema}."{table}"'
            ).fetchone()
    return out


@pytest.mark.slow
def test_the_same_months_in_lima_core_give_the_same_silver_and_gold(lima_built, two_months_built, tmp_path):
    feb = lima_built / "landing" / "core" / "202402"
    assert (feb / "MOVIMIENTOS_202402_2.csv").exists() and (feb / "comercios_202402.parquet").exists()
    a = _fingerprints(two_months_built / "warehouse.duckdb")
    b = _fingerprints(lima_built / "warehouse.duckdb")
    assert len(a) > 50 and a["silver.transactions_rejects"][0] > 0  # defects were planted and quarantined
    assert {k: v for k, v in a.items() if a[k] != b.get(k)} == {}
    with duckdb.connect(str(lima_built / "warehouse.duckdb"), read_only=True) as con:
        loads = con.execute("SELECT DISTINCT profile FROM bronze._loads WHERE table_name = 'transactions'").fetchall()
        files = con.execute(
            "SELECT count(DISTINCT _source_file) FROM bronze.transactions WHERE _partition_month = '2024-02-01'"
        ).fetchone()[0]
    assert loads == [(LIMA.label,)] and files == 2

    # a bad value in a declared format is quarantined with its reason (on a copy: February again)
    root = tmp_path / "copy"
    shutil.copytree(lima_built, root, ignore=shutil.ignore_patterns("dagster_home"))
    path = root / "landing" / "core" / "202402" / "MOVIMIENTOS_202402_1.csv"
    text = path.read_text(encoding="latin-1").splitlines()
    fields = text[1].split(";")
    header = [name.strip('"') for name in text[0].split(";")]
    fields[header.index("IMPORTE")] = "1,234.56"  # a US-style amount: not 1.234,56
    text[1] = ";".join(fields)
    path.write_text("\n".join(text) + "\n", encoding="latin-1")
    assert _build(root, "lima_core", ["2024-02"], job="silver")
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        reason = con.execute(
            "SELECT reason_code, reason_column FROM silver.transactions_rejects "
            "WHERE _partition_month = '2024-02-01' AND _source_row = 1 AND ends_with(_source_file, '_1.csv')"
        ).fetchall()
    assert reason == [("INVALID_NUMBER", "amount")]


@pytest.mark.slow
def test_a_wrong_header_and_a_changed_profile_are_refused_with_their_reasons(lima_built, tmp_path):
    from bank_assets.run import run_steps
    from bank_assets.warehouse.bronze import LandingFileError, read_month
    from tests.pipeline import project_instance, resources

    root = tmp_path / "copy"
    shutil.copytree(lima_built, root, ignore=shutil.ignore_patterns("dagster_home"))
    # the same profile with one setting changed: the loaded month is refused, not re-read
    changed = tmp_path / "lima_changed.yml"
    shutil.copy(Path(__file__).parent.parent / "profiles" / "lima_core.yml", changed)
    changed.write_text(changed.read_text().replace('null_tokens: ["", "NULL"]', 'null_tokens: ["", "NULL", "-"]'))
    errors: list[str] = []

    def failed(_, result, __) -> None:
        errors.extend(
            str(e.event_specific_data.error.message)
            for e in result.all_events
            if e.event_type_value == "STEP_FAILURE" and "bronze" in (e.step_key or "")
        )

    (root / "dagster_home").mkdir()
    with pytest.MonkeyPatch.context() as mp, project_instance(temp_dir=str(root / "dagster_home")) as instance:
        mp.setenv("BANK_SOURCE_PROFILE", str(changed))
        ok = run_steps(["2024-02"], instance, resources(root, mode="files"), on_result=failed)
    assert not ok
    assert any("was loaded with source profile lima_core@" in e and "accept_new_profile" in e for e in errors)

    # a header that does not match the profile: refused naming the file, expected and found names
    path = root / "landing" / "core" / "202402" / "CUENTAS_202402.csv"
    lines = path.read_text(encoding="latin-1").splitlines()
    lines[0] = lines[0].replace("SALDO", "SALDO_FINAL")
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    with pytest.raises(LandingFileError) as err:
        read_month([path], CONTRACTS["accounts"], LIMA.table("accounts"))
    assert "CUENTAS_202402.csv" in str(err.value) and "SALDO_FINAL" in str(err.value) and "SALDO" in str(err.value)
