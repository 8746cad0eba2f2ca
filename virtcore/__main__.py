"""``python -m virtcore``: the command line."""

import sys

from virtcore.cli import main

sys.exit(main())
