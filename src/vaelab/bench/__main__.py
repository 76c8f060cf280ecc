"""`python -m vaelab.bench` (= `make bench`)."""

import sys

from vaelab.bench.run import main

sys.exit(main())
