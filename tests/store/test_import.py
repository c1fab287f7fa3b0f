"""Customer import/export: validation, line numbers, idempotence, round trip."""

from __future__ import annotations

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
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "customers.csv"


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
