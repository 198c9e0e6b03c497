"""Command line: python -m bank_assets.synthetic --start 2024-01 --end 2025-12 --scale small."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from bank_assets.contracts import CONTRACTS
from bank_assets.source_profile import load_profile
from bank_assets.synthetic.generate import Written, generate
from bank_assets.synthetic.months import month_range, parse_month
from bank_assets.synthetic.params import SCALES, DefectRates, GeneratorConfig, Scale


def config_from_args(args: argparse.Namespace) -> GeneratorConfig:
    scale = Scale.named(args.scale)
    if args.customers:
        scale = replace(scale, customers=args.customers)
    if args.merchants:
        scale = replace(scale, merchants=args.merchants)
    defects = DefectRates.clean() if args.clean else DefectRates().scaled(args.defect_scale)
    return GeneratorConfig(seed=args.seed, scale=scale, defects=defects, locale=args.locale)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bank_assets.synthetic",
        description="Write a deterministic synthetic bank into the landing zone.",
    )
    p.add_argument("--start", default="2024-01", help="first month, YYYY-MM (default 2024-01)")
    p.add_argument("--end", default=None, help="last month, inclusive (default: --start)")
    p.add_argument(
        "--scale",
        default="small",
        choices=sorted(SCALES),
        help="small: ~2k customers, ~50k transactions a month; large: ~1M a month",
    )
    p.add_argument("--customers", type=int, default=None, help="explicit customer count at 2024-01")
    p.add_argument("--merchants", type=int, default=None, help="explicit merchant count")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", type=Path, default=Path("data/landing"))
    p.add_argument("--tables", default=None, help=f"comma-separated subset of {','.join(CONTRACTS)} (default: all)")
    p.add_argument("--clean", action="store_true", help="no injected defects (all rates 0)")
    p.add_argument("--defect-scale", type=float, default=1.0, help="multiply every defect rate")
    p.add_argument("--locale", default="es_MX", help="Faker locale for names and streets")
    p.add_argument(
        "--profile",
        default="default",
        help="write the files in a source profile's dialect: default, a name in profiles/ (e.g. lima_core) "
        "or a path to a profile YAML",
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        start = parse_month(args.start)
        months = month_range(start, parse_month(args.end) if args.end else start)
        cfg = config_from_args(args)
        tables = args.tables.split(",") if args.tables else None
        profile = load_profile(args.profile)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    began = time.perf_counter()
    total = len(months) * (len(tables) if tables else len(CONTRACTS))

    def progress(w: Written) -> None:
        progress.done += 1  # type: ignore[attr-defined]
        if not args.quiet:
            bad = sum(w.defects.values())
            print(
                f"[{progress.done:>3}/{total}] {w.month:<9} {w.table:<14} "  # type: ignore[attr-defined]
                f"{w.rows:>10,} rows ({bad:,} injected defects)  {time.perf_counter() - began:6.1f}s",
                file=sys.stderr,
                flush=True,
            )

    progress.done = 0  # type: ignore[attr-defined]
    written = generate(cfg, months, args.out, tables=tables, on_file=progress, profile=profile)
    rows = sum(w.rows for w in written)
    secs = time.perf_counter() - began
    print(
        f"wrote {len(written)} files, {rows:,} rows to {args.out} in {secs:.1f}s ({rows / max(secs, 1e-9):,.0f} rows/s)"
    )
    return 0
