"""Settings: pydantic-settings from a TOML file and the environment, typed and bounded."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from router.bundled import bundled
from router.errors import ConfigError
from router.settings import Settings, env_name, settings_help


class TestSources:
    def test_defaults_and_overrides(self) -> None:
        """Empty env gives defaults; CLI overrides win; None keeps env values."""
        s = Settings.from_env({"XDG_DATA_HOME": "/x"})
        assert s.redis_url is None
        assert s.agi_port == 4573
        assert s.lookup_deadline_ms == 50.0
        assert s.data_dir == Path("/x/tierline")
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
                "TIERLINE_LOG_LEVEL": "WARNING",
            }
        )
        assert (s.redis_url, s.agi_port, s.lookup_deadline_ms) == ("redis://h:1/0", 4600, 20.0)
        assert s.data_dir == Path("/data")
        assert s.log_level == "warning"

    def test_toml_file_with_env_overriding_it(self, tmp_path: Path) -> None:
        """A TOML file sets values; the environment overrides them; its paths are its own."""
        conf = tmp_path / "etc" / "tierline.toml"
        conf.parent.mkdir()
        conf.write_text('agi_port = 4700\nlookup_deadline_ms = 30\nflows_dir = "flows"\n')
        s = Settings.from_env({"TIERLINE_CONFIG": str(conf), "TIERLINE_AGI_PORT": "4701"})
        assert s.agi_port == 4701
        assert s.lookup_deadline_ms == 30.0
        assert s.flows_dir == conf.parent / "flows"
        assert s.routing_config == conf.parent / "flows" / "routing.yaml"
        assert Settings.from_env({}, config_file=conf).agi_port == 4700

    def test_unknown_toml_key_names_file_and_key(self, tmp_path: Path) -> None:
        """An unknown key is an error with the file, the key and the likely intended key."""
        conf = tmp_path / "t.toml"
        conf.write_text("agi_prot = 1\n")
        with pytest.raises(ConfigError) as info:
            Settings.from_env({"TIERLINE_CONFIG": str(conf)})
        assert str(info.value) == (
            f"config file {conf}: unknown key 'agi_prot'; did you mean 'agi_port'?"
        )

    def test_bad_toml_value_names_file_and_key(self, tmp_path: Path) -> None:
        """A bad value in the file names the key and the file."""
        conf = tmp_path / "t.toml"
        conf.write_text("redis_pool_size = 0\n")
        with pytest.raises(ConfigError, match=f"Config 'redis_pool_size' in {conf} has value '0'"):
            Settings.from_env({}, config_file=conf)

    def test_missing_or_broken_toml(self, tmp_path: Path) -> None:
        """A config file that is missing or not TOML is an error naming it."""
        with pytest.raises(ConfigError, match="cannot read it"):
            Settings.from_env({}, config_file=tmp_path / "none.toml")
        bad = tmp_path / "bad.toml"
        bad.write_text("agi_port = = 1\n")
        with pytest.raises(ConfigError, match="not valid TOML"):
            Settings.from_env({}, config_file=bad)

    def test_direct_construction_ignores_the_shell(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Settings(...) is exactly its arguments: tests do not depend on the developer's env."""
        monkeypatch.setenv("TIERLINE_AGI_PORT", "1234")
        assert Settings().agi_port == 4573


class TestBounds:
    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            (
                "TIERLINE_AGI_PORT",
                "70000",
                "Config 'TIERLINE_AGI_PORT' has value '70000'. "
                "Input should be less than or equal to 65535.",
            ),
            (
                "TIERLINE_LOOKUP_DEADLINE_MS",
                "fast",
                "Config 'TIERLINE_LOOKUP_DEADLINE_MS' has value 'fast'. "
                "Input should be a valid number, unable to parse string as a number.",
            ),
            (
                "TIERLINE_LOOKUP_DEADLINE_MS",
                "-5",
                "Config 'TIERLINE_LOOKUP_DEADLINE_MS' has value '-5'. "
                "Input should be greater than or equal to 1.",
            ),
            (
                "TIERLINE_LOG_LEVEL",
                "verbose",
                "Config 'TIERLINE_LOG_LEVEL' has value 'verbose'. "
                "Input should be 'debug', 'info', 'warning', 'error' or 'critical'.",
            ),
            (
                "TIERLINE_REDIS_POOL_SIZE",
                "0",
                "Config 'TIERLINE_REDIS_POOL_SIZE' has value '0'. "
                "Input should be greater than or equal to 1.",
            ),
            (
                "TIERLINE_DEFAULT_QUEUE",
                "sup port",
                "Config 'TIERLINE_DEFAULT_QUEUE' has value 'sup port'. "
                "String should match pattern '^[A-Za-z][A-Za-z0-9_-]{0,63}$'.",
            ),
        ],
    )
    def test_bad_values_name_the_variable(self, name: str, value: str, message: str) -> None:
        """A bad or out-of-range value fails at start-up, naming the variable and the value."""
        with pytest.raises(ConfigError) as info:
            Settings.from_env({name: value})
        assert str(info.value) == message

    def test_secret_never_in_the_error(self) -> None:
        """A rejected REDIS_URL is named, but its password is not repeated."""
        with pytest.raises(ConfigError) as info:
            Settings.from_env({"REDIS_URL": "http://:hunter22@h:1/0"})
        assert "hunter22" not in str(info.value)
        assert "REDIS_URL" in str(info.value)

    def test_overrides_are_validated(self) -> None:
        """A CLI override goes through the same bounds."""
        with pytest.raises(ConfigError, match="Option 'agi_port' has value '70000'"):
            Settings().with_overrides(agi_port=70000)

    def test_frozen(self) -> None:
        """Validated once at load: no one changes a setting afterwards."""
        with pytest.raises(pydantic.ValidationError):
            Settings().agi_port = 1  # type: ignore[misc]


class TestPaths:
    def test_defaults_do_not_depend_on_the_cwd(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The default flows and routing file are the shipped ones, from any directory."""
        monkeypatch.chdir(tmp_path)
        s = Settings.from_env({})
        assert s.flows_dir.is_absolute()
        assert s.flows_dir == bundled("ivr_flows")
        assert (s.flows_dir / "telecom.yaml").is_file()
        assert s.routing_config.is_file()
        assert (bundled("samples") / "customers.csv").is_file()

    def test_routing_follows_an_overridden_flows_dir(self, tmp_path: Path) -> None:
        """--flows/TIERLINE_FLOWS_DIR alone moves the routing file with it."""
        s = Settings.from_env({"TIERLINE_FLOWS_DIR": str(tmp_path)})
        assert s.routing_config == tmp_path / "routing.yaml"
        assert Settings().with_overrides(flows_dir=tmp_path).routing_config == (
            tmp_path / "routing.yaml"
        )


class TestHelp:
    def test_every_variable_is_listed(self) -> None:
        """--help's settings block names every variable."""
        text = settings_help()
        for field in Settings.model_fields:
            assert env_name(field) in text
        assert "TIERLINE_LOOKUP_DEADLINE_MS  (number >=1,<=60000) [50.0]" in text


class TestReadme:
    def test_readme_example_file_loads(self, tmp_path: Path) -> None:
        """The README's TOML example is a valid settings file."""
        readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
        example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
        conf = tmp_path / "tierline.toml"
        conf.write_text(example)
        s = Settings.from_env({}, config_file=conf)
        assert (s.lookup_deadline_ms, s.flows_dir) == (40.0, tmp_path / "flows")
        assert s.redis_url == "redis://:secret@10.0.0.5:6379/0"
