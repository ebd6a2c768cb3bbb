#!/usr/bin/env python3
"""Generate Zeppelin notes (notebooks/zeppelin/*.zpln) from the Databricks source notebooks.

The .scala notebooks are the only maintained source; run this after editing one:
    python3 notebooks/gen_zeppelin.py
Markdown cells (`// MAGIC %md`) become `%md` paragraphs, code cells `%spark` paragraphs.
"""
import glob
import hashlib
import json
import os
import re

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
            out.append(("spark", "\n".join(l for l in lines if not l.startswith("// DBTITLE")).strip("\n")))
    return out


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
    os.makedirs(os.path.join(HERE, "zeppelin"), exist_ok=True)
    for src in sorted(glob.glob(os.path.join(HERE, "*.scala"))):
        name = os.path.splitext(os.path.basename(src))[0]
        with open(src, encoding="utf-8") as f:
            paras = paragraphs(f.read())
        dst = os.path.join(HERE, "zeppelin", name + ".zpln")
        with open(dst, "w", encoding="utf-8") as f:
            json.dump(note(name, paras), f, indent=2)
            f.write("\n")
        print(f"wrote {os.path.relpath(dst)} ({len(paras)} paragraphs)")


main()
