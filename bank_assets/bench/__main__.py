"""python -m bank_assets.bench: see bank_assets.bench.run."""

from bank_assets.bench.run import main

raise SystemExit(main())
