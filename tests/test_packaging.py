"""The package as installed from a wheel holds every module an editable install finds; what make installs."""

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_for_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(base).parts)
        for base in (ROOT / "src", ROOT)
        for top in ("lte", "data_gen")
        for init in (base / top).rglob("__init__.py")
        if (base / top).is_dir()
    }
    assert found == listed


def test_the_citation_states_the_package_version_a_release_date_and_its_authors():
    import datetime

    import pytest

    yaml = pytest.importorskip("yaml")  # PyYAML comes with Ray, a dev dependency
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert str(citation["version"]) == project["version"]
    assert datetime.date.fromisoformat(str(citation["date-released"]))
    assert citation["authors"] and all(a.get("name") or a.get("family-names") for a in citation["authors"])
    assert citation["license"] == project["license"]


def test_make_install_installs_the_study_and_make_test_adds_the_test_tools():
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")

    def installs(target: str) -> list[str]:
        dry = subprocess.run(["make", "-n", "-B", target], capture_output=True, text=True, check=True, cwd=ROOT).stdout
        return [line for line in dry.splitlines() if "pip install" in line and "--upgrade pip" not in line]

    assert installs("install") == [line for line in installs("install") if "[dev]" not in line] != []
    assert any("'.[dev]'" in line for line in installs("test"))
    assert any("'.[dev]'" in line for line in installs("lint"))


def test_the_cuda_pins_belong_to_the_pinned_jax():
    def pins(name: str) -> dict[str, str]:
        lines = (ROOT / name).read_text().splitlines()
        return dict(line.split("==") for line in lines if "==" in line and not line.startswith("#"))

    base, cuda = pins("constraints.txt"), pins("constraints-cuda.txt")
    assert cuda["jax-cuda12-plugin"] == cuda["jax-cuda12-pjrt"] == base["jax"] == base["jaxlib"]
    assert not set(cuda) & set(base)  # each package pinned in one file
    assert any(name.startswith("nvidia-") for name in cuda)
