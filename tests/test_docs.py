"""The documentation stays true: links resolve, code runs, the references cover the API and CLI.

Running the Python blocks of our own docs with ``exec`` is deliberate: they are files of this
repository, not user input (symgrad itself never evaluates text).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import re
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import symgrad
from symgrad.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MARKDOWN = sorted([ROOT / "README.md", *DOCS.rglob("*.md"), *(ROOT / "examples").glob("*.md")])
RUNNABLE = [ROOT / "README.md", DOCS / "tutorial.md", *sorted((DOCS / "how-to").glob("*.md"))]
NO_TEST = "<!-- no-test -->"

_FENCE = re.compile(
    r"^```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL
)
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.MULTILINE)


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _fenced(text: str) -> list[tuple[str, str, bool]]:
    """(language, body, skipped) per fenced block; skipped when ``<!-- no-test -->`` precedes it."""
    blocks = []
    for match in _FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        blocks.append((match["lang"], match["body"], before.strip() == NO_TEST))
    return blocks


def _prose(text: str) -> str:
    """The text without fenced blocks and inline code, where link syntax is not a link."""
    return re.sub(r"`[^`\n]*`", "", _FENCE.sub("", text))


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but ``_ -`` dropped, spaces to ``-``."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _links() -> list[tuple[Path, str]]:
    """Every distinct relative link target per Markdown file (URLs with a scheme left out)."""
    found = {
        (path, target)
        for path in MARKDOWN
        for target in _LINK.findall(_prose(path.read_text(encoding="utf-8")))
        if not re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE)  # https:, mailto:, ...
    }
    return sorted(found)


LINKS = _links()


def test_docs_exist_where_readme_points() -> None:
    """The pages README.md links to exist, and the docs have their four parts."""
    for page in ("index.md", "tutorial.md", "explanation/safe-parsing.md", "reference/api.md"):
        assert (DOCS / page).is_file(), page
    assert LINKS, "no relative links found: the link pattern is broken"


@pytest.mark.parametrize(("path", "target"), LINKS, ids=[f"{_rel(p)}->{t}" for p, t in LINKS])
def test_relative_link_resolves(path: Path, target: str) -> None:
    """A relative link points at an existing file and, with ``#anchor``, at one of its headings."""
    file_part, _, anchor = target.partition("#")
    destination = (path.parent / file_part).resolve() if file_part else path
    assert destination.exists(), f"{_rel(path)}: broken link {target!r}"
    if anchor and destination.suffix == ".md":
        text = destination.read_text(encoding="utf-8")
        anchors = {_anchor(h) for h in _HEADING.findall(_FENCE.sub("", text))}
        assert anchor in anchors, (
            f"{_rel(path)}: no heading for #{anchor} in {file_part or 'itself'}"
        )


@pytest.mark.parametrize("path", RUNNABLE, ids=[_rel(p) for p in RUNNABLE])
def test_python_blocks_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ```python block of the page runs, in order, in one fresh namespace per page."""
    monkeypatch.chdir(tmp_path)  # blocks may write files
    namespace: dict[str, object] = {"__name__": f"docs:{path.stem}"}
    text = path.read_text(encoding="utf-8")
    for number, (lang, body, skipped) in enumerate(_fenced(text), start=1):
        if lang != "python" or skipped:
            continue
        code = compile(body, f"{_rel(path)} (block {number})", "exec")
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, namespace)  # noqa: S102 - our own documentation (module docstring)


def _commands() -> list[tuple[Path, str, int | None]]:
    """The ``$ symgrad ...`` lines of console blocks, with the exit code shown after them.

    A page shows an exit code by running ``...; echo "exit code $?"``; the code printed in the
    block is then the code expected.
    """
    found = []
    for path, command, output in _console(RUNNABLE):
        shown = re.search(r"^exit code (\d+)$", output, re.MULTILINE) if "$?" in command else None
        found.append((path, command, int(shown[1]) if shown else None))
    return list(dict.fromkeys(found))  # the same command shown twice is tested once


def _console(paths: list[Path]) -> Iterator[tuple[Path, str, str]]:
    """Each ``$ symgrad ...`` line of the pages' console blocks with the text shown under it."""
    for path in paths:
        for lang, body, skipped in _fenced(path.read_text(encoding="utf-8")):
            if lang != "console" or skipped:
                continue
            for command, output in re.findall(r"^\$ (.*)\n((?:(?!\$ ).*\n?)*)", body, re.MULTILINE):
                if command.startswith("symgrad "):
                    yield path, command, output


COMMANDS = _commands()


def _argv(command: str) -> list[str]:
    """The arguments after ``symgrad``, up to the first shell operator (``;``, ``|``, ``>``, ...)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words = list(lexer)
    end = next((i for i, w in enumerate(words) if set(w) <= set("();<>|&")), len(words))
    return words[1:end]


@pytest.mark.parametrize(
    ("path", "command", "code"),
    COMMANDS,
    ids=[f"{p.stem}-{i}:{c.split(';')[0][:50]}" for i, (p, c, _) in enumerate(COMMANDS)],
)
def test_shown_command_runs(
    path: Path, command: str, code: int | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A symgrad command shown in a tutorial or how-to exits as shown (0 or 1 if not shown)."""
    monkeypatch.chdir(tmp_path)  # commands may write files
    with (
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()) as err,
    ):
        returned = main(_argv(command))
    expected = (0, 1) if code is None else (code,)
    assert returned in expected, f"{_rel(path)}: {command}: exit {returned}\n{err.getvalue()}"


def test_api_reference_names_every_public_name() -> None:
    """docs/reference/api.md has a heading for every name in ``symgrad.__all__``."""
    headings = _HEADING.findall((DOCS / "reference" / "api.md").read_text(encoding="utf-8"))
    documented = {m.group(1) for h in headings if (m := re.match(r"`symgrad\.(\w+)", h))}
    missing = sorted(set(symgrad.__all__) - documented)
    assert not missing, f"add to docs/reference/api.md: {missing}"
    assert not documented - set(symgrad.__all__), "api.md documents names that are not public"


def _signature(obj: Callable[..., object]) -> str:
    """The signature as api.md shows it: names and defaults, without annotations."""
    sig = inspect.signature(obj)
    params = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    return str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))


def test_api_reference_signatures_are_current() -> None:
    """For each public function, api.md has a line `name(...)` with its current signature."""
    text = (DOCS / "reference" / "api.md").read_text(encoding="utf-8")
    stale = []
    for name in symgrad.__all__:
        obj = getattr(symgrad, name)
        if inspect.isfunction(obj):
            expected = f"`{name}{_signature(obj)}`"
            if expected not in text.splitlines():
                stale.append(expected)
    assert not stale, "update these lines in docs/reference/api.md:\n" + "\n".join(stale)


def test_limits_table_matches_the_source() -> None:
    """Every row of the limits table in safe-parsing.md shows the value of its constant."""
    text = (DOCS / "explanation" / "safe-parsing.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| .+? \| ([\d,]+) \| `(\w+)` in `symgrad/([\w/]+)\.py` \|$", text, re.MULTILINE
    )
    assert len(rows) >= 20, "the limits table was not found"
    wrong = [
        f"{name} in symgrad/{module}.py is {actual}, the table says {shown}"
        for shown, name, module in rows
        if (actual := getattr(importlib.import_module("symgrad." + module.replace("/", ".")), name))
        != int(shown.replace(",", ""))
    ]
    assert not wrong, "update docs/explanation/safe-parsing.md: " + "; ".join(wrong)


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0  # --help returns 0 (main never raises SystemExit)
    return capsys.readouterr().out


def _subcommands(capsys: pytest.CaptureFixture[str]) -> list[str]:
    listing = _help(["--help"], capsys).split("commands:", 1)[1]
    return re.findall(r"^ {4}([a-z][a-z-]*)\b", listing, re.MULTILINE)


def test_cli_reference_names_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/reference/cli.md has a section for every subcommand of ``symgrad --help``."""
    commands = _subcommands(capsys)
    assert len(commands) >= 10, commands
    text = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    missing = [c for c in commands if f"## `symgrad {c}`" not in text]
    assert not missing, f"add sections to docs/reference/cli.md: {missing}"


def test_cli_reference_names_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    """Every option of every subcommand appears in that subcommand's section of cli.md."""
    text = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    sections = dict(
        re.findall(r"^## `symgrad ([a-z-]+)`\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    )
    missing = []
    for command in _subcommands(capsys):
        options = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", _help([command, "--help"], capsys)))
        missing += [
            f"{command} {o}"
            for o in sorted(options - {"--help"})
            if o not in sections.get(command, "")
        ]
    assert not missing, f"document in docs/reference/cli.md: {missing}"


def test_architecture_page_names_real_files_and_every_package() -> None:
    """architecture.md's "where do I change" table points to files that exist, and its tree
    shows every package and top-level module of symgrad."""
    text = (DOCS / "explanation" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(symgrad/[\w/]+\.py)`", text))
    assert len(named) >= 15
    assert [p for p in sorted(named) if not (ROOT / p).is_file()] == []
    package = ROOT / "symgrad"
    units = {p.name + "/" for p in package.iterdir() if (p / "__init__.py").is_file()}
    units |= {p.name for p in package.glob("*.py") if p.stem not in ("__init__", "__main__")}
    tree = text.split("```", 2)[1]
    assert [u for u in sorted(units) if u not in tree] == []


# -- the classroom pages: what they show is what the commands print ---------------------------

CLASSROOM = [DOCS / "tutorial.md", DOCS / "how-to" / "classroom.md"]


def _shown_outputs() -> list[tuple[Path, str, list[str]]]:
    """The tutorial's and the classroom guide's commands with the output lines shown under them
    (``exit code N`` lines and elisions ``...`` left out)."""
    found = []
    for path, command, output in _console(CLASSROOM):
        lines = [
            line.rstrip()
            for line in output.splitlines()
            if line.strip() and not re.fullmatch(r"exit code \d+|\.\.\.|…", line.strip())
        ]
        if lines:
            found.append((path, command, lines))
    return found


SHOWN = _shown_outputs()


@pytest.mark.parametrize(
    ("path", "command", "lines"),
    SHOWN,
    ids=[f"{p.stem}-{i}:{c.split(';')[0][:50]}" for i, (p, c, _) in enumerate(SHOWN)],
)
def test_classroom_pages_show_real_output(
    path: Path, command: str, lines: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every output line the tutorial or the classroom guide shows is printed by its command
    (stdout or the one-line error on stderr), word for word."""
    monkeypatch.chdir(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        main(_argv(command))
    printed = out.getvalue() + err.getvalue()
    stale = [line for line in lines if line not in printed]
    assert not stale, f"{_rel(path)}: {command} no longer prints: {stale}"


def test_classroom_pages_name_only_real_options(capsys: pytest.CaptureFixture[str]) -> None:
    """Every ``symgrad SUBCOMMAND ... --option`` in the tutorial and the classroom guide, in a
    command or in the prose, is an option of that subcommand."""
    helps: dict[str, str] = {}
    wrong = []
    for path in CLASSROOM:
        text = path.read_text(encoding="utf-8")
        for sub, rest in re.findall(r"symgrad ([a-z][a-z-]*)\b([^`\n]*)", text):
            if sub not in helps:
                helps[sub] = _help([sub, "--help"], capsys) if sub in _subcommands(capsys) else ""
            wrong += [
                f"{_rel(path)}: symgrad {sub} {option}"
                for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest)
                if not re.search(rf"(?<![\w-]){option}\b", helps[sub])
            ]
    assert not wrong, "options that do not exist: " + "; ".join(wrong)
