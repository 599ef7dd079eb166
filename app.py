"""Start the careerbot chat app: python app.py [--host H] [--port P] [--corpus DIR] [--index DIR].

Same as `careerbot serve`; opens http://127.0.0.1:7860 by default and builds the index first if needed.
"""
import sys

from careerbot.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
