"""Every repository path the README and the docs pages name exists: markdown links, backticked paths and the
paths in their command blocks. A renamed file or a regenerated run folder then fails here, not in a reader's
shell."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# docs/preregistration.md and docs/regeneration.md are read too: every page a reader is sent to
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# a path is checked when it starts at one of the repository's top-level entries (`lte/...` is the package, under
# src/); other names are not repository paths: files inside a run folder (`config.json`), a user's output
# (`runs/irnn`, `/tmp/mine`), the original's Lua files, a cache (`~/.cache/lte`)
TOP = ("data_gen", "docs", "experiments", "paper", "results", "src", "tests", "lte")
TOP_FILES = ("Makefile", "pyproject.toml", "constraints.txt", "CITATION.cff", "LICENSE", "README.md")
# placeholders stand for a family of paths (`results/runs/<profile>/`, `paper/main-PROFILE.pdf`,
# `results/runs/default/pilot*/`, `.../<table>.provenance.json`): there is no one path to check
PLACEHOLDER = re.compile(r"[<>*{}]|PROFILE|NAME|\.\.\.")
# reproduce/ is written by `make reproduce` (and gitignored): it is not in the repository to check
GENERATED = ("reproduce/",)

LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
TICKS = re.compile(r"`([^`\n]+)`")


def _candidates(text: str) -> list[tuple[str, bool]]:
    """(path, is_link) for every markdown link, backticked token and command-block word of a page."""
    found = [(m.group(1), True) for m in LINK.finditer(text)]
    blocks = FENCE.findall(text)
    for block in blocks:
        found += [(word.strip("'\"(),;"), False) for word in block.split()]
    prose = FENCE.sub("", text)
    for m in TICKS.finditer(prose):
        found += [(word.strip("'\"(),;"), False) for word in m.group(1).split()]
    return found


def _repository_path(token: str, page: Path, is_link: bool) -> Path | None:
    """The file `token` names, or None when it is no repository path to check."""
    if is_link:
        if re.match(r"[a-z]+:", token) or token.startswith("#"):  # a web address or an anchor on the page
            return None
        return page.parent / token.split("#", 1)[0]
    token = token.rstrip(".:")
    if token.startswith("--from="):
        token = token.removeprefix("--from=")
    if PLACEHOLDER.search(token) or token.startswith(GENERATED):
        return None
    first = token.split("/", 1)[0]
    if "/" in token and first in TOP:
        return ROOT / "src" / token if first == "lte" else ROOT / token
    return ROOT / token if token in TOP_FILES else None


def _missing(page: Path) -> list[str]:
    missing = []
    for token, is_link in _candidates(page.read_text()):
        path = _repository_path(token, page, is_link)
        if path is not None and not path.exists():
            missing.append(token)
    return sorted(set(missing))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_path_a_page_names_exists(page):
    assert _missing(page) == []


def test_the_check_finds_a_missing_path(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "[gone](no/such/file.md) `results/no_such.csv` `results/runs/<profile>/` `reproduce/quick/README.md`\n"
        "```\nlte train --from results/runs/default/no_such_run --out runs/x\n```\n[web](https://example.org)\n"
    )
    assert _missing(page) == ["no/such/file.md", "results/no_such.csv", "results/runs/default/no_such_run"]


def test_the_readme_is_short_and_starts_with_the_commands():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200
    first_block = lines[lines.index("```") + 1 : lines.index("```", lines.index("```") + 1)]
    assert [line.split("#")[0].strip() for line in first_block] == [
        "make reproduce PROFILE=quick",
        "make reproduce",
        "make test",
    ]


@pytest.mark.parametrize("page", [p for p in PAGES if "lte train --from results/" in p.read_text()], ids=str)
def test_a_train_example_quotes_its_runs_own_record(page):
    # the numbers a page gives for `lte train --from RUN` are that run's summary.json, not typed from memory
    import json

    text = page.read_text()
    run = re.search(r"lte train --from (results/\S+)", text).group(1)
    summary = json.loads((ROOT / run / "summary.json").read_text())
    quoted = re.search(r"records ([\d,]+) steps in (\d+) s of training", text)
    assert quoted, "say how many steps and seconds the named run's record holds"
    assert int(quoted.group(1).replace(",", "")) == summary["steps"]
    assert int(quoted.group(2)) == round(summary["wall_time"])
    device = summary["provenance"]["device"].removeprefix("cpu: ")
    assert device in " ".join(text[quoted.end() :].split()[:12]), f"name the run's device, {device}"
