"""Estimates: one module per question (train, plan, checks, sweep, batch, backtest, memory).

Each takes resolved inputs (resolve.py) or specs and returns a frozen Result; none does I/O.
"""
