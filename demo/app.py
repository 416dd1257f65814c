"""The explanation demo. Run:  python demo/app.py [--model cues|CHECKPOINT] [--host 127.0.0.1] [--port 7860]

Same as `affectllm demo`; all the work lives in `affectllm.demo`.
"""

import sys

from affectllm.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", *sys.argv[1:]]))
