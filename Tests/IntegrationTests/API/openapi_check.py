#!/usr/bin/env python3
"""Checks one answer of the running server against the OpenAPI document it serves.
Usage: openapi_check.py OPENAPI.yaml PATH METHOD STATUS BODY_FILE
PATH is the document's path template (/v1/feeds/{source}); exits non-zero with the reason when
the status is not documented for the operation or the JSON body does not match its schema."""
import json
import sys

import jsonschema
import yaml

spec_file, path, method, status, body_file = sys.argv[1:]
spec = yaml.safe_load(open(spec_file))
operation = spec["paths"].get(path, {}).get(method.lower())
if operation is None:
    sys.exit(f"{method} {path} is not in the document")
response = operation["responses"].get(status)
if response is None:
    sys.exit(f"{method} {path}: status {status} is not documented")
if "$ref" in response:
    response = spec["components"]["responses"][response["$ref"].split("/")[-1]]
content = response.get("content", {})
if "application/json" not in content:
    sys.exit(0)  # text answers (metrics, the document itself) have no schema to check
schema = dict(content["application/json"]["schema"])
schema["components"] = spec["components"]  # so that #/components/... references resolve
body = json.load(open(body_file))
try:
    jsonschema.validate(body, schema)
except jsonschema.ValidationError as e:
    sys.exit(f"{method} {path} {status}: {e.message} at {list(e.absolute_path)}")
