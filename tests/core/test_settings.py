"""Settings from the environment, with precise cast errors."""

from pathlib import Path

import pytest

from router.errors import ConfigError
from router.settings import Settings


class TestSettings:
    def test_defaults_and_overrides(self) -> None:
        """Empty env gives defaults; CLI overrides win; None keeps env values."""
        s = Settings.from_env({"XDG_DATA_HOME": "/x"})
        assert s.redis_url is None
        assert s.agi_port == 4573
        assert s.lookup_deadline_ms == 50.0
        o = s.with_overrides(agi_port=4600, redis_url=None)
        assert o.agi_port == 4600
        assert o.redis_url is None

    def test_env_values(self) -> None:
        """Each variable is read and cast."""
        s = Settings.from_env(
            {
                "REDIS_URL": "redis://h:1/0",
                "TIERLINE_AGI_PORT": "4600",
                "TIERLINE_LOOKUP_DEADLINE_MS": "20",
                "TIERLINE_DATA_DIR": "/data",
            }
        )
        assert (s.redis_url, s.agi_port, s.lookup_deadline_ms) == ("redis://h:1/0", 4600, 20.0)
        assert s.data_dir == Path("/data")

    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            (
                "TIERLINE_AGI_PORT",
                "70000",
                "Config 'TIERLINE_AGI_PORT' has value '70000'. "
                "Not a valid port (0-65535; 0 picks a free one).",
            ),
            (
                "TIERLINE_LOOKUP_DEADLINE_MS",
                "fast",
                "Config 'TIERLINE_LOOKUP_DEADLINE_MS' has value 'fast'. Not a valid float.",
            ),
        ],
    )
    def test_bad_values_name_the_variable(self, name: str, value: str, message: str) -> None:
        """A bad value fails at start-up, naming the variable and the value."""
        with pytest.raises(ConfigError) as info:
            Settings.from_env({name: value})
        assert str(info.value) == message
