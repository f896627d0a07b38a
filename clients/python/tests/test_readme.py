"""The README's Python snippets compile and name only what the package exports."""

from __future__ import annotations

import ast
import re

import sessionkit_strands

from .conftest import REPO_ROOT


def test_readme_snippets() -> None:
    text = (REPO_ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 2
    for block in blocks:
        tree = ast.parse(block)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "sessionkit_strands":
                for alias in node.names:
                    assert hasattr(sessionkit_strands, alias.name), alias.name
        compile(tree, "README.md", "exec")
