"""Customer import/export: validation, line numbers, idempotence, round trip."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from redis.asyncio import Redis

from router.cli import cli
from router.customers.import_rows import read_rows
from router.customers.importer import import_path
from router.customers.model import Customer
from router.customers.store import RedisCustomerStore

HEADER = (
    "customer_id,name,tier,list,lifecycle,arpu,tenure_months,credit_score,"
    "language,account_manager,offers,phones\n"
)
ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "customers.csv"


def write(tmp_path: Path, body: str, name: str = "c.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


GOOD = (
    "C1,Alice,vip,red,stable,500.5,24,800,zh,am.li,Offer A;Offer B,+86 138-0013-8000;010-65529988\n"
    "C2,Bob,normal,,new,30,1,650,en,,,13900001111\n"
)


class TestValidation:
    def test_each_bad_field_is_reported_with_its_line(self, tmp_path: Path) -> None:
        """Every bad field of every bad row is named with the file's line number."""
        path = write(
            tmp_path,
            GOOD
            + "C3,Carol,platinum,,stable,1,1,1,zh,,,13700000000\n"
            + '"C4","multi\nline",mid,grey,stable,x,1,1,zh,,,137000000x1\n'
            + "C5,Eve,mid,,stable,1,1,1,zh,,a;b;c;d,13700000005\n",
        )
        rows = list(read_rows(path))
        bad = {r.line: [(e.field, e.message) for e in r.errors] for r in rows if r.errors}
        assert bad[4] == [("tier", "'platinum' is not one of 'vip', 'high', 'mid', 'normal'")]
        assert [f for f, _ in bad[5]] == ["name", "list", "arpu", "phones"]
        assert bad[5][0][1] == "contains control characters"
        assert bad[7] == [("offers", "at most 3 ranked offers, found 4")]
        assert len(bad) == 3

    def test_wrong_field_count_and_missing_header(self, tmp_path: Path) -> None:
        """A short row and a file without the required header are clear errors."""
        rows = list(read_rows(write(tmp_path, "C1,Alice,vip\n")))
        assert rows[0].line == 2
        assert rows[0].errors[0].message == "expected 12 fields, found 3"
        bare = tmp_path / "bare.csv"
        bare.write_text("id,name\n1,x\n")
        (row,) = read_rows(bare)
        assert row.line == 1
        assert row.errors[0].field == "header"

    def test_jsonl_errors(self, tmp_path: Path) -> None:
        """Broken JSON and non-object lines are reported by line."""
        path = tmp_path / "c.jsonl"
        good = {"customer_id": "C1", "tier": "vip", "phones": ["13800138000"]}
        path.write_bytes(orjson.dumps(good) + b"\n\n{oops\n[1,2]\n")
        rows = list(read_rows(path))
        assert rows[0].customer is not None
        assert [(r.line, r.errors[0].field) for r in rows[1:]] == [(3, "json"), (4, "json")]


class TestImport:
    async def test_any_bad_row_writes_nothing(
        self, tmp_path: Path, redis_url: str, redis_client: Redis
    ) -> None:
        """All-or-nothing: one bad row means no row is written."""
        path = write(tmp_path, GOOD + "C3,Carol,platinum,,stable,1,1,1,zh,,,13700000000\n")
        report = await import_path(redis_url, path)
        assert not report.ok
        assert report.written == 0
        assert [str(p) for p in report.problems] == [
            f"{path}:4: tier: 'platinum' is not one of 'vip', 'high', 'mid', 'normal'"
        ]
        assert await redis_client.dbsize() == 0

    async def test_skip_invalid_imports_the_rest(self, tmp_path: Path, redis_url: str) -> None:
        """--skip-invalid writes good rows and still lists the bad ones."""
        path = write(tmp_path, GOOD + "C3,Carol,platinum,,stable,1,1,1,zh,,,13700000000\n")
        report = await import_path(redis_url, path, skip_invalid=True)
        assert report.written == 2
        assert len(report.problems) == 1

    async def test_reimport_is_idempotent(
        self, tmp_path: Path, redis_url: str, redis_client: Redis
    ) -> None:
        """Importing the same file twice leaves the same keys and records."""
        path = write(tmp_path, GOOD)
        await import_path(redis_url, path)
        first = sorted(await redis_client.keys("*"))
        store = RedisCustomerStore(redis_client)
        before = await store.customer_by_id("C1")
        report = await import_path(redis_url, path)
        assert report.ok
        assert report.written == 2
        assert sorted(await redis_client.keys("*")) == first
        after = await store.customer_by_id("C1")
        assert before is not None
        assert after is not None
        assert after.phones == before.phones == ("13800138000", "1065529988")

    async def test_number_of_another_customer_is_a_conflict(
        self, tmp_path: Path, redis_url: str, redis_client: Redis
    ) -> None:
        """A number owned by someone else in the store is never moved silently."""
        await RedisCustomerStore(redis_client).upsert(Customer("X9", phones=("13900001111",)))
        report = await import_path(redis_url, write(tmp_path, GOOD))
        assert [str(p) for p in report.problems] == [
            f"{tmp_path / 'c.csv'}:3: phones: 139****1111 belongs to customer X9"
        ]
        assert report.written == 0

    async def test_duplicates_inside_the_file(self, tmp_path: Path, redis_url: str) -> None:
        """The same id or number twice in one file points at the first line."""
        path = write(
            tmp_path,
            GOOD + "C1,Again,vip,,stable,1,1,1,zh,,,13700000000\n"
            "C9,Other,mid,,stable,1,1,1,zh,,,0086 139 0000 1111\n",
        )
        report = await import_path(redis_url, path)
        assert [p.message for p in report.problems] == [
            "customer_id: customer C1 already defined at line 2",
            "phones: 139****1111 is also given to C2 at line 3",
        ]


class TestCli:
    def test_import_show_export_round_trip(self, tmp_path: Path, redis_url: str) -> None:
        """Sample data imports; export re-imports to the same state."""
        runner = CliRunner()
        env = {"REDIS_URL": redis_url}
        result = runner.invoke(cli, ["customers", "import", str(SAMPLES)], env=env)
        assert result.exit_code == 0, result.output
        assert "imported 320 of 320 rows, 0 problems" in result.output

        shown = runner.invoke(cli, ["customers", "show", "+86 138 0013 8000"], env=env)
        assert shown.exit_code == 0
        assert orjson.loads(shown.output)["customer_id"] == "C00001"

        export1 = tmp_path / "one.jsonl"
        assert runner.invoke(cli, ["customers", "export", str(export1)], env=env).exit_code == 0
        runner.invoke(cli, ["customers", "import", str(export1)], env=env)
        export2 = tmp_path / "two.jsonl"
        runner.invoke(cli, ["customers", "export", str(export2)], env=env)
        assert export1.read_bytes() == export2.read_bytes()
        assert len(export1.read_bytes().splitlines()) == 320

    def test_bad_file_exits_1_with_line_errors(self, tmp_path: Path, redis_url: str) -> None:
        """Bad rows go to stderr as FILE:LINE: field: message, exit 1."""
        path = write(tmp_path, GOOD + "C3,Carol,mid,,stable,1,1,1,zh,,,not-a-number\n")
        result = CliRunner().invoke(
            cli, ["customers", "import", str(path)], env={"REDIS_URL": redis_url}
        )
        assert result.exit_code == 1
        assert f"{path}:4: phones: 'not-a-number' is not a phone number" in result.stderr

    def test_show_unknown_and_link_unlink(self, redis_url: str) -> None:
        """Unknown numbers exit 1; link/unlink report what they did."""
        runner = CliRunner()
        env = {"REDIS_URL": redis_url}
        assert runner.invoke(cli, ["customers", "show", "13700000000"], env=env).exit_code == 1
        runner.invoke(cli, ["customers", "import", str(SAMPLES)], env=env)
        linked = runner.invoke(cli, ["customers", "link", "13700000000", "C00002"], env=env)
        assert linked.exit_code == 0
        clash = runner.invoke(cli, ["customers", "link", "13700000000", "C00003"], env=env)
        assert clash.exit_code == 1
        assert "belongs to customer C00002" in clash.stderr
        out = runner.invoke(cli, ["customers", "unlink", "13700000000"], env=env)
        assert out.output.strip() == "unlinked 13700000000 from C00002"


@pytest.mark.parametrize("bad", ["", "a b", "x;y", "-lead"])
def test_customer_id_must_be_key_safe(bad: str, tmp_path: Path) -> None:
    """Ids end up in Redis key names, so only a safe alphabet is accepted."""
    (row,) = read_rows(write(tmp_path, f"{bad},n,mid,,stable,1,1,1,zh,,,13700000000\n"))
    assert row.errors[0].field == "customer_id"


def centre_routing(tmp_path: Path) -> Path:
    """The shipped routing.yaml with a centre's own tier names."""
    text = (ROOT / "ivr_flows" / "routing.yaml").read_text(encoding="utf-8")
    text = text.replace("\n  vip: vip_desk", "\n  SERVICE: vip_desk")  # a service, not a tier
    for old, new in (("vip", "钻石"), ("high", "金"), ("mid", "银"), ("normal", "铜")):
        text = re.sub(rf"\b{old}\b", new, text)
    path = tmp_path / "routing.yaml"
    path.write_text(text.replace("SERVICE", "vip"), encoding="utf-8")
    return path


class TestCentreTiers:
    def test_tiers_come_from_routing_yaml(self, tmp_path: Path, redis_url: str) -> None:
        """A centre whose routing.yaml names tiers 钻石/金/银/铜 imports rows using them."""
        path = write(tmp_path, "C1,Alice,钻石,,stable,1,1,1,zh,,,13800138000\n")
        env = {"REDIS_URL": redis_url, "TIERLINE_ROUTING_CONFIG": str(centre_routing(tmp_path))}
        result = CliRunner().invoke(cli, ["customers", "import", str(path)], env=env)
        assert result.exit_code == 0, result.output
        assert "imported 1 of 1 rows, 0 problems" in result.output

    def test_a_tier_the_routing_does_not_know_is_named(
        self, tmp_path: Path, redis_url: str
    ) -> None:
        """The error lists the routing.yaml tiers, not a built-in list."""
        path = write(tmp_path, "C1,Alice,vip,,stable,1,1,1,zh,,,13800138000\n")
        args = ["customers", "import", str(path), "--routing", str(centre_routing(tmp_path))]
        result = CliRunner().invoke(cli, args, env={"REDIS_URL": redis_url})
        assert result.exit_code == 1
        assert "tier: 'vip' is not one of '钻石', '金', '银', '铜'" in result.stderr


class TestNumbersAtImport:
    @pytest.mark.parametrize("bad", ["1380013800", "+86 12345", "000000013800138000"])
    def test_invalid_numbers_are_refused(self, bad: str, tmp_path: Path) -> None:
        """Numbers no plan allows (a digit short, too short, zero-padded) are row errors."""
        (row,) = read_rows(write(tmp_path, f"C1,n,mid,,stable,1,1,1,zh,,,{bad}\n"))
        assert [e.field for e in row.errors] == ["phones"]
        assert "is not a valid phone number" in row.errors[0].message

    def test_problems_on_stderr_mask_numbers(self, tmp_path: Path, redis_url: str) -> None:
        """The import CLI never prints a full phone number."""
        runner = CliRunner()
        env = {"REDIS_URL": redis_url}
        runner.invoke(cli, ["customers", "import", str(write(tmp_path, GOOD))], env=env)
        clash = "C7,Zed,mid,,stable,1,1,1,zh,,,13900001111;1380013800\n"
        path = write(tmp_path, clash + "C8,Yan,mid,,stable,1,1,1,zh,,,13700000000\n", "d.csv")
        result = runner.invoke(cli, ["customers", "import", str(path)], env=env)
        assert result.exit_code == 1
        assert "139****1111" in result.stderr or "138****3800" in result.stderr
        for full in ("13900001111", "1380013800"):
            assert full not in result.stderr


class TestEncoding:
    BODY = "C1,张三,mid,,stable,1,1,1,zh,,,13800138000\n"

    def test_gbk_file_is_a_located_error_with_a_hint(self, tmp_path: Path, redis_url: str) -> None:
        """A GBK export without --encoding: FILE:LINE: encoding: ..., exit 1, no traceback."""
        path = tmp_path / "gbk.csv"
        path.write_bytes((HEADER + self.BODY).encode("gbk"))
        result = CliRunner().invoke(
            cli, ["customers", "import", str(path)], env={"REDIS_URL": redis_url}
        )
        assert result.exit_code == 1
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert f"{path}:2: encoding: not valid utf-8" in result.stderr
        assert "--encoding gb18030" in result.stderr

    @pytest.mark.parametrize("name", ["gbk.csv", "gbk.jsonl"])
    def test_encoding_option_reads_it(self, name: str, tmp_path: Path, redis_url: str) -> None:
        """--encoding gb18030 imports the same file, names intact."""
        path = tmp_path / name
        if name.endswith(".csv"):
            path.write_bytes((HEADER + self.BODY).encode("gbk"))
        else:
            row = {"customer_id": "C1", "name": "张三", "tier": "mid", "phones": ["13800138000"]}
            path.write_bytes(orjson.dumps(row).decode().encode("gbk") + b"\n")
        runner = CliRunner()
        env = {"REDIS_URL": redis_url}
        args = ["customers", "import", str(path), "--encoding", "gb18030"]
        assert runner.invoke(cli, args, env=env).exit_code == 0
        shown = runner.invoke(cli, ["customers", "show", "13800138000"], env=env)
        assert orjson.loads(shown.output)["name"] == "张三"

    def test_unknown_encoding_is_a_usage_error(self, tmp_path: Path) -> None:
        """A misspelt --encoding is refused before anything is read."""
        args = ["customers", "import", str(write(tmp_path, GOOD)), "--encoding", "gbq"]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2
        assert "unknown encoding 'gbq'" in result.stderr


def test_store_down_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """An import against a store that is not there ends with an error line, exit 1."""
    path = write(tmp_path, GOOD)
    result = CliRunner().invoke(
        cli, ["customers", "import", str(path)], env={"REDIS_URL": "redis://127.0.0.1:1/0"}
    )
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.startswith("error: the customer store failed:")
