#!/usr/bin/env python3
"""Set up and run the tracker with nothing but Python 3.11+.

    python3 run.py demo    # the demo on the embedded default (SQLite, in-process worker)
    python3 run.py test    # the whole test suite
    python3 run.py check   # ruff, mypy and the import layers (import-linter)
    python3 run.py bench NAME [--json]   # append, commands, pages, projections, workers

Each command first makes ``.venv`` beside this file and installs the project into it
(again only when ``pyproject.toml`` changes). Extra arguments go to the tool underneath.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".tracker-installed"


def ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - run.py is what an old Python runs first
        sys.exit("the tracker needs Python 3.11 or newer")
    if not (BIN / "python").exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    print("installing the tracker and its dependencies into .venv …", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(digest)


STATIC = ROOT / "tracker" / "edges" / "web" / "static"
GOVUK = STATIC / "govuk"
ASSET_STAMP = GOVUK / ".built-from"


def build_assets() -> None:
    """Build GOV.UK Frontend's styles and scripts into static/govuk when Node is here.

    The packages come from the npm registry, pinned by package-lock.json; the built files
    are copied into the static folder (kept out of git), so nothing is fetched at run time.
    Without Node the pages use the plain fallback stylesheet, and the demo says so.
    """
    npm = shutil.which("npm")
    if npm is None:
        return
    lock = ROOT / "package-lock.json"
    digest = hashlib.sha256(lock.read_bytes() + (ROOT / "tracker/edges/web/scss/tracker.scss")
                            .read_bytes()).hexdigest()
    if ASSET_STAMP.exists() and ASSET_STAMP.read_text() == digest:
        return
    print("building GOV.UK Frontend styles (npm ci) …", flush=True)
    steps = [[npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
             [npm, "run", "-s", "build"]]
    GOVUK.mkdir(parents=True, exist_ok=True)
    for step in steps:
        if subprocess.run(step, cwd=ROOT, check=False, stdout=subprocess.DEVNULL).returncode:
            print("could not build the GOV.UK styles; the pages use the fallback stylesheet",
                  flush=True)
            return
    dist = ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk"
    shutil.copy2(dist / "govuk-frontend.min.js", GOVUK / "govuk-frontend.min.js")
    # No images or fonts: the crown, the crest and the GDS Transport font are for GOV.UK
    # itself, and this service is not on GOV.UK (the templates use none of them).
    ASSET_STAMP.write_text(digest)


def run(*argv: str) -> int:
    return subprocess.run(list(argv), cwd=ROOT).returncode


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"demo", "test", "check", "bench"}:
        print(__doc__)
        return 2
    command, rest = sys.argv[1], sys.argv[2:]
    ensure_venv()
    if command in {"demo", "test"}:
        build_assets()
    if command == "demo":
        return run(str(BIN / "tracker"), "demo", *rest)
    if command == "test":
        return run(str(BIN / "python"), "-m", "pytest", *rest)
    if command == "check":
        code = run(str(BIN / "ruff"), "check", ".")
        code = code or run(str(BIN / "mypy"))
        return code or run(str(BIN / "lint-imports"))
    return run(str(BIN / "python"), "-m", "bench", *rest)


if __name__ == "__main__":
    sys.exit(main())
