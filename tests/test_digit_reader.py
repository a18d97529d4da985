"""digit_reader.py is the notebook's library, generated: it matches the notebook's `library` cells,
a hand edit of either side is caught, importing it has no side effects, and the README's example
runs."""

import os
import re
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image

from conftest import MODEL_PATH, PROGRAMS, ROOT
from tools.export_library import MODULE, NOTEBOOK, module_source


def check(notebook=NOTEBOOK, module=MODULE):
    """The exporter's --check on the given files: (exit status, message)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.export_library",
            "--check",
            "--notebook",
            str(notebook),
            "--module",
            str(module),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    return out.returncode, out.stderr


def test_the_committed_module_is_generated_from_the_notebook():
    assert MODULE.read_text() == module_source(NOTEBOOK)
    assert check() == (0, "")


def test_a_hand_edit_of_either_side_is_caught(tmp_path):
    notebook, module = tmp_path / NOTEBOOK.name, tmp_path / MODULE.name
    shutil.copy(MODULE, module)
    notebook.write_text(NOTEBOOK.read_text().replace("MAX_MARKS = 40", "MAX_MARKS = 41", 1))
    status, message = check(notebook, module)
    assert status == 1 and "python -m tools.export_library" in message
    shutil.copy(NOTEBOOK, notebook)
    assert check(notebook, module)[0] == 0
    module.write_text(MODULE.read_text().replace("MAX_MARKS = 40", "MAX_MARKS = 41", 1))
    assert check(notebook, module)[0] == 1


def test_importing_it_trains_downloads_and_serves_nothing(tmp_path):
    """In an empty folder, the import writes no file, loads neither Gradio nor a model, starts no
    process or thread, and asks no device for its list."""
    out = subprocess.run(
        [sys.executable, str(PROGRAMS / "import_digit_reader.py")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-4:] == ["False", "1", "0", "[]"], out.stdout
    assert list(tmp_path.iterdir()) == []


def test_the_apps_example_picture_is_removed_when_python_exits(tmp_path):
    """build_demo() writes the "Use via API" page's example picture into a temporary folder of its
    own; the folder is gone once the process ends (they used to pile up)."""
    build = (
        "import digit_reader, os, tempfile; demo = digit_reader.build_demo(None); "
        "print(*sorted(os.listdir(tempfile.gettempdir())))"
    )
    out = subprocess.run(
        [sys.executable, "-c", build],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert [name for name in out.stdout.split() if name.startswith("digit_app_")]  # it was there
    assert list(tmp_path.glob("digit_app_*")) == []


def test_the_readme_example_reads_a_photo(tmp_path, library, mnist_test):
    """The README's "Use the model in your program" example, run as written beside the model and a
    photo of four test digits."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Use the model in your program", 1)[1]
    (example,) = re.findall(r"```python\n(.*?)```", section, re.S)[:1]
    images, labels = mnist_test
    number = library.compose_number(images[:4], [8, 8, 8])
    photo = library.photo_like(np.kron(number / 255, np.ones((4, 4))), np.random.default_rng(0))
    Image.fromarray(photo).save(tmp_path / "my_number.jpg", quality=85)
    shutil.copy(MODEL_PATH, tmp_path / "mnist_model.h5")
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r})\n" + example],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[0] == "".join(map(str, labels[:4])), out.stdout
