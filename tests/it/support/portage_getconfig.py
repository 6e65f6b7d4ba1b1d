"""Portage's own make.conf reader, as the test oracle.

Reads a JSON list of jobs on stdin and prints one JSON result per job (a list):
  {"root": DIR, "mode": "makeconf"}  what portage.package.ebuild.config reads for
      make.conf under DIR: DIR/etc/make.conf then DIR/etc/portage/make.conf (a file or a
      directory read recursively), each getconfig() expanding with the variables read
      before, the later file winning (config.py's first pass, before the profile).
  {"root": DIR, "mode": "stacked"}  as "makeconf", each incremental variable
      (portage.const.INCREMENTALS) stacked as config.py stacks it (portage.util.stack_lists:
      `-word` removes, `-*` clears), its words joined by one space.
  {"root": DIR, "mode": "file", "path": P}  getconfig(DIR/P) alone, expand={}.
Result: {"vars": {NAME: VALUE}} or {"error": MESSAGE, "line": N}: N is the line emerge
stops at, from the exception or from what getconfig wrote to stderr before raising
(shlex's "No closing quotation" carries no line; getconfig prints it), or null.

The only change to Portage: an absolute path in a `source` line is looked up under DIR,
as distsetup resolves system paths under --root.
"""
import contextlib
import io
import json
import os
import re
import shlex
import sys

from portage.const import INCREMENTALS
from portage.util import getconfig, stack_lists

ROOT = ["/"]
_plain_sourcehook = shlex.shlex.sourcehook


def _rooted_sourcehook(self, newfile):
    if newfile[:1] == '"':
        newfile = newfile[1:-1]
    if os.path.isabs(newfile) and not newfile.startswith(ROOT[0] + "/"):
        newfile = ROOT[0] + newfile
    return _plain_sourcehook(self, newfile)


shlex.shlex.sourcehook = _rooted_sourcehook


def read(path, expand):
    return getconfig(
        path, tolerant=False, allow_sourcing=True, expand=expand, recursive=True
    )


def make_conf(root):
    paths = [
        os.path.join(root, "etc", "make.conf"),
        os.path.join(root, "etc", "portage", "make.conf"),
    ]
    try:
        if os.path.samefile(*paths):
            paths.pop()
    except OSError:
        pass
    seen = {}
    for p in paths:
        got = read(p, seen)
        if got is not None:
            seen.update(got)
    return seen


def stop_line(text):
    found = re.findall(r"line (\d+)", text)
    return int(found[-1]) if found else None


def run(job):
    root = os.path.realpath(job["root"])
    ROOT[0] = root
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            if job["mode"] == "makeconf":
                return {"vars": make_conf(root)}
            if job["mode"] == "stacked":
                got = make_conf(root)
                for k in INCREMENTALS:
                    if k in got:
                        got[k] = " ".join(stack_lists([got[k].split()], incremental=1))
                return {"vars": got}
            got = read(os.path.join(root, job["path"].lstrip("/")), {})
            return {"vars": got or {}}
    except Exception as e:  # what emerge would die of
        line = stop_line(str(e))
        if line is None:
            line = stop_line(said.getvalue())
        return {"error": "%s: %s" % (type(e).__name__, e), "line": line}
    finally:
        sys.stderr.write(said.getvalue())


def main():
    jobs = json.load(sys.stdin)
    # getconfig reports bad substitutions on stderr; keep stdout for the answer.
    json.dump([run(j) for j in jobs], sys.stdout)


main()
