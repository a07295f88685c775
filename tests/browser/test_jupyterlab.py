"""Every notebook, opened and run in JupyterLab in a real browser, as a learner would.

nbval checks what the kernel computes; this checks what the learner sees:
JupyterLab opens the notebook, "Run All Cells" runs it from clean outputs, and
the page shows rendered formulas and plots and no tracebacks or warnings.
A screenshot of each notebook lands in test-artifacts/browser/: its first
screen when all is well, the whole notebook when something is wrong (a full
capture costs about two seconds a notebook).

Each notebook is a test class of its own, so that pytest-xdist's `--dist
loadscope` spreads the notebooks over the workers (each with its own
JupyterLab and Chromium) while one notebook's steps stay together.
"""

import contextlib
import json
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(path.name for path in NOTEBOOK_DIR.glob("*.ipynb"))
FIRST_NOTEBOOK = "00_start_here.ipynb"
# JupyterLab's question whether to fetch news from the internet, as a pop-up.
NEWS_QUESTION = "official Jupyter news"

OPEN_TIMEOUT = 120  # seconds to load JupyterLab and start a kernel
RUN_TIMEOUT = 300  # seconds to run every cell; the slowest notebook needs about 30
RENDER_TIMEOUT = 30  # seconds for MathJax and images to appear once the run is over
MAX_SCREENSHOT_HEIGHT = 16000  # pixels; Chromium's limit for one capture is about 16k

# JupyterLab 4 shows a cell's exception as stderr text (with its Traceback);
# an output rendered with the error type itself would count as well.
ERROR_OUTPUT = '.jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]'
STDERR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'

# What the learner sees: each code cell's prompt ("[ ]:", "[*]:" or "[3]:"),
# the kernel's state in the notebook's toolbar and in the status bar
# ("Python 3 (ipykernel) | Idle"; the toolbar says idle before a kernel exists).
PAGE_STATE = """() => ({
    prompts: [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
        .map(prompt => prompt.textContent.trim()),
    kernel: document.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status,
    statusBar: [...document.querySelectorAll('.jp-StatusBar-TextItem')]
        .map(item => item.textContent).find(text => text.includes(' | ')) ?? '',
    outputs: document.querySelectorAll('.jp-OutputArea-output').length,
})"""


# How many pixels of the notebook lie below its panel; also scrolls it to
# the top, since "Run All Cells" leaves the view at the last cell.
HIDDEN_HEIGHT = """() => {
    const panel = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
    const cells = document.querySelectorAll('.jp-NotebookPanel .jp-Cell');
    if (!panel || cells.length === 0) return 0;
    panel.scrollTop = 0;
    const last = cells[cells.length - 1].getBoundingClientRect();
    return Math.ceil(last.bottom + 20 - panel.getBoundingClientRect().bottom);
}"""


def cells_of(name, cell_type):
    """The notebook's cells of one type, read from the file."""
    notebook = json.loads((NOTEBOOK_DIR / name).read_text(encoding="utf-8"))
    return [cell for cell in notebook["cells"] if cell["cell_type"] == cell_type]


def stores_images(cells):
    return any("image/png" in output.get("data", {}) for cell in cells for output in cell.get("outputs", []))


def has_maths(name):
    return any("$" in "".join(cell["source"]) for cell in cells_of(name, "markdown"))


def source_hidden(cell):
    return cell.get("metadata", {}).get("jupyter", {}).get("source_hidden", False)


def run_menu_command(page, menu, item):
    """Click a menu entry, e.g. Run > Run All Cells, as a learner would."""
    page.get_by_role("menuitem", name=menu, exact=True).click()
    page.get_by_role("menuitem", name=item, exact=True).click()


def take_full_screenshot(page, path):
    """Grow the window to the notebook's full height, then capture it.

    The notebook scrolls inside its own panel, so a plain full-page screenshot
    would show only its first screen. Cells out of view have only estimated
    heights until they are drawn, so the window grows until nothing is hidden.
    """
    for _ in range(5):
        hidden = page.evaluate(HIDDEN_HEIGHT)
        size = page.viewport_size
        height = min(size["height"] + max(hidden, 0), MAX_SCREENSHOT_HEIGHT)
        if hidden <= 0 or height == size["height"]:
            break
        page.set_viewport_size({"width": size["width"], "height": height})
        page.wait_for_timeout(300)  # let JupyterLab lay out and draw the cells now in view
    page.screenshot(path=str(path), full_page=True)


def kernel_ready(name, lab_server):
    """The page shows an idle Python kernel, and the server agrees."""

    def ready(state):
        return (
            state["kernel"] == "idle"
            and state["statusBar"].startswith("Python 3")
            and state["statusBar"].endswith("| Idle")
            and lab_server.kernel_idle(name)
        )

    return ready


def outputs_cleared(state):
    return state["outputs"] == 0


def run_started(state):
    """A cell is queued ([*]) or has run ([n]), where all read [ ] after clearing."""
    return any(re.fullmatch(r"\[[\d*]+\]:", prompt) for prompt in state["prompts"])


def run_is_over(state):
    """Nothing queued or running ([*]), the first cell ran, the kernel is idle.

    After an exception JupyterLab skips the rest: their prompts go back to [ ].
    """
    prompts = state["prompts"]
    return (
        bool(prompts)
        and execution_count(prompts[0]) is not None
        and not any("*" in prompt for prompt in prompts)
        and state["kernel"] == "idle"
        and state["statusBar"].endswith("| Idle")
    )


def wait_for(page, condition, timeout, lab_server, message):
    """Poll the page until `condition(state)` holds; fail with what it showed last."""
    deadline = time.monotonic() + timeout
    while True:
        state = page.evaluate(PAGE_STATE)
        if condition(state):
            return
        if time.monotonic() > deadline:
            pytest.fail(
                f"{message} within {timeout} s. The page showed: prompts {state['prompts']}, "
                f"kernel {state['kernel']!r} ({state['statusBar']!r}), "
                f"{state['outputs']} outputs.\n"
                f"JupyterLab's log ends with:\n{lab_server.log_tail(15)}",
                pytrace=False,
            )
        page.wait_for_timeout(250)


def execution_count(prompt):
    """The n of a `[n]:` prompt; None for `[ ]:` (never ran) or `[*]:` (queued)."""
    match = re.fullmatch(r"\s*\[(\d+)\]:\s*", prompt)
    return int(match.group(1)) if match else None


def count_when_present(page, selector):
    """How many elements match, after waiting a while for the first one to render."""
    with contextlib.suppress(PlaywrightTimeoutError):
        page.locator(selector).first.wait_for(state="attached", timeout=RENDER_TIMEOUT * 1000)
    return page.locator(selector).count()


def test_the_course_has_notebooks():
    assert FIRST_NOTEBOOK in NOTEBOOKS, f"no notebooks/{FIRST_NOTEBOOK} in {NOTEBOOK_DIR}"


def test_make_lab_lands_on_the_first_notebook_without_pop_ups(lab_server, browser_context):
    """What a newcomer sees at the address `make lab` prints: 00 open, nothing in front of it."""
    page = browser_context.new_page()
    page.set_default_timeout(OPEN_TIMEOUT * 1000)
    try:
        # The printed address is the server's default page plus the token.
        page.goto(lab_server.url(""))
        wait_for(page, kernel_ready(FIRST_NOTEBOOK, lab_server), OPEN_TIMEOUT, lab_server,
                 f"{FIRST_NOTEBOOK}: not opened with an idle kernel")  # fmt: skip
        assert FIRST_NOTEBOOK in page.url
        active_tab = page.locator(".jp-mod-current .lm-TabBar-tabLabel").first.text_content()
        assert active_tab == FIRST_NOTEBOOK
        page.wait_for_timeout(3000)  # the news question, when asked, comes a moment after start
        assert page.get_by_text(NEWS_QUESTION).count() == 0, "JupyterLab asks about news"
    finally:
        lab_server.shut_down_kernels()
        page.close()


class NotebookInJupyterLab:
    """Open one notebook in JupyterLab, run it from clean outputs, look at the page."""

    name = None

    def test_runs_in_jupyterlab(self, lab_server, browser_context, browser_report):
        run_notebook(self.name, lab_server, browser_context, browser_report)


for _name in NOTEBOOKS:
    _class = "TestNotebook_" + Path(_name).stem
    globals()[_class] = type(_class, (NotebookInJupyterLab,), {"name": _name})


def run_notebook(name, lab_server, browser_context, browser_report):
    cells = cells_of(name, "code")
    visible_cells = [cell for cell in cells if not source_hidden(cell)]
    screenshot = browser_report.screenshot_path(Path(name).stem)
    stored = (NOTEBOOK_DIR / name).read_bytes()
    seconds = {}
    problem = True  # until the page has been seen to be fine
    page = browser_context.new_page()
    page.set_default_timeout(OPEN_TIMEOUT * 1000)
    started = time.monotonic()
    try:
        # `reset`: a fresh workspace, without the notebooks that earlier tests opened.
        page.goto(lab_server.url(f"lab/tree/notebooks/{name}", query="reset&"))
        kernel_is_ready = kernel_ready(name, lab_server)
        wait_for(page, kernel_is_ready, OPEN_TIMEOUT, lab_server, f"{name}: no idle kernel")
        seconds["opened"] = time.monotonic() - started

        if not cells:  # a reference page: nothing to run
            check_reference_page(name, page)
            problem = False
            return
        # Fresh outputs only: clear what the file stored, then run everything.
        run_menu_command(page, "Edit", "Clear Outputs of All Cells")
        wait_for(page, outputs_cleared, 30, lab_server, f"{name}: outputs not cleared")
        started = time.monotonic()
        run_menu_command(page, "Run", "Run All Cells")
        wait_for(page, run_started, 30, lab_server, f"{name}: Run All Cells did not start")
        wait_for(page, run_is_over, RUN_TIMEOUT, lab_server, f"{name}: still running")
        seconds["ran"] = time.monotonic() - started

        # textContent, not innerText: the browser skips rendering cells out of
        # view, and their innerText is then empty.
        errors = page.locator(ERROR_OUTPUT).all_text_contents()
        stderr = page.locator(STDERR_OUTPUT).all_text_contents()
        problem = bool(errors) or any("Traceback" in text or "Warning" in text for text in stderr)
        prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_text_contents()
        n_code_cells = page.locator(".jp-CodeCell").count()
        # Wait only for what the notebook must show: a missing kind would cost the whole timeout.
        n_formulas = count_when_present(page, "mjx-container") if has_maths(name) else 0
        n_images = count_when_present(page, ".jp-RenderedImage img") if stores_images(cells) else 0
    finally:
        # A picture of whatever the page shows, even (above all) when the test fails.
        with contextlib.suppress(PlaywrightError):
            if problem:
                take_full_screenshot(page, screenshot)
            else:
                page.screenshot(path=str(screenshot))
        browser_report.add(name, screenshot, seconds)
        lab_server.shut_down_kernels()
        page.close()  # without saving: the run's outputs stay in the browser
    assert (NOTEBOOK_DIR / name).read_bytes() == stored, f"JupyterLab changed notebooks/{name}"

    tracebacks = [text for text in stderr if "Traceback" in text]
    assert not (errors or tracebacks), f"{name}: a cell raised an error:\n" + "\n---\n".join(
        errors + tracebacks
    )
    warnings = [text for text in stderr if "Warning" in text]
    assert not warnings, f"{name}: warnings on stderr:\n" + "\n---\n".join(warnings)

    assert n_code_cells == len(cells), (
        f"{name}: JupyterLab shows {n_code_cells} code cells, the file has {len(cells)}"
    )
    counts = [execution_count(prompt) for prompt in prompts]
    assert len(counts) == len(visible_cells) and None not in counts, (
        f"{name}: not every cell ran; the prompts read {prompts}"
    )
    assert counts == sorted(counts), f"{name}: cells ran out of order: {prompts}"

    if has_maths(name):
        assert n_formulas > 0, f"{name}: no rendered LaTeX (no MathJax mjx-container on the page)"
    if stores_images(cells):
        assert n_images > 0, f"{name}: no plot (no .jp-RenderedImage img on the page)"


def check_reference_page(name, page):
    """A page without code (formula sheet, glossary): its text and formulas render."""
    headings = page.locator(".jp-RenderedMarkdown h1, .jp-RenderedMarkdown h2").count()
    assert headings > 0, f"{name}: no rendered heading"
    if has_maths(name):
        assert count_when_present(page, "mjx-container") > 0, f"{name}: no rendered LaTeX"
