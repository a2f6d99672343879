#!/usr/bin/env python3
"""Every `sim` command the documentation shows still runs.

    docs_commands_test.py SOURCE_DIR SIM_BINARY

Students run docs/teaching.md's commands verbatim, and readers copy the
README's and the other guides'; a renamed flag, field or scenario would
break them without any other test noticing. This finds each `sim run`,
`sim check`, `sim bounds` and `sim sweep` command in the fenced and
indented code blocks of README.md, docs/*.md and analysis/README.md
(backslash continuations joined, `#` comments dropped) whose scenario file
exists in the source tree, and runs it in a scratch folder (with the
tree's `scenarios/` linked in):
  - `run`: as written, but cut to 1 s of simulated time, quiet and without
    `--plot` (plotting has its own tests), and without the memory check (a
    command of 10,000 peers must not fail on a small CI machine when it
    only runs for a second);
  - `check`, `bounds`: as written;
  - `sweep`: with `--emit-jobs`, which checks every varied field and value
    without running anything.
A command shown with the error it gives (`$ sim ...` and below it
`FILE: ...`) must exit 2 with that line. A command naming a
`scenarios/...yaml` that does not exist fails too.
Commands written as templates (FILE, DIR, N, ...) are skipped.
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

DOCS = ["README.md", "analysis/README.md"]
SUBCOMMANDS = {"run", "check", "bounds", "sweep"}
# A command may sit behind a prompt, a timer, a profiler or variables:
# `$ `, `/usr/bin/time -v `, `perf record -g `, `NAME=value `.
WRAPPER = r"(?:\$\s+)?(?:(?:/usr/bin/)?time(?:\s+-\S+)*\s+|perf\s+record(?:\s+-\S+)*\s+|[A-Z_]+=\S*\s+)*"
SIM_RE = re.compile(r"^" + WRAPPER + r"(?:build/bin/)?sim\s+(run|check|bounds|sweep)(?:\s|$)")


def code_lines(text):
    """Lines of fenced (```) and indented (4 spaces after a blank line)
    code blocks, stripped; "" where a block ends or a blank line falls."""
    out, fenced, indented, prev_blank = [], False, False, True
    for line in text.splitlines():
        blank = not line.strip()
        if line.lstrip().startswith("```"):
            fenced = not fenced
            out.append("")
        elif fenced:
            out.append(line.strip())
        elif line.startswith("    ") and (indented or prev_blank):
            indented = True
            out.append(line.strip())
        else:
            indented = indented and blank
            out.append("")
        prev_blank = blank
    return out


def commands(text):
    """(command, expected error) for each `sim ...` command: continuations
    joined, comments dropped. The expected error is the output line shown
    right below a `$ sim ...` command when it names a file (`FILE: ...`),
    as the docs show a refused command."""
    lines, cmds, i = code_lines(text), [], 0
    while i < len(lines):
        line = lines[i]
        if SIM_RE.match(line):
            cmd = line
            while cmd.endswith("\\") and i + 1 < len(lines) and lines[i + 1]:
                i += 1
                cmd = cmd[:-1] + " " + lines[i]
            shown = lines[i + 1] if i + 1 < len(lines) else ""
            error = (shown if line.startswith("$") and re.match(r"^\S+\.ya?ml: ", shown)
                     else None)
            cmds.append((cmd, error))
        i += 1
    return cmds


def words(cmd):
    try:
        ws = shlex.split(cmd, comments=True)
    except ValueError:
        return None
    # Drop what SIM_RE allows before `sim`.
    while ws and not re.match(r"^(?:build/bin/)?sim$", ws[0]):
        ws = ws[1:]
    # Stop at a pipe, a redirection or a second command.
    for j, w in enumerate(ws):
        if w in ("|", "&&", ";", "||", ">", "2>", ">>", "2>&1") or w.startswith(("2>", ">")):
            return ws[:j]
    return ws


def is_template(ws):
    return any(w in ("FILE", "DIR", "N", "...", "SCENARIO") or w.startswith(("[", "<"))
               or "..." in w or "$" in w for w in ws)


def scenario_of(ws):
    for w in ws[2:]:
        if w.endswith((".yaml", ".yml")) and not w.startswith("-"):
            return w
    return None


def prepare(sub, ws, sim):
    """The argument list to run for a documented command. An absolute
    folder or file (`--out /tmp/x`, `--trace /tmp/t`) is moved into the
    scratch folder, so that the test writes nothing outside it."""
    args = [sim] + [w.lstrip("/").replace("/", "_") if w.startswith("/") else w
                    for w in ws[1:]]
    if sub == "run":
        out, limited = [], False
        for w in args:
            if w in ("--plot", "--quiet", "--no-memory-check"):
                continue
            if w.startswith("stop.max_time="):  # also stands in for a placeholder (Ts)
                w, limited = "stop.max_time=1s", True
            out.append(w)
        out += ["--quiet", "--no-memory-check"]
        return out if limited else out + ["--set", "stop.max_time=1s"]
    if sub == "sweep":
        out, skip = [], False
        for w in args:
            if skip:
                skip = False
                continue
            if w in ("--plot", "--plot-paired-to", "--plot-diff-to"):
                skip = True  # and the value after it
                continue
            if w.startswith("--plot") or w in ("--quiet", "--emit-jobs"):
                continue
            out.append(w)
        return out + ["--emit-jobs", "--quiet"]
    return args


def main():
    src, sim = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    docs = DOCS + sorted("docs/" + f for f in os.listdir(os.path.join(src, "docs"))
                         if f.endswith(".md"))
    ran, skipped, failures = 0, 0, []
    with tempfile.TemporaryDirectory() as work:
        for tree in ("scenarios", "tests"):  # tests/net/small_real.yaml
            os.symlink(os.path.join(src, tree), os.path.join(work, tree))
        for doc in docs:
            path = os.path.join(src, doc)
            if not os.path.exists(path):
                continue
            with open(path, encoding="utf-8") as f:
                cmds = commands(f.read())
            for cmd, error in cmds:
                ws = words(cmd)
                if not ws or is_template(ws):
                    skipped += 1
                    print(f"skipped (a template): {doc}: {cmd}")
                    continue
                sub = ws[1]
                scen = scenario_of(ws)
                if scen is None or not os.path.exists(os.path.join(src, scen)):
                    if scen and scen.startswith("scenarios/"):
                        failures.append(f"{doc}: {cmd}\n    no such scenario: {scen}")
                    else:
                        skipped += 1
                        print(f"skipped (no scenario in the tree): {doc}: {cmd}")
                    continue
                args = prepare(sub, ws, sim)
                r = subprocess.run(args, cwd=work, capture_output=True, text=True, timeout=600)
                ran += 1
                if error is not None:
                    got = r.stderr.strip().splitlines()[:1]
                    if r.returncode != 2 or got != [error]:
                        failures.append(f"{doc}: {cmd}\n    shows the error: {error}\n    "
                                        f"exit {r.returncode}, said: {r.stderr.strip()[-500:]}")
                elif r.returncode != 0:
                    failures.append(f"{doc}: {cmd}\n    ran: {shlex.join(args)}\n    exit "
                                    f"{r.returncode}: {r.stderr.strip()[-500:]}")
    print(f"{ran} documented sim commands ran, {skipped} skipped as templates "
          f"or without a scenario in the tree, {len(failures)} failed")
    for f in failures:
        print("FAILED " + f, file=sys.stderr)
    return 1 if failures or ran == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
