"""Validates OFREP answers against tests/it/ofrep_schema.json.

argv: the schema file and a JSON file of cases, each
{"name": ..., "schema": "<name under $defs>", "body": <the answer>}.
Prints one line per invalid case and exits 1 if there is any; "N valid"
otherwise. The `uri` format is checked, not only noted.
"""

import json
import sys

import jsonschema
from jsonschema import Draft202012Validator


def main() -> int:
    schema_path, cases_path = sys.argv[1], sys.argv[2]
    with open(schema_path) as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    with open(cases_path) as f:
        cases = json.load(f)
    checker = Draft202012Validator.FORMAT_CHECKER
    # jsonschema checks `uri` only with rfc3986-validator installed, and
    # skips it silently otherwise: a refreshConnections url must be checked.
    if "uri" not in checker.checkers:
        print("jsonschema cannot check the `uri` format: pip install rfc3986-validator")
        return 1
    bad = 0
    for case in cases:
        sub = {"$ref": "#/$defs/" + case["schema"], "$defs": schema["$defs"]}
        validator = Draft202012Validator(sub, format_checker=checker)
        for error in validator.iter_errors(case["body"]):
            bad += 1
            path = "/".join(str(p) for p in error.absolute_path)
            print(f"{case['name']} ({case['schema']}) at /{path}: {error.message}")
    if bad:
        return 1
    print(f"{len(cases)} valid (jsonschema {jsonschema_version()})")
    return 0


def jsonschema_version() -> str:
    from importlib.metadata import version

    return version("jsonschema")


if __name__ == "__main__":
    sys.exit(main())
