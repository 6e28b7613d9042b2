"""`python -m culture_metrics report|gate`: the reporting side's command line (culture_metrics/reporting)."""

import sys

from culture_metrics.reporting.__main__ import main


sys.exit(main())
