"""Generator throughput benchmark: python -m benchmarks.generator [--scale large].

Prints rows/s for generating and writing one month of transactions (median of repeats),
split into generation and CSV writing. Not a test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bank_assets.synthetic.generate import build
from bank_assets.synthetic.months import parse_month
from bank_assets.synthetic.params import GeneratorConfig, Scale
from bank_assets.synthetic.tables import World
from bank_assets.synthetic.writer import write_csv


def run(scale: str = "large", month: str = "2024-06", repeats: int = 3, seed: int = 42) -> dict:
    cfg = GeneratorConfig(seed=seed, scale=Scale.named(scale))
    m = parse_month(month)
    setup, gen, write = [], [], []
    rows = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats):
            t0 = time.perf_counter()
            world = World(cfg)  # fresh world: reference data, pools and cohorts are rebuilt
            world.snapshot(m)
            world.due(m)
            t1 = time.perf_counter()
            table, _, _ = build(world, "transactions", m)
            t2 = time.perf_counter()
            write_csv(table, Path(tmp) / f"transactions-{i}.csv")
            t3 = time.perf_counter()
            rows = table.num_rows
            setup.append(t1 - t0)
            gen.append(t2 - t1)
            write.append(t3 - t2)
    total = [a + b + c for a, b, c in zip(setup, gen, write, strict=True)]
    return {
        "rows": rows,
        "setup_s": statistics.median(setup),
        "generate_s": statistics.median(gen),
        "write_s": statistics.median(write),
        "total_s": statistics.median(total),
        "rows_per_s": rows / statistics.median(total),
        "generate_rows_per_s": rows / statistics.median(gen),
        "write_rows_per_s": rows / statistics.median(write),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--scale", default="large")
    p.add_argument("--month", default="2024-06")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    r = run(args.scale, args.month, args.repeats)
    print(f"transactions {args.month} at scale {args.scale}: {r['rows']:,} rows, median of {args.repeats}")
    print(f"  world setup      {r['setup_s']:6.2f} s")
    print(f"  generate+defects {r['generate_s']:6.2f} s  {r['generate_rows_per_s']:>12,.0f} rows/s")
    print(f"  write csv        {r['write_s']:6.2f} s  {r['write_rows_per_s']:>12,.0f} rows/s")
    print(f"  total            {r['total_s']:6.2f} s  {r['rows_per_s']:>12,.0f} rows/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
