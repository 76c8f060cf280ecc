"""Stage `download`: the four original MNIST files into <out>/MNIST/raw, verified byte for byte."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vaelab.core import params
from vaelab.core.io import write_json
from vaelab.data.files import raw_dir
from vaelab.download.fetch import fetch_mnist
from vaelab.download.verify import DownloadError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="e.g. data/raw")
    parser.add_argument("--summary", type=Path, required=True, help="e.g. metrics/data.json")
    parser.add_argument("--runtime", type=Path, required=True, help="seconds and failures JSON")
    args = parser.parse_args(argv)
    try:
        data = params.load("data")
        summary = fetch_mnist(data, args.out)
    except (DownloadError, params.ParamsError) as err:
        print(f"download: {err}", file=sys.stderr)
        return 1
    for source, reason in summary["failed"].items():
        print(f"download: {source}: failed: {reason}")
    raw = raw_dir(args.out)
    print(f"download: {summary['source']}: ok, 4 files verified in {raw} ({summary['seconds']} s)")
    # What every machine reproduces, apart from how long it took and which sources failed.
    runtime = {key: summary.pop(key) for key in ("seconds", "failed")}
    write_json(args.summary, summary)
    write_json(args.runtime, runtime)
    return 0


if __name__ == "__main__":
    sys.exit(main())
