"""The wheel carries the package and the built-in dataset, and runs from a clean venv."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_installs_in_clean_venv_and_runs_info(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(REPO),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("supplygraph-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "supplygraph/__init__.py" in names
    assert "supplygraph/py.typed" in names
    assert "supplygraph/_datasets/rare_earths/dataset.toml" in names
    assert not any(n.startswith("graphlib/") for n in names)

    # a clean venv; dependencies come from the system site-packages, supplygraph from the wheel
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    where = subprocess.run(
        [str(python), "-c", "import supplygraph; print(supplygraph.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(env_dir) in where.stdout  # the wheel's copy, not the checkout
    info = subprocess.run(
        [str(env_dir / "bin" / "supplygraph"), "info", "rare-earths"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert info.returncode == 0, info.stderr
    assert "mining -> separation -> metal -> magnets -> components -> end_use" in info.stdout
