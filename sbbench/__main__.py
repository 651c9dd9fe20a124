import sys

from sbbench.cli import main

sys.exit(main())
