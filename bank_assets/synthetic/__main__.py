from bank_assets.synthetic.cli import main

raise SystemExit(main())
