"""environment.yml and pyproject.toml pin the same packages at the same versions, and the
installed environment is the pinned one."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from the PyPI names
CONDA_TO_PYPI = {
    "pytorch-cpu": "torch",
    "matplotlib-base": "matplotlib",
    "dask-core": "dask",  # conda-forge's "dask" adds bokeh, pandas...; the PyPI "dask" is the core
    "psycopg-c": "psycopg-binary",  # psycopg's C part (PyPI bundles it with libpq as -binary)
}
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)\s*(==|=)\s*([0-9][^\s;]*)$")


def _pins(lines, sep):
    out = {}
    for line in lines:
        m = PIN.match(line.strip())
        assert m and m.group(2) == sep, f"not pinned exactly: {line!r}"
        out[m.group(1).lower()] = m.group(3)
    return out


def pyproject_pins():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return _pins(data["dependencies"] + data["optional-dependencies"]["dev"], "==")


def conda_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    deps = [
        d for d in env["dependencies"] if isinstance(d, str) and d not in ("pip", "python=3.11")
    ]
    assert "python=3.11" in env["dependencies"]
    pins = _pins(deps, "=")
    return {CONDA_TO_PYPI.get(k, k): v for k, v in pins.items()}


def test_environment_yml_and_pyproject_agree():
    py, conda = pyproject_pins(), conda_pins()
    assert set(py) == set(conda), (
        f"only in pyproject.toml: {sorted(set(py) - set(conda))}; "
        f"only in environment.yml: {sorted(set(conda) - set(py))}"
    )
    differ = {k: (py[k], conda[k]) for k in py if py[k] != conda[k]}
    assert not differ, f"versions differ (pyproject, environment.yml): {differ}"


def test_torch_is_pinned_to_the_cpu_wheel_version():
    assert pyproject_pins()["torch"] == "2.13.0"
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"] == (
        "==3.11.*"
    )


@pytest.mark.parametrize("name,version", sorted(pyproject_pins().items()))
def test_installed_versions_are_the_pinned_ones(name, version):
    installed = metadata.version(name)
    assert installed.split("+")[0] == version, (
        f"{name} {installed} is installed but {version} is pinned: run `make env`."
    )
