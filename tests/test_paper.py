"""The paper: every file it inputs exists for each profile with committed records, every citation is in the
bibliography, the Makefile checks for every LaTeX package it uses, and (where LaTeX is installed) it builds
into a PDF that holds the verdicts and no Type 3 font."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "paper"
MAIN = (PAPER / "main.tex").read_text()
PROFILES = sorted(p.stem for p in (PAPER / "generated").glob("*.tex"))


def _body(tex: str) -> str:
    """The text without comments (a % not escaped starts one)."""
    return "\n".join(re.sub(r"(?<!\\)%.*", "", line) for line in tex.splitlines())


def named_files(profile: str) -> list[Path]:
    """Every file main.tex reads for `profile`: its inputs, its generated and results tables, its figures."""
    body = _body(MAIN)
    expand = {
        r"\fig": ROOT / "results" / profile / "figures" / "{}.pdf",
        r"\tab": ROOT / "results" / profile / "tables" / "{}.tex",
        r"\gen": PAPER / "generated" / profile / "{}.tex",
    }
    files = [
        Path(str(pattern).format(name))
        for macro, pattern in expand.items()
        for name in re.findall(re.escape(macro) + r"\{([^}\\]+)\}", body)
    ]
    inputs = [
        i.replace(r"\LteProfile", profile) for i in re.findall(r"\\input\{([^}]+)\}", body) if "#1" not in i
    ]  # the macros' own \input{...#1...} are expanded above
    return files + [(PAPER / i).with_suffix(".tex") if not i.endswith(".tex") else PAPER / i for i in inputs]


def test_the_paper_names_its_files_through_the_profile():
    body = _body(MAIN)
    assert r"\input{generated/\LteProfile.tex}" in body
    # figures only through \fig (so they follow the profile): no \includegraphics of a fixed path
    assert not re.findall(r"\\includegraphics(?:\[[^]]*\])?\{(?!\\fig\{)", body)


@pytest.mark.parametrize("profile", PROFILES)
def test_every_file_the_paper_names_exists(profile):
    files = named_files(profile)
    kinds = {f.suffix for f in files}
    assert {".pdf", ".tex"} <= kinds and len(files) >= 20, "the paper names fewer files than expected"
    missing = [str(f.relative_to(ROOT)) for f in files if not f.exists()]
    assert not missing, f"make figures tables report PROFILE={profile} should write: {missing}"


@pytest.mark.parametrize("profile", PROFILES)
def test_every_generated_macro_name_is_letters_only(profile):
    # a digit ends a control sequence's name: \newcommand{\Seeds3x}{...} would typeset "3x" before the document
    names = re.findall(r"\\newcommand\{\\([^}]*)\}", (PAPER / "generated" / f"{profile}.tex").read_text())
    assert len(names) > 20 and [n for n in names if not n.isalpha()] == []


@pytest.mark.parametrize("profile", PROFILES)
def test_no_template_plural_in_the_paper_or_its_generated_text(profile):
    texts = [
        MAIN,
        *(
            f.read_text()
            for f in [PAPER / "generated" / f"{profile}.tex", *named_files(profile)]
            if f.suffix == ".tex" and f.exists()
        ),
    ]
    assert not [t for t in texts if "(s)" in _body(t)], "a template plural: say 1 seed, 2 seeds"


def test_a_macro_name_spells_out_its_digits():
    from lte.study.analysis.paper_numbers import _macro_name

    assert _macro_name("Seeds", "question3_selection") == "SeedsQuestionThreeSelection"
    assert _macro_name("Seeds", "lr_selection") == "SeedsLrSelection"


def test_every_citation_is_in_the_bibliography_and_every_entry_is_cited():
    cited = {
        key.strip()
        for keys in re.findall(r"\\cite[pt]?\*?(?:\[[^]]*\])*\{([^}]+)\}|\\citealp\{([^}]+)\}", _body(MAIN))
        for group in keys
        for key in group.split(",")
        if key
    }
    entries = set(re.findall(r"@\w+\{([^,\s]+),", (PAPER / "references.bib").read_text()))
    assert cited, "no citation found"
    assert cited - entries == set(), "cited but not in references.bib"
    assert entries - cited == set(), "in references.bib but never cited"


def test_the_makefile_checks_for_every_package_the_paper_uses():
    used = {
        p.strip()
        for group in re.findall(r"\\usepackage(?:\[[^]]*\])?\{([^}]+)\}", _body(MAIN))
        for p in group.split(",")
    }
    makefile = (ROOT / "Makefile").read_text()
    checked = set(re.findall(r"([\w-]+)\.sty:", makefile))
    assert used and used - checked == set(), "add these to PAPER_TEX in the Makefile"
    assert re.search(r"\\bibliographystyle\{(\w+)\}", MAIN).group(1) + ".bst:" in makefile


def _verdict(profile: str) -> str:
    macros = (PAPER / "generated" / f"{profile}.tex").read_text()
    return re.search(r"\\newcommand\{\\VerdictTwo\}\{([^}]*)\}", macros).group(1)


@pytest.mark.skipif(
    not (shutil.which("latexmk") and shutil.which("pdftotext")),
    reason="LaTeX or poppler is not installed (Debian: apt-get install latexmk "
    "texlive-latex-recommended poppler-utils)",
)
def test_the_paper_builds_with_the_verdicts_and_without_type3_fonts(tmp_path):
    profile = "quick" if "quick" in PROFILES else PROFILES[0]
    # a clean copy: by-products of an earlier build in paper/ (a stale .bbl) would be read in place of new ones
    paper = tmp_path / "paper"
    shutil.copytree(
        PAPER,
        paper,
        ignore=shutil.ignore_patterns("*.aux", "*.bbl", "*.blg", "*.log", "*.fls", "*.fdb_latexmk", "*.out", "*.pdf"),
    )
    (tmp_path / "results").symlink_to(ROOT / "results")
    done = subprocess.run(
        [
            "latexmk",
            "-pdf",
            "-interaction=nonstopmode",
            "-halt-on-error",
            f"-usepretex=\\def\\LteProfile{{{profile}}}",
            "main.tex",
        ],
        cwd=paper,
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = paper / "main.log"
    assert done.returncode == 0, (log.read_text() if log.exists() else done.stdout)[-3000:]
    undefined = re.findall(
        r"(?:Citation|Reference) `[^']*' on page \d+ undefined|There were undefined \w+", log.read_text()
    )  # the log of the last pass: what is still undefined stays so
    assert not undefined, undefined
    text = subprocess.run(
        ["pdftotext", str(paper / "main.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert f"Profile {profile}" in text  # the profile asked for, not a fixed one
    assert "The verdicts" in text and " ".join(_verdict(profile).split()) in " ".join(text.split())
    assert "References" in text
    assert "(s)" not in text, "a template plural: say 1 seed, 2 seeds"
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(paper / "main.pdf")], capture_output=True, text=True, check=True).stdout
        assert re.search(r"^Title:\s+Can an IRNN", info, re.M), info
        assert "(A4)" in info, info
    if shutil.which("pdffonts"):
        fonts = subprocess.run(["pdffonts", str(paper / "main.pdf")], capture_output=True, text=True, check=True).stdout
        assert "Type 3" not in fonts, fonts


def test_the_committed_pdf_is_the_default_profile_paper():
    pdf = PAPER / "main.pdf"
    assert pdf.exists(), "build it with make paper and commit it"
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "Profile default" in text


def test_report_markdown_becomes_escaped_latex():
    from lte.study.analysis.paper_numbers import itemize, markdown_tex

    assert markdown_tex("a **b** `x_y` at 5% of c_d") == r"a \textbf{b} \texttt{x\_y} at 5\% of c\_d"
    assert itemize(["one", "two"]).count(r"\item ") == 2


@pytest.mark.parametrize("profile", PROFILES)
def test_the_paper_lists_the_reports_threats(profile):
    from lte.study.analysis.threats import threats_section

    threats = [line for line in threats_section(profile) if line.startswith("- ")]
    listed = (PAPER / "generated" / profile / "threats.tex").read_text()
    assert listed.count(r"\item ") == len(threats), f"make report PROFILE={profile} is stale"


def test_a_grouped_table_gives_its_group_a_heading_row_not_a_column():
    import pandas as pd

    from lte.study.analysis.tables import latex_tabular

    table = pd.DataFrame({"task": ["copy", "copy", "addition"], "cell": ["a", "b", "c"], "mean (95%)": ["1", "2", "3"]})
    tex = latex_tabular(table, group_by="task")
    assert tex.count(r"\multicolumn{2}") == 2 and r"\emph{copy}" in tex and r"\emph{addition}" in tex
    assert "task &" not in tex and r"mean\\(95\%)" in tex
    assert tex.count(r"\addlinespace") == 1


@pytest.mark.parametrize("profile", PROFILES)
def test_generated_latex_is_ascii(profile):
    # a text-mode symbol such as ± or ≥ needs a bitmap (Type 3) font and breaks font expansion: the
    # generator writes them in math mode instead
    files = [PAPER / "generated" / f"{profile}.tex", *(PAPER / "generated" / profile).glob("*.tex")]
    offending = {f.name: sorted(set(re.findall(r"[^\x00-\x7f]", f.read_text()))) for f in files}
    assert {name: chars for name, chars in offending.items() if chars} == {}
