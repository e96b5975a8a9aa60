"""``python -m clgraph devices`` does what the ``clgraph`` console script does."""
import sys

from clgraph.cli import main

sys.exit(main())
