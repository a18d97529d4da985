"""The Colab badge: a working link once the repository's path is known, upload instructions until
then."""

import importlib.util
import re

from conftest import ROOT

spec = importlib.util.spec_from_file_location("colab_badge", ROOT / "tools" / "colab_badge.py")
colab_badge = importlib.util.module_from_spec(spec)
spec.loader.exec_module(colab_badge)

PAGE = "# Title\n\n<!-- colab-badge -->\nold text\n<!-- /colab-badge -->\n\nRest.\n"


def test_badge_links_to_the_notebook_on_github():
    page = colab_badge.rewrite(PAGE, colab_badge.badge("someone/digits"))
    assert (
        "https://colab.research.google.com/github/someone/digits/blob/main/"
        "Hand_Written_Digit_Classification.ipynb"
    ) in page
    assert "old text" not in page and page.endswith("<!-- /colab-badge -->\n\nRest.\n")


def test_without_a_repository_the_page_says_how_to_upload():
    page = colab_badge.rewrite(PAGE, colab_badge.badge(""))
    assert "Upload notebook" in page and "colab.research.google.com/github" not in page


def test_committed_pages_carry_the_makefiles_badge():
    """The pages show what `make badge` writes for the Makefile's COLAB_REPO: a badge for that
    repository, or, while it is empty, the upload instructions and no Colab link to GitHub at
    all."""
    (repo,) = re.findall(r"^COLAB_REPO :=[ \t]*(\S*)$", (ROOT / "Makefile").read_text(), re.M)
    for path in (ROOT / "README.md", ROOT / "Hand_Written_Digit_Classification.ipynb"):
        text = path.read_text()
        assert "<!-- colab-badge -->" in text
        if repo:
            assert f"https://colab.research.google.com/github/{repo}/blob/main/" in text
        else:
            assert "Upload notebook" in text and "colab.research.google.com/github" not in text
