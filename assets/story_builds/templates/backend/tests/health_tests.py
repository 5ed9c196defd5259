"""Tests of the skeleton: the service answers its health probe, serves its contract, refuses unknown paths."""

import json
import unittest

from tests.support import BACKEND, ApiTestCase


class TestSkeleton(ApiTestCase):
    def test_health(self):
        self.assertEqual(self.api("GET", "/api/health"), (200, {"status": "ok"}))

    def test_contract_is_served(self):
        status, document = self.api("GET", "/openapi.json")
        self.assertEqual(status, 200)
        self.assertEqual(document, json.loads((BACKEND / "openapi.json").read_text()))

    def test_unknown_path_is_404(self):
        status, error = self.api("GET", "/api/no-such-thing")
        self.assertEqual(status, 404)
        self.assertIn("no such path", error["detail"])


if __name__ == "__main__":
    unittest.main()
