"""Development and demo tooling outside the product package: used by tests/, benchmarks/ and
scripts/ alike (run from the repository root; not installed with bank_assets)."""
