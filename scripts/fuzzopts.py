"""What fuzz/<target>.options asks of libFuzzer, shared by scripts/fuzz.py and
scripts/regressions.py so that a campaign and the regression collector run a target alike."""

import os


def lf_options(target):
    """The key = value lines of the file's [libfuzzer] section as -key=value flags."""
    out, on = [], False
    path = os.path.join("fuzz", target + ".options")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("["):
                    on = line == "[libfuzzer]"
                elif on and "=" in line:
                    k, v = (x.strip() for x in line.split("=", 1))
                    out.append("-%s=%s" % (k, v))
    return out
