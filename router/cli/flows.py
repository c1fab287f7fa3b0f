"""``tierline flows check|trace|graph|schema``: argument parsing only."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from router.customers.model import Customer
    from router.flows.model import FlowSet
    from router.flows.trace import Answer
    from router.types import RoutingPolicy

__all__ = ["flows"]


def _default_dir() -> Path:
    """$TIERLINE_FLOWS_DIR (or the config file's flows_dir), else the shipped flows."""
    from router.cli.store_url import cli_settings

    return cli_settings().flows_dir


@click.group()
def flows() -> None:
    """Check, trace and draw operator IVR flows."""


def _load(directory: Path, queues: str) -> FlowSet:
    from router.errors import FlowError
    from router.flows.loader import load_flows
    from router.flows.services import known_services

    try:
        return load_flows(directory, known_services(directory, queues))
    except FlowError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s); nothing loaded", err=True)
        sys.exit(1)


_queues_opt = click.option(
    "--queues", default="", help="Known services a,b,c (default: routing.yaml)."
)
_dir_opt = click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=_default_dir,
    show_default="$TIERLINE_FLOWS_DIR, else the shipped flows",
)


@flows.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False), default=_default_dir)
@_queues_opt
def check(directory: Path, queues: str) -> None:
    """Compile every flow in DIRECTORY; exit 1 with file:line errors on any problem."""
    flowset = _load(directory, queues)
    names = ", ".join(sorted(flowset.flows))
    click.echo(f"ok: {len(flowset.flows)} flow(s) [{names}] version {flowset.version}")


@flows.command()
@click.argument("flow")
@click.option("--caller", default="", help="Calling number.")
@click.option("--dnis", default="", help="Dialled number.")
@click.option("--digits", default="", help="Digits typed, comma-separated: 1,2,12345678.")
@click.option("--at", "at", default="", help="Call time, ISO 8601 (default: now).")
@click.option("--tier", default="", help="Customer tier (omit for an unknown caller).")
@click.option("--list", "cust_list", type=click.Choice(["", "red", "black"]), default="")
@click.option(
    "--lifecycle", type=click.Choice(["new", "growth", "stable", "at_risk"]), default="stable"
)
@click.option("--offers", default="", help="Offer codes, comma-separated.")
@click.option("--tenure", type=int, default=0)
@click.option("--language", "lang", default="", help="Customer language (zh, en, yue...).")
@click.option("--manager", default="", help="Customer's account manager id.")
@click.option("--uniqueid", default="trace.1", help="Seeds percent() splits.")
@click.option(
    "--fetch",
    "answers",
    multiple=True,
    metavar="NODE=ANSWER",
    help="A fetch/notify node's answer: ok, failed (or timeout, status...), or for a fetch "
    'the backend\'s JSON: --fetch \'balance={"balance": "35.20"}\'. Unlisted: ok, variables "0".',
)
@click.option("--after-call", is_flag=True, help="Run the flow's post-call survey instead.")
@_dir_opt
@_queues_opt
def trace(  # noqa: PLR0917 - one parameter per option
    flow: str,
    caller: str,
    dnis: str,
    digits: str,
    at: str,
    tier: str,
    cust_list: str,
    lifecycle: str,
    offers: str,
    tenure: int,
    lang: str,
    manager: str,
    uniqueid: str,
    answers: tuple[str, ...],
    after_call: bool,
    directory: Path,
    queues: str,
) -> None:
    """Print the path FLOW takes for one call and its final decision.

    ``-`` in --digits is no key (a prompt played out, an input timed out).
    Offers heard or taken and survey answers are printed after the path.
    Digits typed at sensitive input nodes (account numbers, PINs) print as *.
    """
    from router.flows.actions import SetVars
    from router.flows.language import LANGUAGE_VAR
    from router.flows.runner import outcome_of
    from router.flows.trace import marketing_lines, trace_call
    from router.types import CallInfo

    flowset = _load(directory, queues)
    if flow not in flowset.flows:
        raise click.BadParameter(f"unknown flow {flow!r}; have {sorted(flowset.flows)}")
    when = datetime.fromisoformat(at) if at else datetime.now().astimezone()
    call = CallInfo(uniqueid=uniqueid, caller=caller, dnis=dnis, at=when)
    customer = _customer(tier, cust_list, lifecycle, offers, tenure)
    if customer is not None:
        customer = replace(customer, language=lang, account_manager=manager)
    typed = [d.strip() for d in digits.split(",") if d.strip()]
    start_at = _post_call_node(flowset, flow) if after_call else ""
    result = trace_call(
        flowset, flow, call, customer, typed, policy=_policy(directory),
        data=_answers(answers), start_at=start_at,
    )  # fmt: skip
    said = list(result.answers)
    for visit in result.state.path:
        extra = f"  digits={visit.digits}" if visit.digits else ""
        if said and said[0][0] == visit.node:
            extra += f"  answer={said.pop(0)[1]}"
        click.echo(f"{visit.flow}:{visit.node}{extra}")
    for action in result.actions:
        if isinstance(action, SetVars) and LANGUAGE_VAR in action.values:
            click.echo(f"   language {action.values[LANGUAGE_VAR]}")
    if result.state.facts.vars:
        click.echo(f"vars: {dict(result.state.facts.vars)}")
    for line in marketing_lines(result.actions):
        click.echo(line)
    outcome, detail = outcome_of(result.state.result)
    why = f" after {result.state.reason}" if result.state.reason else ""
    click.echo(f"=> {outcome} {detail}{why} (flow version {flowset.flows[flow].version})")


def _post_call_node(flowset: FlowSet, flow: str) -> str:
    from router.flows.checks import after_call_surveys

    found = after_call_surveys(flowset.flows[flow])
    if not found:
        raise click.BadParameter(
            f"flow {flow!r} has no after_call survey", param_hint="--after-call"
        )
    return found[0]


def _answers(given: tuple[str, ...]) -> dict[str, Answer]:
    """``NODE=ok|failed|OUTCOME|{json}`` options as trace_call's ``data``."""
    import json

    out: dict[str, Answer] = {}
    for item in given:
        node, sep, answer = item.partition("=")
        if not sep or not node:
            raise click.BadParameter(f"{item!r}: write NODE=ANSWER", param_hint="--fetch")
        if answer.lstrip().startswith("{"):
            try:
                out[node] = json.loads(answer)
            except ValueError as exc:
                raise click.BadParameter(f"{node}: not JSON: {exc}", param_hint="--fetch") from None
        else:
            out[node] = answer or "ok"
    return out


def _policy(directory: Path) -> RoutingPolicy | None:
    """The real routing policy when the directory has one (else trace's stand-in)."""
    from router.policy import TieredPolicy, load_routing

    path = directory / "routing.yaml"
    return TieredPolicy(load_routing(path)) if path.exists() else None


def _customer(
    tier: str, cust_list: str, lifecycle: str, offers: str, tenure: int
) -> Customer | None:
    """A made-up customer from the options; None (unknown caller) without --tier/--list."""
    from router.customers.model import Customer, CustomerList, Lifecycle

    if not (tier or cust_list):
        return None
    return Customer(
        customer_id="trace",
        tier=tier or "normal",
        list=CustomerList(cust_list),
        lifecycle=Lifecycle(lifecycle),
        tenure_months=tenure,
        offers=tuple(o for o in offers.split(",") if o),
    )


@flows.command()
def schema() -> None:
    """Print the flow file JSON Schema, generated from the loader's models.

    The committed ivr_flows/flow.schema.json is this output:
    tierline flows schema > ivr_flows/flow.schema.json
    """
    from router.flows.spec import schema_text

    click.echo(schema_text(), nl=False)


@flows.command()
@click.argument("flow")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid")
@_dir_opt
@_queues_opt
def graph(flow: str, fmt: str, directory: Path, queues: str) -> None:
    """Draw FLOW as Mermaid or Graphviz DOT on stdout."""
    from router.flows.graph import to_dot, to_mermaid

    flowset = _load(directory, queues)
    if flow not in flowset.flows:
        raise click.BadParameter(f"unknown flow {flow!r}; have {sorted(flowset.flows)}")
    click.echo(
        to_mermaid(flowset.flows[flow]) if fmt == "mermaid" else to_dot(flowset.flows[flow]),
        nl=False,
    )
