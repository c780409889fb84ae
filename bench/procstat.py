"""CPU-seconds used by a set of server processes, read from /proc (Linux only).

A process tree's CPU is the sum, over its live processes, of utime + stime + cutime + cstime:
the kernel adds a child's own and its children's times to its parent's cutime/cstime when the
parent reaps it, so a gunicorn worker recycled mid-run, or a PostgreSQL backend that ended with its
connection, is still counted once, and never twice. The difference of two readings is what the
trees used in between.
"""

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(name, parent pid, ticks used by it and its reaped children), or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    name = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    # fields[0] is the state (field 3 of proc(5)); utime..cstime are fields 14-17
    return name, int(fields[1]), sum(int(v) for v in fields[11:15])


def processes() -> dict[int, tuple[str, int, int]]:
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (row := _stat(int(entry))) is not None:
            table[int(entry)] = row
    return table


def tree(roots: set[int], table: dict) -> set[int]:
    """The roots and every live descendant."""
    members, grew = set(roots) & table.keys(), True
    while grew:
        more = {pid for pid, (_, parent, _) in table.items() if parent in members} - members
        members |= more
        grew = bool(more)
    return members


def by_name(*names: str, table: dict | None = None) -> set[int]:
    """The eldest process of each name: a server's master (postmaster, redis-server, nginx)."""
    table = processes() if table is None else table
    found = set()
    for name in names:
        pids = {pid for pid, (n, _, _) in table.items() if n == name}
        found |= {pid for pid in pids if table[pid][1] not in pids}  # its parent is not one
    return found


def cpu_seconds(roots: dict[str, set[int]]) -> dict[str, float]:
    """CPU-seconds used so far by each named group of process trees."""
    table = processes()
    return {group: sum(table[pid][2] for pid in tree(pids, table)) / TICKS
            for group, pids in roots.items()}


def used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {group: after[group] - before.get(group, 0.0) for group in after}
