"""Build the Gradescope autograder bundle: python -m grader.bundle [--out dist/autograder.zip] [--part 1|2].

The zip holds, at its root, what Gradescope expects (setup.sh, run_autograder)
and what they need: the grader package, the reference layers.py and
homework.py (the expected values come from them), and requirements-grader.txt
with the runtime pin of numpy taken from requirements.txt.
"""

import argparse
import re
import sys
import zipfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
#: Only numpy runs in the grader; its pin is read from the pack's requirements.txt.
RUNTIME_PINS = ("numpy",)
#: A fixed timestamp: the same sources give the same zip.
STAMP = (2020, 1, 1, 0, 0, 0)


def runtime_requirements(requirements):
    pins = {}
    for line in requirements.splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if match and match[1].lower() in RUNTIME_PINS:
            pins[match[1].lower()] = f"{match[1]}=={match[2]}"
    missing = [name for name in RUNTIME_PINS if name not in pins]
    if missing:
        raise SystemExit(f"grader.bundle: requirements.txt has no pin for {', '.join(missing)}")
    header = "# The autograder's runtime: the pins of requirements.txt that the grader imports.\n"
    return header + "\n".join(pins[name] for name in RUNTIME_PINS) + "\n"


def _add(archive, name, data, executable=False):
    info = zipfile.ZipInfo(name, date_time=STAMP)
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


#: The line of run_autograder that names the part of the course it grades.
GRADED_PART_LINE = b'GRADED_PART=""\n'


def build(out, part=None):
    """Write the bundle to `out`; returns the list of its members.

    part: None to grade the whole course (100 points), 1 or 2 to grade that part
    alone (the homework's layers, 70 points; the layers after it, 30).
    """
    members = []
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as archive:
        for name in ("setup.sh", "run_autograder"):
            data = (PACKAGE / "gradescope" / name).read_bytes()
            if name == "run_autograder" and part is not None:
                if data.count(GRADED_PART_LINE) != 1:
                    raise SystemExit("grader.bundle: run_autograder has no GRADED_PART line to set")
                data = data.replace(GRADED_PART_LINE, f'GRADED_PART="{int(part)}"\n'.encode())
            _add(archive, name, data, executable=True)
            members.append(name)
        for path in sorted(PACKAGE.glob("*.py")) + [PACKAGE / "README.md"]:
            _add(archive, f"grader/{path.name}", path.read_bytes())
            members.append(f"grader/{path.name}")
        for name in ("layers.py", "homework.py"):
            _add(archive, name, (ROOT / name).read_bytes())
            members.append(name)
        requirements = runtime_requirements((ROOT / "requirements.txt").read_text())
        _add(archive, "requirements-grader.txt", requirements)
        members.append("requirements-grader.txt")
    return members


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grader.bundle", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "dist" / "autograder.zip"),
                        help="where to write the zip (default %(default)s)")
    parser.add_argument("--part", type=int, choices=[1, 2],
                        help="grade one part of the course alone: 1, the homework's layers (70 points), "
                             "or 2, the layers after it (30); default both (100)")
    args = parser.parse_args(argv)
    members = build(args.out, part=args.part)
    points = {None: 100, 1: 70, 2: 30}[args.part]
    print(f"Wrote {args.out} ({len(members)} files): upload it as the autograder of a "
          f"Gradescope programming assignment (Ubuntu 24.04 base image) worth {points} points.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
