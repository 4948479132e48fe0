"""Regenerate incoming_webhook_request.schema.json from Discord's OpenAPI spec.

Usage: python sandbox/spec/extract.py path/to/openapi.json

Keeps IncomingWebhookRequestPartial (the Execute Webhook body) and every schema it
references, rewritten as a standalone JSON Schema 2020-12 document, so the sandbox and
the tests validate against Discord's own definitions without shipping the whole spec.
"""

import json
import sys
from pathlib import Path
from typing import Any

ROOT = "IncomingWebhookRequestPartial"
OUT = Path(__file__).with_name("incoming_webhook_request.schema.json")


def _collect(node: Any, schemas: dict[str, Any], seen: list[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                name = value.rsplit("/", 1)[-1]
                if name not in seen:
                    seen.append(name)
                    _collect(schemas[name], schemas, seen)
            else:
                _collect(value, schemas, seen)
    elif isinstance(node, list):
        for item in node:
            _collect(item, schemas, seen)


def _rewrite(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: v.replace("#/components/schemas/", "#/$defs/") if k == "$ref" else _rewrite(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite(item) for item in node]
    return node


def main(spec_path: str) -> None:
    schemas = json.loads(Path(spec_path).read_text())["components"]["schemas"]
    seen = [ROOT]
    _collect(schemas[ROOT], schemas, seen)
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": (
            "Extracted from Discord's published OpenAPI spec (Discord HTTP API v10 preview, "
            "MIT licence, see LICENSE-discord-openapi in this folder): "
            f"components/schemas/{ROOT} and every schema it references. "
            "Regenerate with sandbox/spec/extract.py."
        ),
        "$ref": f"#/$defs/{ROOT}",
        "$defs": {name: _rewrite(schemas[name]) for name in sorted(seen)},
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
