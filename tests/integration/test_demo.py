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
    assert totals == {"ABC": {"Total": Decimal(400), "TransactionCount": Decimal(2), "UpdateDate": "06062016"}}
    text = console.export_text()
    assert "InvoiceTotal" in text and "ABC" in text and "400" in text and "06062016" in text


def test_cli_rejects_unknown_commands(capsys):
    with pytest.raises(SystemExit):
        main(["nope"])
    assert "invalid choice" in capsys.readouterr().err
