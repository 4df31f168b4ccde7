"""`python -m tui` runs the same command line as `tunebench`."""

from tui.cli import main

raise SystemExit(main())
