"""`python -m avlib` is the `avlib` console script."""

import sys

from avlib.cli import main

sys.exit(main())
