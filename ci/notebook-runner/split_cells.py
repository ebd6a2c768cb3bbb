#!/usr/bin/env python3
"""Split a Databricks source-format Scala notebook into one file per code cell.

Usage: split_cells.py NOTEBOOK OUTDIR
Writes OUTDIR/cellNNN.scala for every cell that has code (markdown-only cells, `// MAGIC` lines and
the header are dropped) and prints one `runCell("...")` line per cell for the REPL prelude's runner.
"""
import os
import re
import sys


def main():
    src, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    text = open(src, encoding="utf-8").read()
    cells = re.split(r"^// COMMAND -{10}\s*$", text, flags=re.M)
    n = 0
    for cell in cells:
        body = [line for line in cell.splitlines()
                if not line.startswith("// MAGIC") and not line.startswith("// Databricks notebook source")
                and not line.startswith("// DBTITLE")]
        if not "".join(body).strip():
            continue
        n += 1
        path = os.path.join(outdir, "cell%03d.scala" % n)
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(body) + "\n")
        print('runCell("%s")' % path)
    if n == 0:
        sys.exit("no code cells in " + src)


main()
