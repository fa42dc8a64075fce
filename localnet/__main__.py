"""`python -m localnet`: see localnet.cli."""

from localnet.cli import main

raise SystemExit(main())
