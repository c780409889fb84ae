"""The README as a newcomer reads it: every path it names is in the repository, every `make`
target it names is in the Makefile, and the benchmarks' npm lock file installs as it is."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# Folders of this repository; a name starting with one of them is a path into it.
FOLDERS = ("app", "bench", "deploy", "docs", "migrations", "scripts", "static", "templates",
           "tests", ".ci")
PATH = re.compile(r"(?<![\w./~-])((?:%s)/[\w./@-]*)" % "|".join(re.escape(f) for f in FOLDERS))
MADE_AT_RUN_TIME = ("bench/out/",)  # reports the benchmarks write
CODE = re.compile(r"```[^\n]*\n(.*?)```|`([^`\n]+)`", re.S)


def _paths() -> set[str]:
    return {m.group(1).rstrip(".,:;") for m in PATH.finditer(README)}


def _layout() -> list[str]:
    """The paths of the "Layout" block: folders, the subfolders beneath them, files they list."""
    block = re.search(r"## Layout\s+```\n(.*?)```", README, re.S).group(1)
    found, top = [], ""
    for line in block.splitlines():
        if not line.startswith(" "):
            top = line.split()[0]
            found.append(top)
            names = re.split(r",\s*", line[len(top):].strip())
            found += [top + n.split()[0] for n in names if re.fullmatch(r"[\w./-]+\.\w+( .*)?|"
                                                                         r"[\w-]+/", n)]
        else:  # a subfolder, and maybe a second one further along the line
            found += [top + name for name in re.findall(r"(?:^|\s{2,})([\w-]+/)(?=\s{2,})", line)]
    return found


def test_the_readme_names_paths_that_exist_in_the_repository():
    named = _paths() | set(_layout())
    assert len(named) > 60  # the rules below really read the README
    missing = sorted(p for p in named if not p.startswith(MADE_AT_RUN_TIME)
                     and not (ROOT / p).exists())
    assert missing == [], f"README.md names paths that are not in the repository: {missing}"


def test_the_readme_sends_nobody_outside_the_repository():
    """`cd tests && ../.venv/bin/python` stays inside; `../shared/DESIGN.md` did not."""
    outside = [m.group() for m in re.finditer(r"\.\./[\w.-]+", README)
               if m.group()[3:] not in (*FOLDERS, ".venv")]
    assert outside == [], "a clone has nothing beside it: name files inside the repository"


def test_the_readme_links_the_design_document_in_the_repository():
    assert "(docs/design.md)" in README and (ROOT / "docs" / "design.md").is_file()


def test_the_readme_tells_the_demos_opening_hours_as_the_demo_data_has_them():
    from app.booking import demo

    text = " ".join(README.split())
    (start, end), (start2, end2) = demo.MORNING, demo.AFTERNOON
    morning, afternoon = f"{start:%-H:%M}-{end:%-H:%M}", f"{start2:%-H:%M}-{end2:%-H:%M}"
    assert f"Monday to Friday {morning} and {afternoon}" in text
    assert f"{demo.SATURDAY_HALL} also on Saturday mornings {morning}" in text


def _make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][\w-]*)\s*:(?!=)", makefile, re.M))


def test_every_make_command_in_the_readme_is_a_target():
    commands = set()
    for match in CODE.finditer(README):
        code = match.group(1) or match.group(2)
        commands |= set(re.findall(r"(?:^|[\s;&|(])make\s+([a-z][\w-]*)", code))
    assert {"run", "test", "setup-dev"} <= commands
    assert commands <= _make_targets(), f"not in the Makefile: {commands - _make_targets()}"


# -- the Lighthouse benchmark's npm lock file --------------------------------------------------

def _version(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.match(r"\d+(?:\.\d+)*", text).group().split("."))


def _satisfies(version: str, spec: str) -> bool:
    """npm's range syntax, as far as this lock file uses it: *, x, x.y.z, ^, ~, >=, <, ||."""
    have = (_version(version) + (0, 0))[:3]
    return any(all(_comparator(have, c) for c in alternative.split())
               for alternative in spec.split("||"))


def _comparator(have: tuple[int, ...], part: str) -> bool:
    op, text = re.fullmatch(r"(\^|~|>=|<=|>|<|=)?v?(.+)", part.strip()).groups()
    if text in ("*", "x"):
        return True
    given = _version(text)
    want = (given + (0, 0))[:3]
    if op == ">=":
        return have >= want
    if op == ">":
        return have > want
    if op == "<=":
        return have <= want
    if op == "<":
        return have < want
    if op == "^":
        fixed = next((n for n, v in enumerate(want) if v), len(given) - 1)
        return have >= want and have[:fixed + 1] == want[:fixed + 1]
    if op == "~":
        return have >= want and have[:min(len(given), 2)] == want[:min(len(given), 2)]
    return have[:len(given)] == given  # 1.2.3 exactly, or 1 meaning 1.x.x


def _resolve(packages: dict, where: str, name: str) -> dict | None:
    """Node's lookup: node_modules/<name> beside the requirer, then in each folder above it."""
    base = where
    while True:
        found = packages.get(f"{base}/node_modules/{name}" if base else f"node_modules/{name}")
        if found or not base:
            return found
        base = base.rsplit("/node_modules/", 1)[0] if "/node_modules/" in base else ""


def _overridden(overrides: dict, owner: str, name: str, spec: str) -> str:
    """package.json's overrides: {"owner": {"name": "1.0.0"}} or {"name": "1.0.0"}."""
    nested = overrides.get(owner)
    if isinstance(nested, dict) and name in nested:
        return nested[name]
    return overrides[name] if isinstance(overrides.get(name), str) else spec


def _lock_problems(package: dict, lock: dict) -> list[str]:
    packages, problems = lock["packages"], []
    if packages[""].get("dependencies") != package.get("dependencies"):
        problems.append("the lock file's dependencies differ from package.json's")
    overrides = package.get("overrides", {})
    for where, entry in packages.items():
        owner = where.rsplit("node_modules/", 1)[-1]
        for name, spec in {**entry.get("optionalDependencies", {}),
                           **entry.get("dependencies", {})}.items():
            spec = _overridden(overrides, owner, name, spec)
            found = _resolve(packages, where, name)
            if found is None:
                if name not in entry.get("optionalDependencies", {}):
                    problems.append(f"{owner or 'the project'} needs {name}, not in the lock")
            elif not re.match(r"[\^~<>=*\dxv]", spec):
                problems.append(f"{owner} asks for {name}@{spec}, a tag that moves: pin it in "
                                "package.json's overrides")
            elif not _satisfies(found["version"], spec):
                problems.append(f"{owner or 'the project'} needs {name}@{spec}, the lock has "
                                f"{found['version']}")
    return problems


def test_the_lighthouse_lock_file_installs_as_it_is():
    """`npm ci` refuses a lock file that disagrees with package.json: check what it checks."""
    folder = ROOT / "bench" / "lighthouse"
    package = json.loads((folder / "package.json").read_text())
    lock = json.loads((folder / "package-lock.json").read_text())
    assert lock["lockfileVersion"] >= 2 and lock["packages"][""]["name"] == package["name"]
    assert _lock_problems(package, lock) == []


def test_the_lock_check_catches_what_npm_ci_refused():
    """The lock file as it was when `npm ci` failed on a fresh clone."""
    package = {"name": "x", "dependencies": {"lighthouse": "12.8.2"}}
    lock = {"packages": {
        "": {"dependencies": {"lighthouse": "12.8.2"}},
        "node_modules/lighthouse": {"version": "12.8.2",
                                    "dependencies": {"third-party-web": "^0.27.0",
                                                     "tldts": "^7.0.12"}},
        "node_modules/@paulirish/trace_engine": {"version": "0.0.59",
                                                 "dependencies": {"third-party-web": "latest"}},
        "node_modules/third-party-web": {"version": "0.27.0"},
        "node_modules/tldts": {"version": "6.1.0"},
    }}
    problems = _lock_problems(package, lock)
    assert any("third-party-web@latest" in p for p in problems)
    assert any("tldts@^7.0.12" in p for p in problems)
    pinned = {**package, "overrides": {"@paulirish/trace_engine": {"third-party-web": "0.27.0"}}}
    assert [p for p in _lock_problems(pinned, lock) if "third-party-web" in p] == []
    assert _lock_problems({**package, "dependencies": {"lighthouse": "12.9.0"}}, lock)


@pytest.mark.parametrize(("version", "spec", "ok"), [
    ("1.2.3", "^1.0.0", True), ("2.0.0", "^1.0.0", False), ("0.27.5", "^0.27.0", True),
    ("0.28.0", "^0.27.0", False), ("1.2.9", "~1.2.3", True), ("1.3.0", "~1.2.3", False),
    ("1.5.0", ">=1.2.0 <2", True), ("2.0.0", ">=1.2.0 <2", False), ("3.0.0", "^1.0.0 || ^3.0.0",
                                                                    True),
    ("0.0.1", "*", True), ("7.5.5", "7", True), ("8.0.0", "7", False), ("1.2.3", "1.2.3", True),
])
def test_npm_ranges(version, spec, ok):
    assert _satisfies(version, spec) is ok
