"""`python -m sandbox [options]`: the same as `herald sandbox [options]`."""

import sys

from herald.cli import main

if __name__ == "__main__":
    sys.exit(main(["sandbox", *sys.argv[1:]]))
