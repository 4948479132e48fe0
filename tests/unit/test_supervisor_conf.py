"""deploy/supervisord.conf is the production rendering of the one template."""

from pathlib import Path

from herald.supervisor import PRODUCTION, render


def test_committed_config_matches_the_template():
    committed = Path(__file__).parents[2] / "deploy" / "supervisord.conf"
    assert committed.read_text() == render(PRODUCTION), (
        "regenerate: python -c 'from herald.supervisor import *; "
        'print(render(PRODUCTION), end="")\' > deploy/supervisord.conf'
    )
