#!/usr/bin/env python3
"""Kconfig hygiene: every CONFIG_SSE_* the C code names is defined in
Kconfig, every Kconfig symbol has a prompt, help text and (int) a range
and a default, and port/sse_opt.h's fallbacks equal Kconfig's defaults on
every port, with and without TLS. Prints problems; exit 1 if any."""
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
# port/sse_opt.h. For each port and with and without TLS, kconfiglib's
# default must equal what the preprocessor makes of sse_opt.h's fallbacks
# (conditional defaults included).
import os, subprocess, tempfile
try:
    import kconfiglib
except ImportError:
    sys.path.insert(0, "/usr/lib/python3/dist-packages")
    import kconfiglib
os.environ.setdefault("KCONFIG_CONFIG", os.devnull)
for port in ("SSE_PORT_POSIX", "SSE_PORT_LWIP"):
    for tls in (False, True):
        kc = kconfiglib.Kconfig(str(root / "Kconfig"), warn=False)
        kc.syms[port].set_value(2)
        if tls:
            kc.syms["SSE_HAVE_MBEDTLS"].set_value(2)
            kc.syms["SSE_TLS"].set_value(2)
        scen = port.split("_")[-1].lower() + ("+tls" if tls else "")
        # Every bool the scenario turns on, as its header would define it.
        defs = ["-DCONFIG_" + b.name for b in kc.unique_defined_syms
                if b.name.startswith("SSE_") and b.type == kconfiglib.BOOL and b.str_value == "y"]
        with tempfile.TemporaryDirectory() as d:
            src = pathlib.Path(d) / "probe.c"
            src.write_text('#include "sse_opt.h"\n')
            out = subprocess.run(["cc", "-E", "-dM", "-I", str(root / "port")] + defs + [str(src)],
                                 capture_output=True, text=True, check=True).stdout
        fb = dict(re.findall(r"#define (CONFIG_SSE_\w+) (\S+)", out))
        for sym in kc.unique_defined_syms:
            if not sym.name.startswith("SSE_") or sym.type != kconfiglib.INT or not sym.visibility:
                continue
            name = "CONFIG_" + sym.name
            if name not in fb:
                problems.append(f"port/sse_opt.h ({scen}): no fallback for {name}")
                continue
            # A fallback may name another symbol ("default SSE_MAX_CONNECTIONS").
            v, hops = fb[name], 0
            while v in fb and hops < 8:
                v, hops = fb[v], hops + 1
            if v != sym.str_value:
                problems.append(f"port/sse_opt.h ({scen}): {name} falls back to {v}, "
                                f"Kconfig says {sym.str_value}")

used = {}
for d in ("core", "port", "include", "tests", "examples", "bench", "tools"):
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
