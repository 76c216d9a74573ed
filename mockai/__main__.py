"""`python -m mockai` is the `mockai` command."""

from mockai.cli import main

raise SystemExit(main())
