"""``python -m tracelake.cli``."""

import sys

from tracelake.cli import main

sys.exit(main())
