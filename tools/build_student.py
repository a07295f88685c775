"""Build the student edition of the course: the full edition without its solutions.

    .venv/bin/python tools/build_student.py [--out dist/student]

Every piece of mathematics in layers.py sits between ``### BEGIN SOLUTION``
and ``### END SOLUTION`` (nbgrader's markers), and the first line inside each
block is a hint comment ``# <what to compute> -- <notebook stem>, section <N>``.
The student edition replaces each block by

    # YOUR CODE HERE: <what to compute> -- <notebook stem>, section <N>
    raise NotImplementedError("SoftmaxLayer.backward: not implemented yet (see 05_softmax, section 4)")

removes the notebooks' worked solutions (cells tagged ``solution``; marked
blocks inside other cells) and their stored outputs, and adds what a learner
needs around them: a README, a Makefile (``make lab``, ``make check``), the
runtime pins, and small shims in notebooks/ so that a kernel started there
imports the learner's layers.py even where the full edition is installed.

The build fails, and leaves nothing behind, when a marker or a line of a
solution survives, when the stubbed layers.py does not import, when a stubbed
method does not raise NotImplementedError, or when putting the solutions back
into the stubs does not give back the full edition's layers.py.
"""

import argparse
import ast
import copy
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = REPO_ROOT / "student"

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
#: Any trace of a marker, however spelled, fails the build.
MARKER_TRACE = re.compile(r"(BEGIN|END)\s+SOLUTION")
#: The hint on the first line of a layers.py block: "# <what> -- <stem>, section <N>".
HINT = re.compile(r"^#\s*(?P<what>\S.*?)\s+--\s+(?P<where>[0-9]\w*, section \S+?)\s*$")
#: What a stub looks like in the student edition (restore_python finds them by it).
STUB_COMMENT = "# YOUR CODE HERE"
STUB_RAISE = "raise NotImplementedError("
SOLUTION_TAG = "solution"
SOLUTION_PROMPT = (
    "*The worked solution is not part of this edition: work it out yourself; the exercise's "
    "check tells you when you are right.*"
)


class BuildError(Exception):
    """The student edition cannot be built or is not safe to hand out."""


# --------------------------------------------------------------------------
# Solution blocks
# --------------------------------------------------------------------------

def _indent(line):
    return line[: len(line) - len(line.lstrip())]


def solution_blocks(lines, where):
    """The solution blocks of a list of lines, as (begin, end) indices of their marker lines.

    Inputs:
    - lines: list of str (with or without line ends).
    - where: str naming the source in error messages, e.g. "layers.py".

    Returns:
    - blocks: list of (begin, end), begin < end, in order.

    Raises BuildError for a marker that is not alone on its line, a nested or
    unmatched marker, or an END at another indentation than its BEGIN.
    """
    blocks, begin = [], None
    for number, line in enumerate(lines):
        text = line.strip()
        if MARKER_TRACE.search(line) and text not in (BEGIN, END):
            raise BuildError(f"{where}, line {number + 1}: a solution marker must be alone on its "
                             f"line, exactly {BEGIN!r} or {END!r}; found {text!r}")
        if text == BEGIN:
            if begin is not None:
                raise BuildError(f"{where}, line {number + 1}: {BEGIN} inside the block opened "
                                 f"on line {begin + 1}; close it first")
            begin = number
        elif text == END:
            if begin is None:
                raise BuildError(f"{where}, line {number + 1}: {END} without a {BEGIN} before it")
            if _indent(line) != _indent(lines[begin]):
                raise BuildError(f"{where}, line {number + 1}: {END} is not at the indentation of "
                                 f"its {BEGIN} (line {begin + 1})")
            blocks.append((begin, number))
            begin = None
    if begin is not None:
        raise BuildError(f"{where}, line {begin + 1}: {BEGIN} is never closed by {END}")
    return blocks


def _enclosing_functions(source, where):
    """Map each line number (1-based) to its innermost function, as (owner, name).

    owner is the class of a method ("SoftmaxLayer") or None for a module-level
    function; name is the function's name as written ("_backward").
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise BuildError(f"{where}, line {error.lineno}: not valid Python ({error.msg})") from None
    names = {}

    def visit(node, owner):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, child.name)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for line in range(child.lineno, child.end_lineno + 1):
                    names[line] = (owner, child.name)     # visited outside in: innermost wins
                visit(child, None)
            else:
                visit(child, owner)

    visit(tree, None)
    return names


def _public_name(owner, name):
    """The name learners call: "SoftmaxLayer.backward" for SoftmaxLayer._backward."""
    if not (name.startswith("__") and name.endswith("__")):     # __init__ stays __init__
        name = name.lstrip("_") or name
    return f"{owner}.{name}" if owner else name


def python_stubs(source, where="layers.py"):
    """The stubs of a Python module with solution blocks.

    Returns:
    - stubs: list of dicts, one per block in order, with keys begin, end (marker
      line indices), indent, name ("SoftmaxLayer.backward"), method (the
      attribute as written, "SoftmaxLayer._backward"), what, where
      ("05_softmax, section 4"), message (the NotImplementedError's text).
    """
    lines = source.splitlines()
    functions = _enclosing_functions(source, where)
    stubs = []
    for begin, end in solution_blocks(lines, where):
        if end == begin + 1:
            raise BuildError(f"{where}, line {begin + 1}: empty solution block")
        hint = HINT.match(lines[begin + 1].strip())
        if hint is None:
            raise BuildError(
                f"{where}, line {begin + 2}: the first line of a solution block must be a hint "
                f"'# <what to compute> -- <notebook stem>, section <N>', "
                f"e.g. '# s * (g - sum_i g_i s_i) -- 05_softmax, section 4'; found "
                f"{lines[begin + 1].strip()!r}")
        if begin + 1 not in functions:
            raise BuildError(f"{where}, line {begin + 1}: a solution block must be inside a "
                             f"function or method, so that its stub can raise")
        owner, function = functions[begin + 1]
        name = _public_name(owner, function)
        stubs.append({
            "begin": begin, "end": end, "indent": _indent(lines[begin]),
            "name": name, "method": f"{owner}.{function}" if owner else function,
            "what": hint["what"], "where": hint["where"],
            "message": f"{name}: not implemented yet (see {hint['where']})",
        })
    return stubs


def _quoted(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def stub_python(source, where="layers.py"):
    """The student edition of a Python module: every solution block becomes a stub.

    Inputs:
    - source: str, the full edition's text.
    - where: str naming it in error messages.

    Returns:
    - stubbed: str; each block (markers included) is replaced, at its
      indentation, by "# YOUR CODE HERE: <what> -- <where>" and a raise of
      NotImplementedError("<Class.method>: not implemented yet (see <where>)").
    """
    lines = source.splitlines(keepends=True)
    out, position = [], 0
    for stub in python_stubs(source, where):
        out.extend(lines[position:stub["begin"]])
        indent = stub["indent"]
        out.append(f"{indent}{STUB_COMMENT}: {stub['what']} -- {stub['where']}\n")
        out.append(f"{indent}raise NotImplementedError({_quoted(stub['message'])})\n")
        position = stub["end"] + 1
    out.extend(lines[position:])
    return "".join(out)


def _stub_positions(lines):
    """Indices of the stubs (comment line, raise line) in a stubbed text's lines."""
    return [number for number in range(len(lines) - 1)
            if lines[number].strip().startswith(STUB_COMMENT)
            and lines[number + 1].strip().startswith(STUB_RAISE)]


def restore_python(stubbed, reference, keep=()):
    """Put the reference's solution blocks back into the stubs, in order.

    Everything outside the stubs comes from `stubbed`, everything inside from
    `reference`; when the stubbing changed nothing else, the result equals
    `reference` exactly.

    Inputs:
    - stubbed: str, the student edition's text.
    - reference: str, the full edition's text.
    - keep: indices (in order of appearance) of stubs to leave as they are.

    Returns:
    - restored: str.
    """
    reference_lines = reference.splitlines(keepends=True)
    blocks = solution_blocks(reference_lines, "the reference")
    stubbed_lines = stubbed.splitlines(keepends=True)
    positions = _stub_positions(stubbed_lines)
    if len(positions) != len(blocks):
        raise BuildError(f"round trip: the stubbed text has {len(positions)} stubs but the "
                         f"reference has {len(blocks)} solution blocks")
    out, position = [], 0
    for number, (start, (begin, end)) in enumerate(zip(positions, blocks)):
        if number in keep:
            continue
        out.extend(stubbed_lines[position:start])
        out.extend(reference_lines[begin:end + 1])
        position = start + 2
    out.extend(stubbed_lines[position:])
    return "".join(out)


# --------------------------------------------------------------------------
# Notebooks
# --------------------------------------------------------------------------

def _strip_code_cell(source, where):
    """A code cell's source with its solution blocks replaced by stubs.

    A block inside a function or method becomes "# YOUR CODE HERE" and a raise
    of NotImplementedError naming it; a block at the top level becomes just
    "# YOUR CODE HERE" (the cell keeps running: a placeholder such as
    `answer = None` above it is the learner's to replace).
    """
    lines = source.splitlines(keepends=True)
    blocks = solution_blocks(lines, where)
    if not blocks:
        return source
    try:
        functions = _enclosing_functions(source, where)
    except BuildError:
        functions = {}                    # IPython syntax (magics): no names, stubs still raise
    out, position = [], 0
    for begin, end in blocks:
        out.extend(lines[position:begin])
        indent = _indent(lines[begin])
        out.append(f"{indent}{STUB_COMMENT}\n")
        if indent:
            function = functions.get(begin + 1)
            message = f"{_public_name(*function)}: not implemented yet" if function else "not implemented yet"
            out.append(f"{indent}raise NotImplementedError({_quoted(message)})\n")
        position = end + 1
    out.extend(lines[position:])
    return "".join(out).rstrip("\n")


def _tags(cell):
    return list(cell.get("metadata", {}).get("tags", []))


def _clean_metadata(cell):
    metadata = cell.setdefault("metadata", {})
    jupyter = metadata.get("jupyter", {})
    for key in ("source_hidden", "outputs_hidden"):
        jupyter.pop(key, None)
    if "jupyter" in metadata and not jupyter:
        del metadata["jupyter"]
    for key in ("collapsed", "execution", "scrolled"):
        metadata.pop(key, None)


def student_notebook(nb, where="notebook"):
    """The student edition of a notebook.

    Code cells tagged "solution" are removed; markdown cells tagged "solution"
    become a short prompt; solution blocks in the other code cells become
    stubs; every output and execution count is cleared; the metadata that
    collapses worked solutions in the full edition is dropped.

    Inputs:
    - nb: a notebook (nbformat.NotebookNode or a dict in its JSON form); not modified.
    - where: str naming it in error messages.

    Returns:
    - student: a new notebook of the same type.
    """
    student = copy.deepcopy(nb)
    cells = []
    for number, cell in enumerate(student["cells"]):
        tags = _tags(cell)
        if SOLUTION_TAG in tags:
            if cell["cell_type"] == "code":
                continue
            cell["source"] = SOLUTION_PROMPT
            tags.remove(SOLUTION_TAG)
            if tags:
                cell["metadata"]["tags"] = tags
            else:
                cell["metadata"].pop("tags", None)
            cell.pop("attachments", None)
        elif cell["cell_type"] == "code":
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            cell["source"] = _strip_code_cell(source, f"{where}, cell {number}")
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        _clean_metadata(cell)
        cells.append(cell)
    student["cells"] = cells
    return student


# --------------------------------------------------------------------------
# Leaks: markers and solution lines
# --------------------------------------------------------------------------

def _text_lines(text):
    return {line.strip() for line in text.splitlines() if line.strip()}


def _python_split(text, where, skip_hint):
    """(solution lines, public lines) of a text with solution blocks."""
    lines = text.splitlines()
    solution, inside = set(), set()
    for begin, end in solution_blocks(lines, where):
        first = begin + 2 if skip_hint else begin + 1   # the hint survives as YOUR CODE HERE's text
        solution |= _text_lines("\n".join(lines[first:end]))
        inside.update(range(begin, end + 1))
    public = _text_lines("\n".join(line for n, line in enumerate(lines) if n not in inside))
    return solution, public


def _notebook_split(nb, where):
    solution, public = set(), set()
    for number, cell in enumerate(nb["cells"]):
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if SOLUTION_TAG in _tags(cell):
            solution |= _text_lines(source)
        elif cell["cell_type"] == "code":
            cell_solution, cell_public = _python_split(source, f"{where}, cell {number}", False)
            solution |= cell_solution
            public |= cell_public
        else:
            public |= _text_lines(source)
    return solution, public


def _student_text(path):
    """A file's text as a learner reads it; a notebook's is its cells' sources and outputs."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".ipynb":
        return text
    nb = json.loads(text)
    parts = []
    for cell in nb["cells"]:
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        parts.append(source)
        parts.append(json.dumps(cell.get("outputs", [])))
        parts.append(json.dumps(cell.get("metadata", {})))
    return "\n".join(parts)


def find_leaks(out_dir, solution_lines):
    """Every marker, and every line found only inside solutions, in the files under out_dir.

    Returns:
    - problems: list of str, "path, line N: ..." (empty when the edition is clean).
    """
    problems = []
    for path in sorted(p for p in Path(out_dir).rglob("*") if p.is_file()):
        relative = path.relative_to(out_dir)
        try:
            text = _student_text(path)
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if MARKER_TRACE.search(line):
                problems.append(f"{relative}, line {number}: a solution marker survives: {line.strip()!r}")
            elif line.strip() in solution_lines:
                problems.append(f"{relative}, line {number}: a line of a solution survives: {line.strip()!r}")
    return problems


# --------------------------------------------------------------------------
# Checking the stubs in a fresh interpreter
# --------------------------------------------------------------------------

# Runs in dist/student/. First it imports the student edition's layers.py as it
# is. Then, for each stub, it loads a variant of that file in which every OTHER
# stub has its solution back, and runs the stub's method the way the course does
# (make an instance, forward, then the method): the one NotImplementedError that
# can occur is that stub's. Reads [{"method", "source"}] as JSON on stdin.
_STUB_PROBE = r'''
import inspect, json, os, sys, types
import numpy as np

sys.path.insert(0, os.getcwd())
import layers
if os.path.realpath(layers.__file__) != os.path.realpath("layers.py"):
    raise SystemExit(f"import layers found {layers.__file__}, not the student edition's layers.py")

x = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75], [-2.0, 1.0, 0.125]])
values = {
    "x": x, "data": x, "y": np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),
    "yhat": np.array([[0.7, 0.2, 0.1], [0.3, 0.5, 0.2], [0.25, 0.25, 0.5]]),
    "f": lambda a: 2.0 * np.asarray(a), "a": x, "b": x + 0.125,
}
scalar_f = {"numerical_gradient": lambda a: float(np.sum(np.asarray(a) ** 2))}


def arguments(function, name, grad_in=None):
    call = {}
    for parameter, spec in inspect.signature(function).parameters.items():
        if parameter == "grad_in" and grad_in is not None:
            call[parameter] = grad_in
        elif parameter == "f" and name in scalar_f:
            call[parameter] = scalar_f[name]
        elif parameter in values:
            call[parameter] = values[parameter]
        elif spec.default is inspect.Parameter.empty and spec.kind not in (spec.VAR_POSITIONAL, spec.VAR_KEYWORD):
            raise LookupError(f"no test value for its parameter {parameter!r}")
    return call


def run(module, method):
    owner, _, name = method.rpartition(".")
    if not owner:
        function = getattr(module, name)
        return function(**arguments(function, name))
    cls = getattr(module, owner)
    if name == "__init__":
        return cls(**arguments(cls, name))
    if owner == "FullyConnectedLayer":
        instance = cls(3, 2, rng=np.random.default_rng(0))
    else:
        instance = cls(**arguments(cls, "__init__"))
    grad_in = None
    if isinstance(instance, module.Layer):
        grad_in = np.ones_like(instance.forward(x))
    bound = getattr(instance, name)
    return bound(**arguments(bound, name, grad_in))


results = []
for probe in json.load(sys.stdin):
    module = types.ModuleType("layers")
    module.__file__ = os.path.abspath("layers.py")
    sys.modules["layers"] = module
    try:
        exec(compile(probe["source"], module.__file__, "exec"), module.__dict__)
        run(module, probe["method"])
        results.append(["returned", ""])
    except NotImplementedError as error:
        results.append(["raised", str(error)])
    except Exception as error:
        results.append(["other", f"{type(error).__name__}: {error}"])
print(json.dumps(results))
'''


def check_stubs(out_dir, stubs, reference, python=sys.executable):
    """Import the stubbed layers.py in a fresh interpreter and run every stubbed method.

    Inputs:
    - out_dir: the student edition.
    - stubs: list of dicts from python_stubs(reference).
    - reference: str, the full edition's layers.py.
    - python: the interpreter to run.

    Returns:
    - problems: list of str (empty when each stub raises NotImplementedError with its message).
    """
    stubbed = (Path(out_dir) / "layers.py").read_text(encoding="utf-8")
    probes = [{"method": stub["method"], "source": restore_python(stubbed, reference, keep={number})}
              for number, stub in enumerate(stubs)]
    result = subprocess.run([python, "-c", _STUB_PROBE], cwd=out_dir, input=json.dumps(probes),
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-6:])
        return [f"the stubbed layers.py does not import or cannot be probed:\n{tail}"]
    problems = []
    for stub, (outcome, detail) in zip(stubs, json.loads(result.stdout.strip().splitlines()[-1])):
        if outcome == "raised" and detail == stub["message"]:
            continue
        if outcome == "raised":
            problems.append(f"{stub['method']} raised NotImplementedError({detail!r}), "
                            f"expected {stub['message']!r}")
        elif outcome == "returned":
            problems.append(f"{stub['method']} returned instead of raising NotImplementedError: "
                            f"code before its solution block must not return")
        else:
            problems.append(f"{stub['method']} did not reach its stub: {detail}")
    return problems


# --------------------------------------------------------------------------
# The student edition
# --------------------------------------------------------------------------

SHIM = '''"""Leave this file as it is: the {module}.py of this course is ../{module}.py, in the folder above.

This pointer makes `import {module}` in a notebook load ../{module}.py. A
kernel starts in notebooks/, where Python would otherwise go on searching
and could find another copy of the course installed in the environment
(for instance the full edition). This file runs ../{module}.py as the module
`{module}`: tracebacks show ../{module}.py, and importlib.reload picks up edits.
"""

import os as _os

__file__ = _os.path.join(_os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))), "{module}.py")
del _os
with open(__file__, encoding="utf-8") as _source:
    _code = compile(_source.read(), __file__, "exec")
del _source
exec(_code)
del _code
'''


def local_modules(root, notebooks):
    """The pack's own modules the notebooks import (directly or through each other), by name."""
    found, todo = set(), []
    for nb in notebooks:
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
                todo.extend(re.findall(r"^\s*(?:import|from)\s+(\w+)", source, re.M))
    while todo:
        name = todo.pop()
        if name in found or not (root / f"{name}.py").is_file():
            continue
        found.add(name)
        todo.extend(re.findall(r"^\s*(?:import|from)\s+(\w+)", (root / f"{name}.py").read_text(), re.M))
    return sorted(found | {"layers"})


REQUIREMENTS_HEADER = ("# The course's packages, pinned for Python 3.11: `make lab` and `make check` "
                       "install them into .venv.\n")


def runtime_requirements(text):
    """requirements.txt for learners: the same pins, without installing the full edition (-e .).

    The full edition's comments speak of its own tooling, so they give way to one line
    for learners.
    """
    pins = [line for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith(("#", "-e"))]
    return REQUIREMENTS_HEADER + "\n".join(pins) + "\n"


def implementation_order(stubs):
    """Markdown: the methods to implement, grouped by the notebook that derives them, in course order."""
    by_notebook = {}
    for stub in stubs:
        stem, _, section = stub["where"].partition(", ")
        by_notebook.setdefault(stem, []).append((stub["name"], stub["what"], section))
    lines = []
    for step, stem in enumerate(sorted(by_notebook), start=1):
        lines.append(f"{step}. **[{stem}](notebooks/{stem}.ipynb)**")
        for name, what, section in by_notebook[stem]:
            lines.append(f"   - `{name}`: {what} ({section})")
    return "\n".join(lines)


def _render_readme(template, stubs):
    return (template.replace("{{IMPLEMENTATION_ORDER}}", implementation_order(stubs))
            .replace("{{METHOD_COUNT}}", str(len(stubs))))


def _render_makefile(template, full_makefile):
    """The learner's Makefile, with the same pinned uv as the full edition's."""
    version = re.search(r"^UV_VERSION\s*:?=\s*(\S+)", full_makefile, re.M)
    if version is None:
        raise BuildError("Makefile: no UV_VERSION := <version> line to copy into the student Makefile")
    return template.replace("{{UV_VERSION}}", version.group(1))


STAMP = ".student-edition"


def build(out_dir, root=REPO_ROOT, python=sys.executable):
    """Build the student edition into out_dir (replacing an earlier build there).

    Inputs:
    - out_dir: path of the edition to write, e.g. dist/student.
    - root: the full edition (a checkout of this repository).
    - python: the interpreter that probes the stubs.

    Returns:
    - summary: dict with "stubs" (list of dicts, see python_stubs), "notebooks"
      (list of names) and "files" (sorted relative paths).

    Raises BuildError (nothing is written) when the edition is not safe to hand out.
    """
    root, out_dir = Path(root).resolve(), Path(out_dir).resolve()
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / STAMP).exists():
        raise BuildError(f"{out_dir} exists and is not a student edition; choose another --out")
    reference = (root / "layers.py").read_text(encoding="utf-8")
    stubs = python_stubs(reference)
    if not stubs:
        raise BuildError("layers.py has no solution blocks: the student edition would hand out "
                         "every solution")
    notebook_paths = sorted((root / "notebooks").glob("*.ipynb"))
    full_notebooks = {path.name: nbformat.read(path, as_version=4) for path in notebook_paths}

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        _write_edition(staging, root, reference, stubs, full_notebooks)
        problems = _validate(staging, root, reference, stubs, full_notebooks, python)
        if problems:
            raise BuildError("the student edition is not safe to hand out:\n  - " + "\n  - ".join(problems))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    files = sorted(str(p.relative_to(out_dir)) for p in out_dir.rglob("*") if p.is_file())
    return {"stubs": stubs, "notebooks": sorted(full_notebooks), "files": files}


def _write_edition(out, root, reference, stubs, full_notebooks):
    (out / "notebooks").mkdir()
    (out / "layers.py").write_text(stub_python(reference), encoding="utf-8")
    for name, nb in full_notebooks.items():
        nbformat.write(student_notebook(nb, f"notebooks/{name}"), out / "notebooks" / name)
    for module in local_modules(root, full_notebooks.values()):
        if module != "layers":
            shutil.copyfile(root / f"{module}.py", out / f"{module}.py")
        (out / "notebooks" / f"{module}.py").write_text(SHIM.format(module=module), encoding="utf-8")
    (out / "requirements.txt").write_text(
        runtime_requirements((root / "requirements.txt").read_text(encoding="utf-8")), encoding="utf-8")
    templates = root / "student"
    (out / "README.md").write_text(
        _render_readme((templates / "README.md").read_text(encoding="utf-8"), stubs), encoding="utf-8")
    (out / "Makefile").write_text(_render_makefile((templates / "Makefile").read_text(encoding="utf-8"),
                                                   (root / "Makefile").read_text(encoding="utf-8")),
                                  encoding="utf-8")
    shutil.copyfile(templates / "gitignore", out / ".gitignore")
    shutil.copyfile(root / "binder" / "overrides.json", out / ".jupyterlab-overrides.json")
    (out / STAMP).write_text("Built by tools/build_student.py; `make student` replaces this folder.\n")


def _validate(out, root, reference, stubs, full_notebooks, python):
    problems = []
    # Solution lines: inside a block (or a solution cell) and nowhere outside one.
    solution, public = _python_split(reference, "layers.py", skip_hint=True)
    for name, nb in full_notebooks.items():
        nb_solution, nb_public = _notebook_split(nb, f"notebooks/{name}")
        solution |= nb_solution
        public |= nb_public
    for path in [root / "homework.py", root / "checks.py", root / "student" / "README.md",
                 root / "student" / "Makefile"]:
        if path.exists():
            public |= _text_lines(path.read_text(encoding="utf-8"))
    problems += find_leaks(out, solution - public)

    for name in full_notebooks:
        nb = json.loads((out / "notebooks" / name).read_text(encoding="utf-8"))
        for number, cell in enumerate(nb["cells"]):
            if cell.get("outputs") or cell.get("execution_count") is not None:
                problems.append(f"notebooks/{name}, cell {number}: stored output survives")

    restored = restore_python((out / "layers.py").read_text(encoding="utf-8"), reference)
    if restored != reference:
        ours, theirs = restored.splitlines(), reference.splitlines()
        line = next((n for n, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs)))
        problems.append(f"round trip: the solutions put back into the stubs differ from layers.py "
                        f"at line {line + 1}")
    problems += check_stubs(out, stubs, reference, python)
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(REPO_ROOT / "dist" / "student"),
                        help="folder of the student edition (default: dist/student)")
    parser.add_argument("--root", default=str(REPO_ROOT),
                        help="the full edition to build from (default: this repository)")
    args = parser.parse_args(argv)
    try:
        summary = build(args.out, root=args.root)
    except BuildError as error:
        print(f"build_student: FAILED: {error}", file=sys.stderr)
        return 1
    print(f"Student edition written to {args.out}: {len(summary['stubs'])} methods to implement, "
          f"{len(summary['notebooks'])} notebooks, {len(summary['files'])} files.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
