import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
REPO = os.path.dirname(os.path.dirname(HERE))


def parity_fixture_dir() -> str:
    """EQUIAV_PARITY_FIXTURE, or the copy under tests/fixtures (as tests/helpers/fixtures.ts)."""
    return os.path.abspath(os.environ.get("EQUIAV_PARITY_FIXTURE", os.path.join(REPO, "tests", "fixtures", "equiav-parity")))
