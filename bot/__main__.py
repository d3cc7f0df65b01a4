"""``python -m bot`` is the same as the ``motcua`` command."""

from bot.cli import main

raise SystemExit(main())
