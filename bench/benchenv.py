"""The harness's Python environment: bench/.venv with bench/requirements.txt.

Shared by bench/run and bench/selftest, which themselves need only the
standard library to start, so a fresh clone can run them with any python3.
(Not named venv.py: that would shadow the standard module `python -m venv`
when bench/ is the working directory.)
"""

import pathlib
import subprocess
import sys

BENCH = pathlib.Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / ".venv"
PYTHON = VENV / "bin" / "python"
REQUIREMENTS = BENCH / "requirements.txt"


def log(message):
    print(message, file=sys.stderr, flush=True)


def ensure_venv():
    """Create bench/.venv and install the requirements if either is missing.

    Returns the venv's python. Checking the imports (rather than only that
    the directory exists) repairs a venv left half-made by an interrupted run.
    """
    if not PYTHON.exists():
        log(f"creating {VENV.relative_to(ROOT)}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = [str(PYTHON), "-c", "import duckdb, networkx, psutil"]
    if subprocess.run(probe, capture_output=True).returncode != 0:
        log(f"installing {REQUIREMENTS.relative_to(ROOT)} into {VENV.relative_to(ROOT)}")
        subprocess.run(
            [str(PYTHON), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)],
            check=True,
        )
    return PYTHON
