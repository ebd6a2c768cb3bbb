#!/usr/bin/env python3
"""Generate Zeppelin notes (notebooks/zeppelin/*.zpln) from the Databricks source notebooks.

The .scala notebooks are the only maintained source; run this after editing one:
    python3 notebooks/gen_zeppelin.py
    python3 notebooks/gen_zeppelin.py --check   # exit 1 if a .zpln differs from what this writes (CI)
Markdown cells (`// MAGIC %md`) become `%md` paragraphs, code cells `%spark` paragraphs. Databricks'
`display(df)` becomes `z.show(df)`: Zeppelin's Spark interpreter has no `display`; its ZeppelinContext
`z` shows a DataFrame as a table.
"""
import glob
import hashlib
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def paragraphs(text):
    out = []
    for cell in re.split(r"^// COMMAND -{10}\s*$", text, flags=re.M):
        lines = [l for l in cell.strip("\n").splitlines() if not l.startswith("// Databricks notebook source")]
        if not "".join(lines).strip():
            continue
        if all(l.startswith("// MAGIC") or not l.strip() for l in lines):
            body = "\n".join(re.sub(r"^// MAGIC ?", "", l) for l in lines if l.strip())
            out.append(("md", body[len("%md"):].lstrip("\n") if body.startswith("%md") else body))
        else:
            code = "\n".join(l for l in lines if not l.startswith("// DBTITLE")).strip("\n")
            out.append(("spark", zeppelin_code(code)))
    return out


def zeppelin_code(code):
    """Databricks' display(x) -> Zeppelin's z.show(x) (whole word, not obj.display or redisplay)."""
    return re.sub(r"(?<![\w.])display\(", "z.show(", code)


def note(name, paras):
    ps = []
    for i, (kind, body) in enumerate(paras):
        pid = hashlib.sha1(f"{name}:{i}".encode()).hexdigest()[:16]
        ps.append({
            "id": f"paragraph_{pid}",
            "text": f"%{kind}\n{body}",
            "config": {"editorMode": "ace/mode/markdown" if kind == "md" else "ace/mode/scala",
                       "editorHide": kind == "md", "tableHide": False},
            "settings": {"params": {}, "forms": {}},
            "results": {},
            "status": "READY",
        })
    return {"paragraphs": ps, "name": name, "id": hashlib.sha1(name.encode()).hexdigest()[:9].upper(),
            "defaultInterpreterGroup": "spark", "version": "0.10.1", "noteParams": {}, "noteForms": {},
            "angularObjects": {}, "config": {"isZeppelinNotebookCronEnable": False}, "info": {},
            "path": f"/spark-sam/{name}"}


def main():
    check = sys.argv[1:] == ["--check"]
    if sys.argv[1:] and not check:
        sys.exit("usage: gen_zeppelin.py [--check]")
    os.makedirs(os.path.join(HERE, "zeppelin"), exist_ok=True)
    stale = []
    for src in sorted(glob.glob(os.path.join(HERE, "*.scala"))):
        name = os.path.splitext(os.path.basename(src))[0]
        with open(src, encoding="utf-8") as f:
            paras = paragraphs(f.read())
        dst = os.path.join(HERE, "zeppelin", name + ".zpln")
        text = json.dumps(note(name, paras), indent=2) + "\n"
        if check:
            old = open(dst, encoding="utf-8").read() if os.path.exists(dst) else None
            if old != text:
                stale.append(os.path.relpath(dst))
            continue
        with open(dst, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {os.path.relpath(dst)} ({len(paras)} paragraphs)")
    if stale:
        sys.exit("out of date (run python3 notebooks/gen_zeppelin.py): " + ", ".join(stale))


main()
