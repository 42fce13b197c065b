"""The API's OpenAPI document, generated from the routes into contract/openapi/ beside the AsyncAPI ones.

python -m services.api.openapi write   # regenerate (make contract)
python -m services.api.openapi check   # exit 1 if the file differs from the code
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from services.api.app import create_app
from services.api.settings import ApiSettings

DOCUMENT = Path(__file__).resolve().parents[2] / "contract" / "openapi" / "api.json"


def generated() -> str:
    # The document describes the routes, which no setting changes (keys and origins are not in it).
    document = create_app(ApiSettings()).openapi()
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(command: str) -> int:
    text = generated()
    if command == "write":
        DOCUMENT.parent.mkdir(parents=True, exist_ok=True)
        DOCUMENT.write_text(text)
        print(f"wrote {DOCUMENT}")
        return 0
    if not DOCUMENT.exists() or DOCUMENT.read_text() != text:
        print("contract/openapi/api.json differs from the code: run `make contract` and commit the diff")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "check"))
