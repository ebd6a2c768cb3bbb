#!/usr/bin/env python3
"""Split a Zeppelin note (.zpln) into one file per Spark (Scala) paragraph.

Usage: zpln_cells.py NOTE OUTDIR
Writes OUTDIR/cellNNN.scala for every `%spark` paragraph (the interpreter line removed; `%md`
paragraphs are skipped) and prints one `runCell("...")` line per cell for the REPL prelude's runner.
Any other interpreter (%sql, %pyspark, ...) is an error: the runner only has Scala.
"""
import json
import os
import sys


def main():
    src, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    with open(src, encoding="utf-8") as f:
        note = json.load(f)
    n = 0
    for i, para in enumerate(note["paragraphs"]):
        text = para.get("text") or ""
        first, _, body = text.partition("\n")
        interpreter = first.strip() if first.startswith("%") else note.get("defaultInterpreterGroup", "spark")
        if not first.startswith("%"):
            body = text
        if interpreter == "%md":
            continue
        if interpreter not in ("%spark", "%spark.spark", "spark"):
            sys.exit("%s: paragraph %d uses %s; only %%spark (Scala) paragraphs can run here" % (src, i, interpreter))
        if not body.strip():
            continue
        n += 1
        path = os.path.join(outdir, "cell%03d.scala" % n)
        with open(path, "w", encoding="utf-8") as f:
            f.write(body + "\n")
        print('runCell("%s")' % path)
    if n == 0:
        sys.exit("no Spark paragraphs in " + src)


main()
