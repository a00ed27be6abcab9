"""Rendering: JSON documents (`documents`), rich tables (`tables`), and numbers for people (`numbers`).

The only package that uses rich, and only in `tables`.
"""
