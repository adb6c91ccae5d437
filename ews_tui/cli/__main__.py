"""``python -m ews_tui.cli``: the same as the ``ews`` command."""

import sys

from ews_tui.cli import main

sys.exit(main())
