"""Put "Open in Colab" badges in README.md and the notebook once the repository is public on GitHub.

    python tools/colab_badge.py OWNER/NAME    # badges: the notebook on GitHub's main branch
    python tools/colab_badge.py               # no public path yet: upload instructions, no badge

It rewrites what stands between the markers <!-- colab-badge --> and <!-- /colab-badge --> in both
files. The Makefile's COLAB_REPO holds the path (`make badge`).
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "Hand_Written_Digit_Classification.ipynb"
README = ROOT / "README.md"
MARKED = re.compile(r"(<!-- colab-badge -->\n).*?(\n<!-- /colab-badge -->)", re.S)
UPLOAD_INSTRUCTIONS = (
    "**Run it in Google Colab:** *File → Upload notebook* in "
    "[Colab](https://colab.research.google.com/), "
    f"choose `{NOTEBOOK.name}`, then *Runtime → Run all*."
)


def badge(repo):
    if not repo:
        return UPLOAD_INSTRUCTIONS
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
        raise SystemExit(f"expected the repository as OWNER/NAME, got {repo!r}")
    url = f"https://colab.research.google.com/github/{repo}/blob/main/{NOTEBOOK.name}"
    return (
        f'<a href="{url}" target="_parent">'
        '<img src="https://colab.research.google.com/assets/colab-badge.svg" '
        'alt="Open In Colab"/></a>'
    )


def rewrite(text, content):
    new, count = MARKED.subn(lambda match: match[1] + content + match[2], text)
    if count != 1:
        raise SystemExit(
            "expected exactly one <!-- colab-badge --> ... <!-- /colab-badge --> block"
        )
    return new


def main(repo=""):
    content = badge(repo)
    README.write_text(rewrite(README.read_text(), content))
    notebook = json.loads(NOTEBOOK.read_text())
    first = notebook["cells"][0]
    first["source"] = rewrite("".join(first["source"]), content).splitlines(keepends=True)
    NOTEBOOK.write_text(json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"Colab link in README.md and {NOTEBOOK.name}: {content}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
