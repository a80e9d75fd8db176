"""Shared by ci/pipeline.py and ci/check-workflows.py: what make can build here."""

import re
import subprocess

_RULE = re.compile(r"^([A-Za-z0-9_.][^\s:=#]*)::?(\s|$)")


def make_targets(root, make="make"):
    """Every explicit target in make's database (read without running any recipe)."""
    out = subprocess.run(
        [make, "-pRrq", "--no-print-directory", "__ci_list_targets__"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ).stdout
    targets = set()
    not_target = False
    for line in out.splitlines():
        if line.startswith("# Not a target"):
            not_target = True
            continue
        m = _RULE.match(line)
        if m:
            if not not_target:
                targets.add(m.group(1))
            not_target = False
        elif not line.strip():
            not_target = False
    targets.discard("__ci_list_targets__")
    return targets
