import json
from decimal import Decimal

import pytest
from rich.console import Console

from ops.__main__ import main
from ops.local.demo import run_demo

pytestmark = pytest.mark.integration


def test_demo_shows_the_seed_totals(endpoint):
    """``endpoint`` resets moto afterwards: its state is per process, shared by the demo's server."""
    console = Console(record=True, width=100)
    totals = run_demo(console)
    expected = {"Total": Decimal(400), "TransactionCount": Decimal(2), "UpdateDate": "06062016"}
    assert totals == {"ABC": {**expected, "LargestTransaction": Decimal(300)}}, "the max read from the extremes table"
    text = console.export_text()
    assert "InvoiceTotal" in text and "ABC" in text and "400" in text and "06062016" in text
    assert "LargestTransaction" in text and "300" in text


def test_cli_rejects_unknown_commands(capsys):
    with pytest.raises(SystemExit):
        main(["nope"])
    assert "invalid choice" in capsys.readouterr().err


def test_demo_verbose_shows_the_handlers_summary_line_as_written(endpoint):
    """Each log line the handler wrote, whole: one line of JSON, however narrow the console."""
    console = Console(record=True, width=40)
    run_demo(console, verbose=True)
    lines = [line for line in console.export_text().splitlines() if line.startswith("{")]
    summaries = [json.loads(line) for line in lines if '"message":"batch processed"' in line]
    assert len(summaries) == 1 and summaries[0]["Records"] == 2 and summaries[0]["AggregateWrites"] == 1, lines


def test_demo_verbose_is_refused_with_watch(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--watch", "--verbose"])
    assert exit_info.value.code == 2
    assert "demo: error: --verbose is not for --watch" in capsys.readouterr().err
