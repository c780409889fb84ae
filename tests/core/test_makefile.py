"""The Makefile's .PHONY names exactly its targets that are not files: a phony name missing lets a
file of that name (say a `test` folder someday) stop `make test` with "is up to date", and a phony
name with no rule is a command the README or a habit may still call."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A rule's line: names before one colon (not `:=` or `::`), outside recipes (tab-indented).
RULE = re.compile(r"^([^\s#.$][^:=#]*?)\s*:(?![=:])", re.M)


def _logical_lines(makefile: str) -> str:
    return re.sub(r"\\\n", " ", makefile)


def command_targets(makefile: str) -> set[str]:
    """Targets named like commands; a name with a path in it (`$(VENV)/.dev`) is a file made."""
    found = set()
    for names in RULE.findall(_logical_lines(makefile)):
        found |= {n for n in names.split() if "/" not in n and "$" not in n and "." not in n}
    return found


def phony(makefile: str) -> set[str]:
    lines = re.findall(r"^\.PHONY\s*:(.*)$", _logical_lines(makefile), re.M)
    return {name for line in lines for name in line.split()}


def phony_problems(makefile: str) -> list[str]:
    targets, declared = command_targets(makefile), phony(makefile)
    return ([f"`{t}` is a target but not in .PHONY" for t in sorted(targets - declared)]
            + [f".PHONY names `{t}`, which has no rule" for t in sorted(declared - targets)])


def test_phony_lists_exactly_the_makefiles_command_targets():
    makefile = (ROOT / "Makefile").read_text()
    assert {"run", "test", "lint", "setup-dev"} <= command_targets(makefile)  # it really parses
    assert phony_problems(makefile) == []


def test_the_check_catches_a_missing_and_a_stale_phony_name():
    makefile = (".PHONY: run test test-sqlite \\\n  setup\n"
                "VENV := .venv\nexport FLASK_APP := wsgi.py\nPORT ?= 5000\n"
                "$(VENV)/.dev: requirements.txt\n\ttouch $@\n"
                "setup: $(VENV)/.dev\nrun test: setup\n\techo a:b\nlint: setup\n\truff check\n")
    assert command_targets(makefile) == {"setup", "run", "test", "lint"}
    assert phony_problems(makefile) == ["`lint` is a target but not in .PHONY",
                                        ".PHONY names `test-sqlite`, which has no rule"]
