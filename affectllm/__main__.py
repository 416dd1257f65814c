import sys

from affectllm.cli import main

sys.exit(main())
