"""`llamacalc backtest` and `llamacalc memory`: how far to trust the estimates, and whether a run fits."""

import typer

from llamacalc.cli.app import JsonOpt, PresetsOpt, app, catalog_from, print_json, print_tables


@app.command()
def backtest(presets: PresetsOpt = None, as_json: JsonOpt = False) -> None:
    """Every preset with published GPU-hours: the estimate at default assumptions against it.

    Example: llamacalc backtest
    """
    from llamacalc import output
    from llamacalc.backtest import rows

    found = rows(catalog_from(presets))
    if not found:
        raise typer.BadParameter("no model preset has reported GPU-hours")
    if as_json:
        print_json(output.backtest_document(found))
    else:
        print_tables(output.backtest_table(found))
