"""``python -m kdlab`` is the ``kdlab`` command."""

import sys

from kdlab.cli import main

sys.exit(main())
