"""Reusable widgets shared by the views."""
