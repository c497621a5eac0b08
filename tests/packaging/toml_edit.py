#!/usr/bin/env python3
"""Applies the documented edits to an installed x2gojump configuration, as an admin would with an
editor: a key's line is replaced in place (comments around it stay), a missing key is added at the
top of its table, and array tables can be dropped and new text appended.

Usage: toml_edit.py FILE [--set TABLE.KEY VALUE]... [--drop-array NAME]... [--append TEXT]...
VALUE is TOML text, e.g. '["127.0.0.1:2222"]' or '"dc=example,dc=org"'. TABLE names a [table] or
the first [[array]] table of that name; only single-line values of the existing key are supported,
which is what the shipped examples use.
"""
import argparse
import re
import sys

parser = argparse.ArgumentParser()
parser.add_argument("file")
parser.add_argument("--set", nargs=2, action="append", default=[], metavar=("TABLE.KEY", "VALUE"))
parser.add_argument("--drop-array", action="append", default=[], metavar="NAME")
parser.add_argument("--append", action="append", default=[], metavar="TEXT")
args = parser.parse_args()

HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?\s*(#.*)?$")

with open(args.file) as f:
    lines = f.read().split("\n")


def tables(lines):
    """(kind, name, header index, end index) of every table; kind is '[' or '[['."""
    found = []
    for i, line in enumerate(lines):
        m = HEADER.match(line)
        if m:
            if found:
                found[-1][3] = i
            found.append([m.group(1), m.group(2), i, len(lines)])
    return found


for name in args.drop_array:
    for kind, table, start, end in reversed(tables(lines)):
        if kind == "[[" and table == name:
            # Comments and blank lines after a table's last key introduce what follows: kept.
            while end > start + 1 and (not lines[end - 1].strip() or
                                        lines[end - 1].lstrip().startswith("#")):
                end -= 1
            del lines[start:end]

for dotted, value in args.set:
    table, key = dotted.rsplit(".", 1)
    matches = [t for t in tables(lines) if t[1] == table]
    if not matches:
        sys.exit("toml_edit: no [%s] table in %s" % (table, args.file))
    _, _, start, end = matches[0]
    key_line = re.compile(r"^\s*%s\s*=" % re.escape(key))
    for i in range(start + 1, end):
        if key_line.match(lines[i]):
            lines[i] = "%s = %s" % (key, value)
            break
    else:
        lines.insert(start + 1, "%s = %s" % (key, value))

text = "\n".join(lines)
for extra in args.append:
    text = text.rstrip("\n") + "\n\n" + extra.rstrip("\n") + "\n"

with open(args.file, "w") as f:
    f.write(text)
