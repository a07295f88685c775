"""One style in layers.py: docstrings, messages, shared validation, base classes.

Read from the module itself (inspect) and from its source (ast), so that a
new method or message that breaks the convention fails here.
"""

import ast
import inspect
import re

import numpy as np
import pytest

import layers

SOURCE = inspect.getsource(layers)
TREE = ast.parse(SOURCE)
CLASSES = [getattr(layers, name) for name in layers.__all__ if inspect.isclass(getattr(layers, name))]
FUNCTIONS = [getattr(layers, name) for name in layers.__all__ if inspect.isfunction(getattr(layers, name))]
# Every public method a class of layers.py defines itself.
METHODS = [
    member
    for cls in CLASSES
    for name, member in vars(cls).items()
    if inspect.isfunction(member) and not name.startswith("_")
]
PUBLIC = FUNCTIONS + METHODS

# An item of Inputs/Returns says what it is: a shape, or the kind of scalar.
ITEM = re.compile(r"^- (?P<names>[\w, ]+): (?P<text>.*)")
KIND = re.compile(r"shape|\(N|\(1, |\(size_|float|int\b|str\b|bool|None|function|Python")


def sections(doc):
    """{'Inputs': [item text, ...], 'Returns': [...]} of a CS231n-style docstring."""
    found, current = {}, None
    for line in doc.splitlines():
        if line in ("Inputs:", "Returns:"):
            current = found.setdefault(line[:-1], [])
        elif current is not None and line.startswith("- "):
            current.append(line)
        elif current is not None and line and not line.startswith("  "):
            current = None
    return found


def qualname(function):
    return function.__qualname__


@pytest.mark.parametrize("function", PUBLIC, ids=qualname)
def test_docstring_template(function):
    doc = inspect.getdoc(function)
    assert doc, f"{function.__qualname__} has no docstring"
    parts = sections(doc)
    parameters = [name for name in inspect.signature(function).parameters if name != "self"]
    if parameters:
        named = {name.strip() for item in parts.get("Inputs", []) for name in ITEM.match(item)["names"].split(",")}
        assert set(parameters) <= named, f"{function.__qualname__}: Inputs lack {set(parameters) - named}"
    assert parts.get("Returns"), f"{function.__qualname__} has no Returns: section"
    for item in parts.get("Inputs", []) + parts["Returns"]:
        assert KIND.search(item), f"{function.__qualname__}: {item!r} gives no shape or kind"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_class_docstring_lists_its_constructor_arguments(cls):
    doc = inspect.getdoc(cls)
    assert doc
    parameters = list(inspect.signature(cls).parameters)
    if parameters:
        items = sections(doc).get("Inputs", [])
        named = {name.strip() for item in items for name in ITEM.match(item)["names"].split(",")}
        assert set(parameters) <= named, f"{cls.__name__}: Inputs lack {set(parameters) - named}"
        for item in items:
            assert KIND.search(item), f"{cls.__name__}: {item!r} gives no shape or kind"


def test_grad_in_is_defined_once_and_the_same_everywhere():
    assert "``grad_in`` is always the upstream gradient dL/d(out)" in layers.__doc__
    items = re.findall(r"^\s*- grad_in: (.*)$", SOURCE, flags=re.MULTILINE)
    assert len(items) >= 4  # backward, weight_gradients, update_weights, the template methods
    for item in items:
        assert item.startswith("upstream gradient dL/d(out)"), item


def raised_messages():
    """The text of every string (or f-string part) inside a `raise` statement."""
    for node in ast.walk(TREE):
        if isinstance(node, ast.Raise) and node.exc is not None:
            for part in ast.walk(node.exc):
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    yield part.value


def test_messages_name_the_class_through_self_name():
    names = [cls.__name__ for cls in CLASSES]
    for message in raised_messages():
        for name in names:
            assert not re.search(rf"\b{name}\b", message), f"{name!r} typed in the message {message!r}"


def test_one_number_checker_and_one_upstream_check():
    # The messages exist once, in the one checker each.
    assert SOURCE.count("must be a real number") == 1
    assert SOURCE.count("must be finite and {bounds}") == 1
    assert SOURCE.count("grad_in must have the shape") == 1
    assert SOURCE.count("np.isfinite(eps)") == SOURCE.count("np.isfinite(eta)") == 0
    calls = [node.func.id for node in ast.walk(TREE)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]
    # eps (for all four owners), eta, 2 h; alpha (2), the normalisations' eps (2), momentum, p
    assert calls.count("_check_number") == 10
    uses = re.findall(r"self\._upstream\(grad_in, \"(\w+)\"\)", SOURCE)
    assert sorted(uses) == ["backward", "weight_gradients"]


def test_the_number_checker_serves_bounded_settings():
    # Ready for a probability p in [0, 1) or a positive alpha.
    check = layers._check_number
    assert check(0.25, "Dropout", "p", "the probability of dropping", below=1) == 0.25
    with pytest.raises(ValueError, match=r"Dropout: p \(the probability of dropping\) must be "
                                         r"finite and >= 0 and < 1, got 1"):
        check(1, "Dropout", "p", "the probability of dropping", below=1)
    with pytest.raises(ValueError, match=r"must be finite and > 0"):
        check(0.0, "LeakyReLULayer", "alpha", "the slope for x < 0", positive=True)


@pytest.mark.parametrize(
    "base, methods",
    [
        (layers.Layer, {"_forward": (np.ones((1, 1)),), "_gradient": (), "_backward": (np.ones((1, 1)),)}),
        (layers.ElementwiseLayer, {"_derivative": ()}),
        (layers.Objective, {"_row_losses": (np.ones((1, 1)),) * 2, "_gradient": (np.ones((1, 1)),) * 2}),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_base_classes_show_their_template_methods_as_stubs(base, methods):
    instance = base()
    for method, args in methods.items():
        assert method in vars(base), f"{base.__name__} does not show {method}"
        assert inspect.getdoc(vars(base)[method]), f"{base.__name__}.{method} has no docstring"
        with pytest.raises(NotImplementedError, match=rf"{base.__name__} does not implement {method}\("):
            getattr(instance, method)(*args)


def test_self_name_is_the_class_name():
    class Custom(layers.ReLULayer):
        pass

    assert Custom().name == "Custom"
    with pytest.raises(ValueError, match=r"^Custom\.forward: x must be 2-D"):
        Custom().forward([1.0, 2.0])
