"""Clients behind small interfaces, each with a local default and a cloud implementation."""
