"""`python -m f2f_lab.cli ...` (and `accelerate launch -m f2f_lab.cli ...`): the same as `f2f ...`."""

import sys

from . import main

sys.exit(main())
