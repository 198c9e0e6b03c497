"""Source profiles: how one bank's export files express the contracts (one YAML file per bank).

The contract (``bank_assets.contracts``) says what silver holds; a profile says where a table's
files are and how they are written: file patterns with the month as a placeholder (one or several
files a month), CSV or Parquet, encoding, delimiter, quote, header row or none, the file's column
names mapped to the contract's, date and timestamp formats, decimal and thousands separators, null
tokens and the time zone of naive timestamps. Bronze reads the files with it (raw text, the
contract's column names); silver applies its formats strictly. Nothing is inferred at load time.

``BANK_SOURCE_PROFILE`` selects one: ``default`` (built in: the synthetic bank's dialect), a name
(``profiles/<name>.yml``) or a path. A profile is validated when loaded, with an error naming the
file, the key and the allowed values; its digest (sha256 of the resolved settings) is recorded
with every month bronze loads. See docs/source_profiles.md.
"""

from __future__ import annotations

import difflib
import glob
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import yaml

from bank_assets.contracts import BANK_TIMEZONE, CONTRACTS, NULL_TOKENS
from bank_assets.settings import PROJECT_ROOT, env

PROFILES_DIR = PROJECT_ROOT / "profiles"
DEFAULT_NAME = "default"
#: month placeholders a file pattern may use (one at least)
PLACEHOLDERS = {"month": "{y:04d}-{m:02d}", "yyyymm": "{y:04d}{m:02d}", "yyyy": "{y:04d}", "mm": "{m:02d}"}
#: strptime directives a date or timestamp format may use, and the text each one matches exactly
DIRECTIVES = {
    "%Y": "[0-9]{4}",
    "%m": "[0-9]{2}",
    "%d": "[0-9]{2}",
    "%H": "[0-9]{2}",
    "%M": "[0-9]{2}",
    "%S": "[0-9]{2}",
}
FORMATS = ("csv", "parquet")
DECIMAL_SEPARATORS = (".", ",")
THOUSANDS_SEPARATORS = (".", ",", " ", "'")
TABLE_KEYS = (
    "files",
    "format",
    "encoding",
    "delimiter",
    "quote",
    "header",
    "columns",
    "date_format",
    "timestamp_format",
    "decimal_separator",
    "thousands_separator",
    "null_tokens",
    "timezone",
)
TOP_KEYS = ("name", "description", "defaults", "tables")


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the file, the key and what is allowed."""


@dataclass(frozen=True)
class TableSource:
    """How one table's files are found and read. ``timestamp_format`` None is the default ISO
    dialect (``YYYY-MM-DD[ T]HH:MM:SS`` with an optional offset)."""

    table: str
    files: tuple[str, ...] = ()
    format: str = "csv"
    encoding: str = "utf-8"
    delimiter: str = ","
    quote: str = '"'
    header: bool = True
    #: (name in the file, contract column), in the file's column order when there is no header
    columns: tuple[tuple[str, str], ...] = ()
    date_format: str = "%Y-%m-%d"
    timestamp_format: str | None = None
    decimal_separator: str = "."
    thousands_separator: str | None = None
    null_tokens: tuple[str, ...] = NULL_TOKENS
    timezone: str = BANK_TIMEZONE

    @property
    def digest(self) -> str:
        """sha256 (12 hex digits) of this table's settings: what bronze records for each month."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]

    @property
    def source_names(self) -> list[str]:
        return [s for s, _ in self.columns]

    @property
    def renames(self) -> dict[str, str]:
        return dict(self.columns)

    @property
    def is_default_csv(self) -> bool:
        """The built-in dialect, files and names included (the generator writes it directly)."""
        return self == default_source(self.table)

    @property
    def is_default_text(self) -> bool:
        """Values written as the built-in dialect writes them (silver's built-in typing)."""
        base = default_source(self.table)
        return (self.date_format, self.timestamp_format, self.decimal_separator, self.thousands_separator) == (
            base.date_format,
            base.timestamp_format,
            base.decimal_separator,
            base.thousands_separator,
        ) and (self.null_tokens, self.timezone) == (base.null_tokens, base.timezone)

    def month_files(self, root: Path, month: str) -> list[Path]:
        """The month's own files, sorted by path (the order their rows are read in)."""
        y, m = int(month[:4]), int(month[5:7])
        found: set[Path] = set()
        for pattern in self.files:
            text = pattern.format(**{k: v.format(y=y, m=m) for k, v in PLACEHOLDERS.items()})
            found.update(Path(p) for p in glob.glob(str(Path(root) / text)))
        return sorted(p for p in found if p.is_file() or p.is_symlink())

    def months_with_files(self, root: Path) -> list[str]:
        """Every month some file of the table's patterns exists for (for carry-forward)."""
        months: set[str] = set()
        for pattern in self.files:
            rx, wild = _pattern_regex(pattern), _pattern_glob(pattern)
            for p in glob.glob(str(Path(root) / wild)):
                rel = Path(p).relative_to(root).as_posix()
                if (hit := rx.fullmatch(rel)) is not None:
                    months.add(_month_of(hit))
        return sorted(months)


def _pattern_glob(pattern: str) -> str:
    return re.sub(r"\{(month|yyyymm|yyyy|mm)\}", "*", pattern)


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    groups = {"month": r"(?P<month>\d{4}-\d{2})", "yyyymm": r"(?P<yyyymm>\d{6})", "yyyy": r"(?P<yyyy>\d{4})"}
    groups["mm"] = r"(?P<mm>\d{2})"
    out, seen = "", set()
    for part in re.split(r"(\{(?:month|yyyymm|yyyy|mm)\})", pattern):
        name = part[1:-1] if part.startswith("{") and part[1:-1] in PLACEHOLDERS else None
        if name is None:
            out += re.escape(part).replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        else:
            out += f"(?P={name})" if name in seen else groups[name]
            seen.add(name)
    return re.compile(out)


def _month_of(hit: re.Match[str]) -> str:
    g = hit.groupdict()
    if g.get("month"):
        return g["month"]
    if g.get("yyyymm"):
        return f"{g['yyyymm'][:4]}-{g['yyyymm'][4:]}"
    return f"{g['yyyy']}-{g['mm']}"


def default_source(table: str) -> TableSource:
    """The built-in dialect: ``<table>/<YYYY-MM>/<table>.csv``, UTF-8, ',' and '"', a header with
    the contract's names, ISO dates and timestamps, '.' decimals, the contract's null tokens."""
    names = CONTRACTS[table].column_names
    return TableSource(table=table, files=(f"{table}/{{month}}/{table}.csv",), columns=tuple((n, n) for n in names))


@dataclass(frozen=True)
class SourceProfile:
    name: str
    description: str
    tables: dict[str, TableSource] = field(default_factory=dict)
    origin: str = "built in"

    def table(self, name: str) -> TableSource:
        return self.tables[name]

    @property
    def digest(self) -> str:
        """sha256 (12 hex digits) of every table's resolved settings: what bronze records."""
        body = json.dumps({t: asdict(s) for t, s in sorted(self.tables.items())}, sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:12]

    @property
    def label(self) -> str:
        return f"{self.name}@{self.digest}"


DEFAULT_PROFILE = SourceProfile(
    DEFAULT_NAME, "The synthetic bank's dialect (built in).", {t: default_source(t) for t in CONTRACTS}
)


def _fail(origin: str, where: str, message: str) -> ProfileError:
    return ProfileError(f"source profile {origin}: {where}: {message}")


def _unknown(origin: str, where: str, key: str, allowed: tuple[str, ...] | list[str]) -> ProfileError:
    near = difflib.get_close_matches(str(key), list(allowed), n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    return _fail(origin, where, f"unknown key {key!r}{hint}; allowed: {', '.join(allowed)}")


def _check_format(origin: str, where: str, fmt: Any, timestamp: bool) -> str:
    if not isinstance(fmt, str) or not fmt:
        raise _fail(origin, where, "must be a strptime format such as '%d/%m/%Y'")
    used = re.findall(r"%.", fmt)
    bad = [d for d in used if d not in DIRECTIVES]
    if bad:
        raise _fail(origin, where, f"directive {bad[0]} is not supported; allowed: {', '.join(DIRECTIVES)}")
    need = ["%Y", "%m", "%d"] + (["%H", "%M", "%S"] if timestamp else [])
    missing = [d for d in need if d not in used]
    if missing or len(used) != len(set(used)):
        raise _fail(origin, where, f"must use each of {', '.join(need)} exactly once ({fmt!r})")
    return fmt


def format_regex(fmt: str) -> str:
    """The RE2 pattern a value of strptime format `fmt` must match whole (zero-padded fields)."""
    parts = re.split(r"(%.)", fmt)
    return "".join(DIRECTIVES[p] if p in DIRECTIVES else re.escape(p) for p in parts if p)


def _one_char(origin: str, where: str, value: Any, allowed: tuple[str, ...] | None = None) -> str:
    if not isinstance(value, str) or len(value) != 1 or value in "\r\n":
        raise _fail(origin, where, f"must be one character, not {value!r}")
    if allowed is not None and value not in allowed:
        raise _fail(origin, where, f"{value!r} is not allowed; allowed: {', '.join(map(repr, allowed))}")
    return value


def _table_source(origin: str, table: str, spec: dict[str, Any], where: str = "") -> TableSource:
    where = where or f"tables.{table}"
    base = default_source(table)
    for k in spec:
        if k not in TABLE_KEYS:
            raise _unknown(origin, where, k, TABLE_KEYS)
    kw: dict[str, Any] = {}
    files = spec.get("files", list(base.files))
    files = [files] if isinstance(files, str) else files
    if not isinstance(files, list) or not files or not all(isinstance(f, str) and f for f in files):
        raise _fail(origin, f"{where}.files", "must be a file pattern or a list of them")
    for f in files:
        if f.startswith("/") or ".." in Path(f).parts:
            raise _fail(origin, f"{where}.files", f"{f!r} must be relative to the landing root, without '..'")
        names = set(re.findall(r"\{([^}]*)\}", f))
        if names - set(PLACEHOLDERS) or not names & {"month", "yyyymm", "yyyy"}:
            raise _fail(
                origin,
                f"{where}.files",
                f"{f!r} must name the month with {{month}} (YYYY-MM), {{yyyymm}} or {{yyyy}} and {{mm}}; "
                f"allowed placeholders: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}",
            )
        if "{yyyy}" in f and "{mm}" not in f:
            raise _fail(origin, f"{where}.files", f"{f!r}: {{yyyy}} needs {{mm}} too")
    kw["files"] = tuple(files)
    fmt = spec.get("format", base.format)
    if fmt not in FORMATS:
        raise _fail(origin, f"{where}.format", f"{fmt!r} is not allowed; allowed: {', '.join(FORMATS)}")
    kw["format"] = fmt
    encoding = spec.get("encoding", base.encoding)
    try:
        "".encode(str(encoding))
    except LookupError:
        raise _fail(
            origin, f"{where}.encoding", f"{encoding!r} is not a known encoding (e.g. utf-8, latin-1)"
        ) from None
    kw["encoding"] = str(encoding).lower()
    kw["delimiter"] = _one_char(origin, f"{where}.delimiter", spec.get("delimiter", base.delimiter))
    kw["quote"] = _one_char(origin, f"{where}.quote", spec.get("quote", base.quote))
    if kw["quote"] == kw["delimiter"]:
        raise _fail(origin, f"{where}.quote", "must differ from the delimiter")
    header = spec.get("header", base.header)
    if not isinstance(header, bool):
        raise _fail(origin, f"{where}.header", f"must be true or false, not {header!r}")
    kw["header"] = header
    kw["columns"] = _columns(origin, where, table, spec.get("columns"), header)
    kw["date_format"] = _check_format(origin, f"{where}.date_format", spec.get("date_format", base.date_format), False)
    ts = spec.get("timestamp_format", base.timestamp_format)
    kw["timestamp_format"] = None if ts is None else _check_format(origin, f"{where}.timestamp_format", ts, True)
    dec = _one_char(origin, f"{where}.decimal_separator", spec.get("decimal_separator", "."), DECIMAL_SEPARATORS)
    thousands = spec.get("thousands_separator")
    if thousands is not None:
        thousands = _one_char(origin, f"{where}.thousands_separator", thousands, THOUSANDS_SEPARATORS)
        if thousands == dec:
            raise _fail(origin, f"{where}.thousands_separator", "must differ from the decimal separator")
    kw["decimal_separator"], kw["thousands_separator"] = dec, thousands
    tokens = spec.get("null_tokens", list(base.null_tokens))
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise _fail(origin, f"{where}.null_tokens", "must be a list of texts, e.g. ['', 'NULL']")
    kw["null_tokens"] = tuple(tokens) if "" in tokens else ("", *tokens)  # an empty value is always null
    tz = spec.get("timezone", base.timezone)
    if not isinstance(tz, str) or tz not in available_timezones():
        raise _fail(origin, f"{where}.timezone", f"{tz!r} is not an IANA time zone (e.g. America/Lima, UTC)")
    ZoneInfo(tz)
    kw["timezone"] = tz
    return TableSource(table=table, **kw)


def _columns(origin: str, where: str, table: str, spec: Any, header: bool) -> tuple[tuple[str, str], ...]:
    """Map of the file's names to the contract's: every contract column exactly once."""
    names = CONTRACTS[table].column_names
    if spec is None:
        return tuple((n, n) for n in names)
    if not isinstance(spec, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in spec.items()):
        raise _fail(origin, f"{where}.columns", "must map each name in the file to a contract column")
    for source, target in spec.items():
        if target not in names:
            raise _unknown(origin, f"{where}.columns.{source}", target, names)
    targets = list(spec.values())
    missing = [n for n in names if n not in targets]
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if missing or twice:
        detail = (f"not mapped: {', '.join(missing)}" if missing else "") + (
            f"{'; ' if missing else ''}mapped more than once: {', '.join(twice)}" if twice else ""
        )
        raise _fail(origin, f"{where}.columns", detail)
    return tuple(spec.items())


def parse_profile(data: Any, origin: str) -> SourceProfile:
    """Validate a profile's parsed YAML; every table it does not list keeps the built-in dialect
    with the profile's ``defaults`` applied."""
    if not isinstance(data, dict):
        raise _fail(origin, "top level", "must be a mapping with keys " + ", ".join(TOP_KEYS))
    for k in data:
        if k not in TOP_KEYS:
            raise _unknown(origin, "top level", k, TOP_KEYS)
    name = data.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]+", name):
        raise _fail(origin, "name", f"must be lower-case letters, digits and '_', not {name!r}")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise _fail(origin, "defaults", "must be a mapping of table keys")
    for k in defaults:
        if k not in TABLE_KEYS or k in ("files", "columns"):
            raise _unknown(origin, "defaults", k, [t for t in TABLE_KEYS if t not in ("files", "columns")])
    _table_source(origin, next(iter(CONTRACTS)), dict(defaults), where="defaults")  # its own errors first
    tables = data.get("tables") or {}
    if not isinstance(tables, dict):
        raise _fail(origin, "tables", "must map table names to their settings")
    for t in tables:
        if t not in CONTRACTS:
            raise _unknown(origin, "tables", t, list(CONTRACTS))
    resolved = {}
    for t in CONTRACTS:
        spec = tables.get(t) or {}
        if not isinstance(spec, dict):
            raise _fail(origin, f"tables.{t}", "must be a mapping")
        resolved[t] = _table_source(origin, t, {**defaults, **spec})
    return SourceProfile(name, str(data.get("description", "")), resolved, origin)


def profile_path(selector: str) -> Path:
    p = Path(selector).expanduser()
    if p.suffix in (".yml", ".yaml") or "/" in selector:
        return p if p.is_absolute() else (PROJECT_ROOT / p)
    return PROFILES_DIR / f"{selector}.yml"


def load_profile(selector: str) -> SourceProfile:
    """``default``, a profile name (profiles/<name>.yml) or a path to a YAML file."""
    if selector in ("", DEFAULT_NAME):
        return DEFAULT_PROFILE
    path = profile_path(selector)
    if not path.is_file():
        known = sorted(p.stem for p in PROFILES_DIR.glob("*.yml"))
        raise ProfileError(
            f"source profile {selector!r}: no file {path}; BANK_SOURCE_PROFILE takes 'default', "
            f"a name in profiles/ ({', '.join(known) or 'none'}) or a path to a .yml file"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ProfileError(f"source profile {path}: not valid YAML: {e}") from None
    return parse_profile(data, str(path))


_CACHE: dict[tuple[str, float], SourceProfile] = {}


def active_profile() -> SourceProfile:
    """The profile in force (BANK_SOURCE_PROFILE, default ``default``), re-read when its file changes."""
    selector = env("BANK_SOURCE_PROFILE")
    path = None if selector == DEFAULT_NAME else profile_path(selector)
    stamp = path.stat().st_mtime if path is not None and path.is_file() else 0.0
    key = (selector, stamp)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = load_profile(selector)
    return _CACHE[key]
