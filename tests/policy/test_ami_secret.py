"""One AMI secret file serves Asterisk's #include and the router; loopback by default."""

from __future__ import annotations

import ipaddress
import re
import shutil
from pathlib import Path

import pytest

from router.ami.listener import ListenerConfig
from router.ami.secret import parse_secret, read_secret
from router.errors import ConfigError
from router.settings import Settings
from tests.policy.conftest import CONF_DIR
from tests.policy.test_asterisk_conf import lint_messages

SECRET = "9f2c41d0a7be58e3c6f1029a4d7b83e5f60c1a2b3d4e5f60"


def documented_secret_file(directory: Path) -> Path:
    """The secret file exactly as the install steps in asterisk_conf/README.md write it."""
    readme = (CONF_DIR / "README.md").read_text()
    found = re.search(r"printf '([^']*)' \"\$\(openssl rand -hex 24\)\" > (\S+)", readme)
    assert found, "install steps no longer write the secret file with printf"
    path = directory / Path(found.group(2)).name
    path.write_text(found.group(1).replace("\\n", "\n").replace("%s", SECRET))
    return path


class TestOneSecretFile:
    def test_asterisk_and_router_read_the_same_secret(self, tmp_path: Path) -> None:
        """The documented file gives Asterisk's [tierline] user and the router one secret."""
        secret_file = documented_secret_file(tmp_path)
        shutil.copy(CONF_DIR / "manager.conf", tmp_path / "manager.conf")
        messages, sections = lint_messages(tmp_path / "manager.conf", dialplan=False)
        assert messages == []
        assert sections["tierline"]["secret"] == SECRET
        env = {"TIERLINE_AMI_USERNAME": "tierline", "TIERLINE_AMI_SECRET_FILE": str(secret_file)}
        assert ListenerConfig.from_settings(Settings.from_env(env)).secret == SECRET

    @pytest.mark.parametrize(
        "text",
        [
            f"secret={SECRET}\n",
            f"  Secret = {SECRET}  ; made by the install step\n",
            f"; tierline AMI user\n\nsecret => {SECRET}\n",
            f"permit=127.0.0.1/255.255.255.255\nsecret={SECRET}\n",
            f"{SECRET}\n",
        ],
    )
    def test_accepted_spellings(self, text: str) -> None:
        """A secret= line as Asterisk reads it, or the bare secret alone."""
        assert parse_secret(text, "f") == SECRET

    def test_escaped_semicolon_and_base64_padding(self) -> None:
        """\\; is a literal ;, and a bare base64 secret's == padding is no key=value."""
        assert parse_secret("secret=ab\\;cd;comment\n", "f") == "ab;cd"
        assert parse_secret("c2VjcmV0IHRleHQ==\n", "f") == "c2VjcmV0IHRleHQ=="

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("", "no 'secret=' line"),
            ("secret=\n", "empty"),
            (f"secret={SECRET}\nsecret=other\n", "2 'secret=' lines"),
            (f"secert={SECRET}\n", "no 'secret=' line"),
            (f"{SECRET}\nsecond line\n", "no 'secret=' line"),
        ],
    )
    def test_unusable_file_is_a_clear_error_without_the_secret(
        self, text: str, message: str
    ) -> None:
        """A file with no single usable secret names the variable and never echoes a value."""
        with pytest.raises(ConfigError, match="TIERLINE_AMI_SECRET_FILE") as err:
            parse_secret(text, "/etc/asterisk/tierline-ami-secret.conf")
        assert message in str(err.value)
        assert SECRET not in str(err.value)


class TestManagerConfDefaults:
    @pytest.fixture
    def sections(self, tmp_path: Path) -> dict[str, dict[str, str]]:
        documented_secret_file(tmp_path)
        shutil.copy(CONF_DIR / "manager.conf", tmp_path / "manager.conf")
        return lint_messages(tmp_path / "manager.conf", dialplan=False)[1]

    def test_loopback_out_of_the_box(self, sections: dict[str, dict[str, str]]) -> None:
        """The shipped AMI listens on and admits loopback only: no edit for a local router."""
        assert ipaddress.ip_address(sections["general"]["bindaddr"]).is_loopback
        permit = ipaddress.ip_network(sections["tierline"]["permit"])
        assert permit.is_loopback
        assert sections["tierline"]["deny"] == "0.0.0.0/0.0.0.0"

    def test_comments_name_only_real_settings(self) -> None:
        """manager.conf points the router at TIERLINE_AMI_SECRET_FILE, a variable it reads."""
        text = (CONF_DIR / "manager.conf").read_text()
        comments = " ".join(line for line in text.splitlines() if line.lstrip().startswith(";"))
        named = set(re.findall(r"TIERLINE_AMI_[A-Z_]+", comments))
        assert named == {"TIERLINE_AMI_SECRET_FILE"}
        from router.settings import env_name

        assert "TIERLINE_AMI_SECRET_FILE" in {env_name(f) for f in Settings.model_fields}


class TestDialerSecretFile:
    def test_the_dialer_reads_its_include_file_like_asterisk(self, tmp_path: Path) -> None:
        """tierline-dialer-ami-secret.conf holds `secret=...` for manager_dialer.conf; the
        dialer reads the same line (not the whole text), and errors name its own variable."""
        good = tmp_path / "tierline-dialer-ami-secret.conf"
        good.write_text("secret=s3cr3t-dialer\n")
        assert read_secret(good, "TIERLINE_DIALER_AMI_SECRET_FILE") == "s3cr3t-dialer"
        empty = tmp_path / "empty.conf"
        empty.write_text("secret=\n")
        with pytest.raises(ConfigError, match="TIERLINE_DIALER_AMI_SECRET_FILE"):
            read_secret(empty, "TIERLINE_DIALER_AMI_SECRET_FILE")
