#!/usr/bin/env python3
"""Every code example in the SDK headers and in docs/ is a compiled snippet, shown exactly.

Snippets live in sdk/examples/snippets/ between "// snippet: <name>" and "// end snippet"; that
plugin is built in the tests build and run by tst_snippets. An example names its snippet on the
comment line before it:

    // Example (snippet "database-query"):
    //   const QVariantList params{id};
    //   ...

(in Markdown: a line `<!-- snippet "name" -->` before the ```cpp fence). This check fails when an
example differs from its snippet, names one that does not exist, or is not marked at all (in a
header: comment lines indented by three or more spaces; in docs: a ```cpp fence), and when a
snippet is shown nowhere. Usage: snippets.py <source dir>
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
errors = []


def dedent(lines):
    indents = [len(l) - len(l.lstrip(" ")) for l in lines if l.strip()]
    cut = min(indents) if indents else 0
    return [l[cut:].rstrip() for l in lines]


snippets = {}
for path in sorted((root / "sdk/examples/snippets").glob("*.[hc]*")):
    lines = path.read_text().splitlines()
    name, body = None, []
    for number, line in enumerate(lines, 1):
        start = re.match(r"\s*// snippet: ([a-z0-9-]+)\s*$", line)
        if start:
            name, body = start.group(1), []
            if name in snippets:
                errors.append(f"{path}:{number}: snippet \"{name}\" is defined twice")
        elif re.match(r"\s*// end snippet\s*$", line):
            snippets[name] = dedent(body)
            name = None
        elif name:
            body.append(line)

MARKER = re.compile(r'snippet "([a-z0-9-]+)"')
shown = set()


def compare(where, name, example):
    if name not in snippets:
        errors.append(f"{where}: names snippet \"{name}\", which sdk/examples/snippets does not define")
        return
    shown.add(name)
    if dedent(example) != snippets[name]:
        want = "\n".join("    " + l for l in snippets[name])
        got = "\n".join("    " + l for l in dedent(example))
        errors.append(f"{where}: the example differs from snippet \"{name}\"; it must read exactly\n{want}\n  but reads\n{got}")


for path in sorted((root / "sdk/include/yieldhost").rglob("*.h")):
    lines = path.read_text().splitlines()
    claimed = set()
    for i, line in enumerate(lines):
        m = MARKER.search(line) if line.startswith("//") else None
        if not m:
            continue
        j = i + 1
        while j < len(lines) and lines[j].startswith("//   "):
            j += 1
        claimed.update(range(i + 1, j))
        compare(f"{path.relative_to(root)}:{i + 1}", m.group(1), [l[2:] for l in lines[i + 1:j]])
    for i, line in enumerate(lines):
        if line.startswith("//   ") and i not in claimed and (i == 0 or i - 1 in claimed or not lines[i - 1].startswith("//   ")):
            if i - 1 not in claimed:
                errors.append(f"{path.relative_to(root)}:{i + 1}: an example that is not a compiled snippet "
                              f"(add it to sdk/examples/snippets and name it: // Example (snippet \"<name>\"):)")

for path in sorted((root / "docs").glob("*.md")):
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("```cpp"):
            continue
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        m = MARKER.search(lines[i - 1]) if i > 0 else None
        if not m:
            errors.append(f"{path.relative_to(root)}:{i + 1}: a C++ example that is not a compiled snippet "
                          f"(add it to sdk/examples/snippets and put <!-- snippet \"<name>\" --> before the fence)")
            continue
        compare(f"{path.relative_to(root)}:{i + 1}", m.group(1), lines[i + 1:j])

for name in sorted(set(snippets) - shown):
    errors.append(f"snippet \"{name}\" is shown in no header or doc")

for e in errors:
    print(e)
print(f"{len(snippets)} snippets, {len(shown)} shown, {len(errors)} problems")
sys.exit(1 if errors else 0)
