"""The instructor's reference: the full edition's layers.py and homework.py, loaded by path.

Loaded under private module names so that no `layers.py` in the working
directory, on sys.path or behind an editable install can stand in for it; the
submission is never imported here (it runs only in the sandboxed child).
"""

import importlib.util
import os
import sys
from pathlib import Path

#: The folder holding the reference layers.py and homework.py: the repository
#: root (or the bundle's root), one level above this package.
DEFAULT_DIR = Path(__file__).resolve().parent.parent


def reference_dir():
    return Path(os.environ.get("GRADER_REFERENCE_DIR", DEFAULT_DIR))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load():
    """Returns (layers, homework), the reference modules.

    homework.py runs `import layers`; while it loads, that name points at the
    reference and afterwards it is put back as it was.
    """
    folder = reference_dir()
    for name in ("layers.py", "homework.py"):
        if not (folder / name).is_file():
            raise FileNotFoundError(
                f"the reference {name} is missing from {folder}; set GRADER_REFERENCE_DIR "
                f"to the folder holding the full edition's layers.py and homework.py"
            )
    layers = _load("_grader_reference_layers", folder / "layers.py")
    saved = sys.modules.get("layers")
    sys.modules["layers"] = layers
    try:
        homework = _load("_grader_reference_homework", folder / "homework.py")
    finally:
        if saved is None:
            del sys.modules["layers"]
        else:
            sys.modules["layers"] = saved
    return layers, homework
