"""``python -m bank_assets.lakehouse install-extensions``: copy DuckLake, postgres and httpfs from
their PyPI wheels into the extension folder (BANK_DUCKDB_EXTENSION_DIR), without network.

``python -m bank_assets.lakehouse init``: create the lake (catalog tables in PostgreSQL, the
layers' schemas) before workers start writing to it."""

from __future__ import annotations

import argparse

from bank_assets.lakehouse.profile import extension_dir, init_lake, install_extensions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bank_assets.lakehouse")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install-extensions", help="install the lakehouse's DuckDB extensions from their wheels")
    sub.add_parser("init", help="create the lake's catalog (BANK_LAKE_CATALOG) and its schemas, once")
    args = parser.parse_args(argv)
    if args.command == "install-extensions":
        names = install_extensions()
        print(f"DuckDB extensions in {extension_dir()}: {', '.join(sorted(names))}")
    elif args.command == "init":
        print(init_lake())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
