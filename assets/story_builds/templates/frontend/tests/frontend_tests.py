"""Tests of the frontend: every API call it makes is in the backend's contract, and the page has the
controls for every resource it offers."""

import json
import shutil
import subprocess
import unittest
from html.parser import HTMLParser
from pathlib import Path

FRONTEND = Path(__file__).resolve().parents[1]
CONTRACT = FRONTEND.parent / "backend" / "openapi.json"
COLLECTION_KINDS = ("list", "create")


def load_resources():
    text = (FRONTEND / "resources.js").read_text(encoding="utf-8").strip()
    prefix, suffix = "window.RESOURCES = ", ";"
    if not (text.startswith(prefix) and text.endswith(suffix)):
        raise AssertionError("resources.js is not `window.RESOURCES = <JSON>;`")
    return json.loads(text[len(prefix) : -len(suffix)])


class Page(HTMLParser):
    """Scripts, and per resource section: the roles of its parts and the input names in each part."""

    def __init__(self):
        super().__init__()
        self.scripts = []
        self.sections = {}
        self._section = None
        self._role = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and attributes.get("src"):
            self.scripts.append(attributes["src"])
        if tag == "section" and "data-resource" in attributes:
            self._section = self.sections.setdefault(attributes["data-resource"], {})
        if self._section is not None and "data-summary" in attributes:
            self._section.setdefault("summaries", []).append(attributes["data-summary"])
        if self._section is not None and "data-role" in attributes:
            self._role = attributes["data-role"]
            self._section.setdefault(self._role, [])
        if tag in ("input", "select", "textarea") and self._section is not None and self._role:
            self._section[self._role].append(attributes.get("name"))

    def handle_endtag(self, tag):
        if tag == "section":
            self._section = None
        if tag in ("form", "table", "p"):
            self._role = None


def read_page():
    page = Page()
    page.feed((FRONTEND / "index.html").read_text(encoding="utf-8"))
    return page


class TestFrontend(unittest.TestCase):
    def test_every_request_is_in_the_contract(self):
        paths = json.loads(CONTRACT.read_text(encoding="utf-8"))["paths"]
        resources = load_resources()
        self.assertIsInstance(resources, list)
        for resource in resources:
            for kind, method in resource["operations"].items():
                path = resource["collection_path"] if kind in COLLECTION_KINDS else resource["item_path"]
                self.assertIn(path, paths, f"{resource['name']} {kind}")
                self.assertIn(method.lower(), paths[path], f"{resource['name']} {kind}: {method} {path}")
                if kind == "list":
                    declared = {
                        p["name"] for p in paths[path]["get"].get("parameters", []) if p["in"] == "query"
                    }
                    self.assertLessEqual(set(resource["list_parameters"]), declared)
            for action in [*resource["transitions"], *resource["summaries"]]:
                self.assertIn(action["path"], paths, f"{resource['name']} {action['name']}")
                self.assertIn(action["method"].lower(), paths[action["path"]], action["name"])

    def test_page_has_controls_for_every_resource(self):
        page = read_page()
        self.assertEqual(page.scripts, ["config.js", "resources.js", "app.js"])
        for resource in load_resources():
            section = page.sections.get(resource["name"])
            self.assertIsNotNone(section, f"no section for {resource['name']}")
            operations = resource["operations"]
            if "create" in operations or "update" in operations:
                editable = [field["name"] for field in resource["fields"] if not field["read_only"]]
                self.assertEqual(section.get("editor"), editable)
            if "list" in operations:
                self.assertIn("items", section)
                self.assertEqual(section.get("filters", []), resource["list_parameters"])
            elif "read" in operations:  # records opened by id get rows (and transition buttons)
                self.assertEqual(section.get("lookup"), ["id"])
                self.assertIn("items", section)
            self.assertEqual(section.get("summaries", []), [s["name"] for s in resource["summaries"]])
            self.assertIn("status", section)

    def test_scripts_parse(self):
        node = shutil.which("node")
        if node is None:
            self.skipTest("node is not installed")
        for name in ("config.js", "resources.js", "app.js"):
            result = subprocess.run([node, "--check", str(FRONTEND / name)], capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, f"{name}: {result.stderr}")


if __name__ == "__main__":
    unittest.main()
