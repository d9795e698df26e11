import sys

from lte.cli import main

sys.exit(main())
