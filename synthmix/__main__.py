"""``python -m synthmix``: the same as the ``synthmix`` console script."""

from synthmix.cli import main

raise SystemExit(main())
