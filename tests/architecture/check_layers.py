#!/usr/bin/env python3
"""check_layers.py — keeps the host's dependencies running one way.

Each folder under host/src is a layer; a file may include headers of its own layer and of the
layers below it, never above it or beside it. The order (top to bottom):

    Host, main  →  pluginsystem  →  jobs  →  http | db  →  core  →  the SDK (yieldhost/...)

http and db are peers: neither includes the other, so the server can run without a database and
the database layer can be used from a tool that serves nothing. Prints one line per offending
include and exits 1, or prints a one-line summary and exits 0.
"""
import pathlib
import re
import sys

RANK = {"core": 0, "db": 1, "http": 1, "jobs": 2, "pluginsystem": 3, "": 4}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(path: pathlib.Path, src: pathlib.Path) -> str:
    rel = path.relative_to(src)
    return rel.parts[0] if len(rel.parts) > 1 else ""


def allowed(source: str, target: str) -> bool:
    return source == target or RANK[target] < RANK[source]


def main() -> int:
    src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parents[2] / "host" / "src")
    problems, checked = [], 0
    for path in sorted(src.rglob("*")):
        if path.suffix not in (".h", ".cpp"):
            continue
        source = layer_of(path, src)
        if source not in RANK:
            problems.append(f"{path.relative_to(src)}: folder '{source}' is not a known layer (add it to RANK in {__file__})")
            continue
        for included in INCLUDE.findall(path.read_text(encoding="utf-8")):
            checked += 1
            if included.startswith("yieldhost/"):
                continue  # the SDK sits under every layer
            parts = included.split("/")
            target = parts[0] if len(parts) > 1 else ""
            if target not in RANK or (target == "" and not (src / included).exists()):
                problems.append(f"{path.relative_to(src)}: #include \"{included}\" does not name a layer folder")
            elif not allowed(source, target):
                problems.append(f"{path.relative_to(src)}: #include \"{included}\" goes from {source or 'top level'} "
                                f"to {target or 'top level'}, against the layer order")
    for line in problems:
        print(line)
    if problems:
        return 1
    print(f"layers: {checked} includes checked, all run one way")
    return 0


if __name__ == "__main__":
    sys.exit(main())
