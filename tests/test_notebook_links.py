"""Every relative link of the course leads somewhere: notebooks' markdown cells and README.md.

A link such as `[Figure 4](homework.ipynb#Figure-4)` must name an existing file (relative to
the file that holds the link), and its anchor must be the id JupyterLab gives one of that
notebook's headings. Links to the web (http:, https:, mailto:, ...) are not followed.

The anchor rule mirrors JupyterLab 4 (`@jupyterlab/rendermime`, `renderers.ts`):

    createHeaderId(header) = (header.textContent ?? '').replace(/ /g, '-')

applied to every rendered h1-h6 of a markdown cell (`headerAnchors`, which sets it as the
heading's `id`, or as `data-jupyter-id` when the sanitizer keeps no ids). So the anchor is the heading's *rendered
text* (markdown markup gone: `**`, `*`, backticks, a link's target; the text of code spans,
emphasis and links kept) with each single space replaced by '-'; nothing is lower-cased and no
punctuation is dropped: `## 6. Try it` -> `6.-Try-it`, `### Figure 4` -> `Figure-4`. A link's
anchor is compared after percent-decoding (`%CE%B5` is `ε`). Before parsing, JupyterLab takes
`$...$` math out of the text (its `removeMath`) and MathJax typesets it afterwards, so the id of
a heading with math depends on the typesetter: a link to such a heading fails here, with the
advice to link a heading without math.

README.md is read on GitHub, whose anchors differ: lower-case, punctuation other than '-' and
'_' dropped, spaces to '-' (`## Testing` -> `testing`); README's own `#anchor` links use that rule.
"""

import json
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import mistune
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
README = REPO_ROOT / "README.md"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
DOCUMENTS = NOTEBOOKS + [README]

PARSE = mistune.create_markdown(renderer="ast", plugins=["table", "strikethrough"])
# JupyterLab's removeMath: $$...$$ and $...$ (not escaped \$) leave the text before parsing.
MATH = re.compile(r"(?<!\\)\$\$.+?(?<!\\)\$\$|(?<!\\)\$[^$\n]+?(?<!\\)\$", re.DOTALL)
MATH_PLACEHOLDER = "\x00MATH\x00"
# Links written as HTML inside markdown.
HTML_LINK = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def markdown_sources(path):
    """The markdown texts of a document.

    Inputs:
    - path: Path of a notebook (.ipynb) or a markdown file.

    Returns:
    - sources: list of (where, text) pairs, where = str naming the cell.
    """
    if path.suffix != ".ipynb":
        return [(path.name, path.read_text(encoding="utf-8"))]
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [
        (f"{path.name}, cell {number}", "".join(cell["source"]))
        for number, cell in enumerate(cells)
        if cell["cell_type"] == "markdown"
    ]


def parse(text):
    """mistune's token tree of a markdown text, with its math taken out as JupyterLab does."""
    return PARSE(MATH.sub(MATH_PLACEHOLDER, text))


def walk(tokens):
    for token in tokens:
        yield token
        yield from walk(token.get("children", []))


def rendered_text(token):
    """The textContent of a rendered token: its text without the markdown markup."""
    if "children" in token:
        return "".join(rendered_text(child) for child in token["children"])
    if token["type"] in ("softbreak", "linebreak"):
        return "\n"
    if token["type"] in ("inline_html", "block_html"):
        return ""  # a tag: no text of its own
    return token.get("raw", "")


def jupyterlab_anchor(heading_text):
    """createHeaderId of JupyterLab 4: every space becomes '-', nothing else changes."""
    return heading_text.replace(" ", "-")


def github_anchor(heading_text):
    """GitHub's anchor of a README heading: lower-case, punctuation dropped, spaces to '-'."""
    kept = re.sub(r"[^\w\- ]", "", heading_text.strip().lower())
    return kept.replace(" ", "-")


def headings(path):
    """The rendered text of every heading of a document, in order.

    Inputs:
    - path: Path of a notebook or a markdown file.

    Returns:
    - texts: list of str; a heading with math keeps MATH_PLACEHOLDER where the math was.
    """
    return [
        rendered_text(token)
        for _, text in markdown_sources(path)
        for token in walk(parse(text))
        if token["type"] == "heading"
    ]


def links(text):
    """Every link and image target of a markdown text, Markdown and HTML syntax alike."""
    found = []
    for token in walk(parse(text)):
        if token["type"] in ("link", "image"):
            found.append(token["attrs"]["url"])
        elif token["type"] in ("inline_html", "block_html"):
            found.extend(HTML_LINK.findall(token.get("raw", "")))
    return found


def anchors(path):
    """{anchor: heading text} of a document, by the rule of the program that shows it."""
    rule = jupyterlab_anchor if path.suffix == ".ipynb" else github_anchor
    return {rule(text): text for text in headings(path) if MATH_PLACEHOLDER not in text}


def math_heading_like(path, anchor):
    """A heading of path with math whose text before the math matches anchor, or None."""
    for text in headings(path):
        before_math = jupyterlab_anchor(text.split(MATH_PLACEHOLDER)[0])
        if MATH_PLACEHOLDER in text and before_math and anchor.startswith(before_math):
            return text.replace(MATH_PLACEHOLDER, "$...$")
    return None


def broken_links(path, root=REPO_ROOT):
    """Every relative link of a document that leads nowhere, with the reason.

    Inputs:
    - path: Path of a notebook or a markdown file.
    - root: Path that missing files are named relative to.

    Returns:
    - problems: list of str, one per broken link ("<where>: <link> -- <why>"); empty if all lead somewhere.
    """
    problems = []
    for where, text in markdown_sources(path):
        for url in links(text):
            if SCHEME.match(url) or url.startswith("//"):
                continue  # the web: not followed
            parts = urlsplit(url)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if not target.exists():
                problems.append(f"{where}: {url} -- no file {os.path.relpath(target, root)}")
                continue
            if not parts.fragment:
                continue
            if target.suffix not in (".ipynb", ".md"):
                problems.append(f"{where}: {url} -- an anchor into a file that has no headings")
                continue
            anchor = unquote(parts.fragment)
            if anchor in anchors(target):
                continue
            with_math = math_heading_like(target, anchor)
            advice = (f" (the heading {with_math!r} has math, whose anchor depends on MathJax:"
                      " link a heading without math)" if with_math else "")
            problems.append(f"{where}: {url} -- {target.name} has no heading with the anchor {anchor!r}{advice}")
    return problems


# --------------------------------------------------------------------------
# The rule itself
# --------------------------------------------------------------------------

@pytest.mark.parametrize(
    "markdown, anchor",
    [
        ("### Figure 4", "Figure-4"),
        ("### Q1", "Q1"),
        ("## 6. Try it", "6.-Try-it"),
        ("### Vector-Jacobian product", "Vector-Jacobian-product"),
        ("## 3. Numbers at h = [1, 2, 3, 4]", "3.-Numbers-at-h-=-[1,-2,-3,-4]"),
        ("### Your implementation", "Your-implementation"),
        ("### The `Max` form, **in bold**", "The-Max-form,-in-bold"),
        ("### [A link](x.ipynb) in it", "A-link-in-it"),
        ("### ε convention", "ε-convention"),
    ],
)
def test_jupyterlab_anchor(markdown, anchor):
    (heading,) = [token for token in walk(parse(markdown)) if token["type"] == "heading"]
    assert jupyterlab_anchor(rendered_text(heading)) == anchor


def test_github_anchor():
    assert github_anchor("Testing") == "testing"
    assert github_anchor("For learners: the student edition") == "for-learners-the-student-edition"
    assert github_anchor("layers.py") == "layerspy"


def test_links_found_in_tables_html_and_references_not_in_code():
    text = (
        "| a | b |\n|---|---|\n| [x](one.ipynb#A) | `[not](a-link)` |\n\n"
        '<a href="two.ipynb">two</a> and [ref][1] and ![pic](three.png)\n\n'
        "    [indented](code-block)\n\n"
        "[1]: four.ipynb#Q1\n"
    )
    assert sorted(links(text)) == ["four.ipynb#Q1", "one.ipynb#A", "three.png", "two.ipynb"]


def test_math_stays_out_of_links_and_headings():
    text = "### Loss at $y_1 = \\hat y_1$\n\n$[a](b)$ and [real](c.ipynb)\n"
    assert links(text) == ["c.ipynb"]
    (heading,) = [token for token in walk(parse(text)) if token["type"] == "heading"]
    assert MATH_PLACEHOLDER in rendered_text(heading)


def test_a_broken_link_is_reported(tmp_path):
    # The checker on a small course of its own: one good link, four broken ones.
    (tmp_path / "target.ipynb").write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["## 2. Derivation with SymPy\n"]},
        {"cell_type": "markdown", "metadata": {}, "source": ["## 4. One layer at $h = [1, 2]$\n"]},
    ]}), encoding="utf-8")
    source = tmp_path / "source.ipynb"
    source.write_text(json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": [
        "[good](target.ipynb#2.-Derivation-with-SymPy) [case](target.ipynb#2.-derivation-with-sympy)\n",
        "[gone](missing.ipynb) [self](#Nowhere) [web](https://example.org/x#y)\n",
        "[math](target.ipynb#4.-One-layer-at-h)",
    ]}]}), encoding="utf-8")
    problems = broken_links(source, root=tmp_path)
    assert [problem.split(" -- ")[0] for problem in problems] == [
        "source.ipynb, cell 0: target.ipynb#2.-derivation-with-sympy",
        "source.ipynb, cell 0: missing.ipynb",
        "source.ipynb, cell 0: #Nowhere",
        "source.ipynb, cell 0: target.ipynb#4.-One-layer-at-h",
    ]
    assert "has math" in problems[-1] and "has math" not in problems[0]


# --------------------------------------------------------------------------
# The course
# --------------------------------------------------------------------------

def test_the_course_has_links_to_check():
    # Guards against a parser that finds nothing (and so passes everything).
    start = NOTEBOOK_DIR / "00_start_here.ipynb"
    found = [url for _, text in markdown_sources(start) for url in links(text)]
    assert "01_fully_connected.ipynb" in found
    assert any("#" in url for url in found)
    assert "Figure-4" in anchors(NOTEBOOK_DIR / "homework.ipynb")


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda path: path.name)
def test_every_relative_link_leads_somewhere(path):
    problems = broken_links(path)
    assert not problems, f"{len(problems)} broken link(s):\n" + "\n".join(problems)
