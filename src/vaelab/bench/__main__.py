"""`python -m vaelab.bench` (= `make bench`), under the kernels every DVC stage runs with."""

import sys

from vaelab.bench.pinned import restart_pinned

restart_pinned(sys.argv[1:])  # before torch is imported: ATen and MKL read the variables once

from vaelab.bench.run import main  # noqa: E402

sys.exit(main())
