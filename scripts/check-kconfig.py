#!/usr/bin/env python3
"""Kconfig hygiene: every CONFIG_SSE_* the C code names is defined in
Kconfig, and every Kconfig symbol has a prompt, help text and (int) a range
and a default. Prints problems; exit 1 if any."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
text = (root / "Kconfig").read_text()
blocks = re.split(r"\n(?=(?:config|menuconfig|choice|endchoice|menu|endmenu|if|endif|comment)\b)", text)
defined, problems = set(), []
for b in blocks:
    m = re.match(r"(?:config|menuconfig) (SSE_\w+)\n", b)
    if not m:
        continue
    name = m.group(1)
    defined.add("CONFIG_" + name)
    if not re.search(r"\n\thelp\n\t  \S", b):
        problems.append(f"Kconfig: {name} has no help text")
    if re.search(r"\n\tint\b", b):
        if not re.search(r"\n\trange ", b):
            problems.append(f"Kconfig: {name} (int) has no range")
        if not re.search(r"\n\tdefault ", b):
            problems.append(f"Kconfig: {name} (int) has no default")
    if not re.search(r'\n\t(?:bool|int|string|hex) "', b):
        problems.append(f"Kconfig: {name} has no prompt")

# A build without Kconfig (SSE_USER_CONFIG) gets every int's default from
# core/sse_opt.h: the same value as Kconfig's unconditional default.
opt = (root / "core" / "sse_opt.h").read_text()
for b in blocks:
    m = re.match(r"config (SSE_\w+)\n", b)
    if not m or not re.search(r"\n\tint\b", b):
        continue
    name = m.group(1)
    dflt = [d for d in re.findall(r"\n\tdefault (\S+)(.*)", b) if not d[1].strip()]
    fb = re.search(r"#define CONFIG_%s (\S+)" % name, opt)
    before = text.split("config " + name + "\n")[0]
    if re.search(r"^if SSE_TLS$", before.rsplit("\nendif", 1)[-1], re.M):
        continue  # TLS options: only read by a TLS build, which has Kconfig's header
    if not fb:
        problems.append(f"core/sse_opt.h: no fallback for CONFIG_{name}")
    elif dflt and fb.group(1) != dflt[-1][0]:
        problems.append(f"core/sse_opt.h: CONFIG_{name} falls back to {fb.group(1)}, Kconfig says {dflt[-1][0]}")

used = {}
for d in ("core", "port", "include", "tests", "examples", "bench"):
    for f in (root / d).rglob("*"):
        if f.suffix not in (".c", ".h") or "node_modules" in f.parts:
            continue
        for m in re.finditer(r"CONFIG_SSE_\w+(?![/<\w])", f.read_text(errors="replace")):
            used.setdefault(m.group(0), str(f.relative_to(root)))
for sym in sorted(set(used) - defined):
    problems.append(f"{used[sym]}: {sym} is not defined in Kconfig")

for p in problems:
    print(p)
print(f"kconfig: {len(defined)} symbols, {len(used)} used in C, {len(problems)} problems")
sys.exit(1 if problems else 0)
