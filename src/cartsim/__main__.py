"""``python -m cartsim`` runs the command line."""

import sys

from cartsim.cli import main

sys.exit(main())
