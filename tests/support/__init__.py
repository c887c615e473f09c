"""Helpers shared by the tests (fakes of our own seams, builders of test data)."""
