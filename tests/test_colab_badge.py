"""The Colab badge: a working link once the repository's path is known, upload instructions until then."""
import importlib.util

from conftest import ROOT

spec = importlib.util.spec_from_file_location("colab_badge", ROOT / "tools" / "colab_badge.py")
colab_badge = importlib.util.module_from_spec(spec)
spec.loader.exec_module(colab_badge)

PAGE = "# Title\n\n<!-- colab-badge -->\nold text\n<!-- /colab-badge -->\n\nRest.\n"


def test_badge_links_to_the_notebook_on_github():
    page = colab_badge.rewrite(PAGE, colab_badge.badge("someone/digits"))
    assert ("https://colab.research.google.com/github/someone/digits/blob/main/"
            "Hand_Written_Digit_Classification.ipynb") in page
    assert "old text" not in page and page.endswith("<!-- /colab-badge -->\n\nRest.\n")


def test_without_a_repository_the_page_says_how_to_upload():
    page = colab_badge.rewrite(PAGE, colab_badge.badge(""))
    assert "Upload notebook" in page and "colab.research.google.com/github" not in page


def test_committed_pages_carry_no_dead_badge():
    for path in (ROOT / "README.md", ROOT / "Hand_Written_Digit_Classification.ipynb"):
        text = path.read_text()
        assert "<!-- colab-badge -->" in text
        assert '"https://colab.research.google.com/github/"' not in text  # a badge with no repository
