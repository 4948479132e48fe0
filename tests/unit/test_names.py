"""One rule for check and heartbeat names (ground.names), shared by the monitor."""

import pytest

from ground.names import CHECK_NAME, check_name


@pytest.mark.parametrize(
    "name",
    ["api", "A", "trade-server", "prod-1.api:8080", "svc@host", "a/b+c_d", "x" * 100, "9lives"],
)
def test_valid_names_pass_unchanged(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "-api", ".hidden", "x" * 101, "two words", "api\n", "tab\there", "naïve", "a,b", "é"],
)
def test_invalid_names_raise_a_value_error_stating_the_rule(name: str) -> None:
    with pytest.raises(ValueError, match=r"is not a valid name: use 1-100 characters of letters"):
        check_name(name)
    assert CHECK_NAME.match(name) is None


def test_the_monitor_checks_names_by_the_same_rule() -> None:
    from monitor import settings

    assert settings.CHECK_NAME is CHECK_NAME
