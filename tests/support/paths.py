"""Where the tests find the project: its root, the seed articles and the test data."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SEEDS = ROOT / "seeds"
DATA = ROOT / "tests" / "data"
