"""Evaluates flags on a liveops agent through the OpenFeature Python SDK and
its OFREP provider, as a game server written in Python would.

Used by tests/it/ofrep_python.rs, which writes the flag file and holds the
expected answers; change both together. Usage: ofrep_client.py AGENT_URL

Prints one JSON object: for each case, the evaluation details the SDK
returned (value, reason, variant, error code). Evaluation errors are not
exceptions in OpenFeature: the SDK returns the caller's default and says
why, which is exactly what is checked.
"""

import json
import sys

from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext

api.set_provider(OFREPProvider(sys.argv[1], timeout=5.0))
client = api.get_client("liveops-it")

anyone = EvaluationContext(targeting_key="p-1")
vip = EvaluationContext(targeting_key="p-vip", attributes={"player": "p-vip"})
in_w1 = EvaluationContext(targeting_key="p-2", attributes={"world": "w1", "village": "v-3"})
in_w2 = EvaluationContext(targeting_key="p-3", attributes={"world": "w2"})

cases = {
    "kill_switch": client.get_boolean_details("combat.attacks", True, anyone),
    "player_rule": client.get_boolean_details("combat.attacks", False, vip),
    "world_rule": client.get_integer_details("trade.max_offers", 0, in_w1),
    # No world in the context: the agent's own (w1) applies.
    "agent_world": client.get_integer_details("trade.max_offers", 0, anyone),
    "integer": client.get_integer_details("trade.max_offers", 0, in_w2),
    "float": client.get_float_details("economy.tax_rate", 0.0, anyone),
    "string": client.get_string_details("events.banner", "", anyone),
    "missing": client.get_boolean_details("no.such.flag", True, anyone),
    "type_mismatch": client.get_integer_details("economy.tax_rate", 7, anyone),
}


def row(d):
    code = d.error_code
    return {
        "value": d.value,
        "reason": str(getattr(d.reason, "value", d.reason)),
        "variant": d.variant,
        "error_code": None if code is None else str(getattr(code, "value", code)),
    }


print(json.dumps({name: row(d) for name, d in cases.items()}, sort_keys=True))
