#!/usr/bin/env python3
"""The folder tree is the architecture: every #include "..." of core/, app/ and views/ points
at its own folder or a lower one (docs/architecture.md). Run by CTest as check_layering.

Layers, lowest first. A file may include files of its own layer and of lower layers; the views
of one picture are peers that share only views/widgets/ (views never talk to each other).
core/ includes no Qt header; nothing but core/error.h, app/main.cpp and the CMake files lies at
the top of core/, app/ or views/."""
import pathlib
import re
import sys

LAYERS = [
    ["core/error.h"],
    ["core/tensor"],
    ["core/tokenizer"],
    ["core/model"],
    ["core/formats"],
    ["core/sampling"],
    ["core/analysis"],
    ["core/train"],
    ["app/session"],
    ["views/widgets"],
    ["views/prompt", "views/distribution", "views/attention", "views/layers",
     "views/parameters", "views/compare", "views/walk", "views/interventions"],
    ["app/gui"],
    ["app/cli"],
    ["app/main.cpp"],
]
TOP_LEVEL_ALLOWED = {"core/error.h", "app/main.cpp", "app/CMakeLists.txt"}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.MULTILINE)


def group_of(path):
    """(layer index, group name) of a repository path, or None outside the layered tree."""
    for level, groups in enumerate(LAYERS):
        for group in groups:
            if path == group or path.startswith(group + "/"):
                return level, group
    return None


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    problems, files, includes = [], 0, 0
    for top in ("core", "app", "views"):
        for entry in sorted((root / top).iterdir()):
            rel = entry.relative_to(root).as_posix()
            if entry.is_file() and rel not in TOP_LEVEL_ALLOWED:
                problems.append(f"{rel}: a file at the top of {top}/ (it belongs in a subfolder)")
        for source in sorted((root / top).rglob("*")):
            if source.suffix not in (".h", ".cpp"):
                continue
            rel = source.relative_to(root).as_posix()
            mine = group_of(rel)
            if mine is None:
                problems.append(f"{rel}: in no layer of tests/check_layering.py")
                continue
            files += 1
            text = source.read_text(encoding="utf-8")
            for match in INCLUDE.finditer(text):
                kind, target = match.groups()
                line = text.count("\n", 0, match.start()) + 1
                if kind == "<":
                    if top == "core" and re.match(r"Q[A-Za-z]*(/|$)", target):
                        problems.append(f"{rel}:{line}: core/ includes Qt (<{target}>)")
                    continue
                includes += 1
                theirs = group_of(target)
                if theirs is None:
                    if not (root / target).exists() and not target.endswith(".moc"):
                        problems.append(f"{rel}:{line}: includes \"{target}\", no such file")
                    continue
                if not (root / target).exists():
                    problems.append(f"{rel}:{line}: includes \"{target}\", no such file")
                if theirs[0] > mine[0]:
                    problems.append(f"{rel}:{line}: {mine[1]} includes {target} of the higher "
                                    f"layer {theirs[1]}")
                elif theirs[0] == mine[0] and theirs[1] != mine[1]:
                    problems.append(f"{rel}:{line}: {mine[1]} includes {target} of its peer "
                                    f"{theirs[1]} (peers share only a lower layer)")
    for problem in problems:
        print(problem)
    print(f"check_layering: {files} files, {includes} project includes, "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
