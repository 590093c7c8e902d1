"""schemathesis hooks for `make contract` (loaded through SCHEMATHESIS_HOOKS by run.py).

schemathesis sends the `Idempotency-Key` it draws (often the document's example key, or a short
string drawn again) with whatever body it draws next, so it reuses a key with another payload, which
the IETF Idempotency-Key draft forbids a client to do and which the API rightly answers 422
`idempotency-key-reused` (decision 0276). Its `positive_data_acceptance` check would call that a
schema-valid request refused. Rather than widen the check, this hook makes schemathesis the client the
draft describes: a valid key is bound to its payload (a digest of the body is appended, the result
still a valid key), so the same key comes again only with the same payload and is replayed. Invalid
keys are left as drawn, so the checks of their refusal are unchanged. The 422 itself is covered by
OpenAPIContractTests and MoneyRulesTests.

A listing's cursor is a token copied from the previous page's `Link` header. For the anonymous bets
of a store split into shards it is one position per shard joined by `.`, and the API refuses (422) a
cursor with another number of positions: it comes from no page of this store. The contract's store
has one shard, so a drawn cursor keeps its first position (still a schema-valid cursor, now one this
store could have made). The refusal is covered by APITests.

The contacts listing's cursor is the last address shown; its documented pattern is an address, yet
schemathesis once drew `jo` for it (a prefix of the example, its pattern's look-ahead not honoured) and
called the 422 a valid request refused. A drawn contacts cursor without `@` is dropped.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import schemathesis

VALID_KEY = re.compile(r"[ -~]{1,255}")
DIGEST_LENGTH = 32


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    query = case.query
    cursor = query.get("cursor") if query else None
    if isinstance(cursor, str) and case.path == "/admin/contacts" and "@" not in cursor:
        del query["cursor"]
    elif isinstance(cursor, str) and "." in cursor and "@" not in cursor:
        query["cursor"] = cursor.split(".")[0]
    headers = case.headers
    if not headers:
        return
    for name, key in list(headers.items()):
        if name.lower() != "idempotency-key" or not isinstance(key, str) or not VALID_KEY.fullmatch(key):
            continue
        payload = json.dumps(case.body, sort_keys=True, default=repr).encode()
        digest = hashlib.sha256(payload).hexdigest()[:DIGEST_LENGTH]
        headers[name] = key[: 255 - DIGEST_LENGTH - 1] + "-" + digest
