"""Keeps secrets that travel in URLs out of messages and logs (a presigned S3 URL carries X-Amz-Signature,
X-Amz-Credential and X-Amz-Security-Token in its query string).

The same two rules as the Lambda's lambda-src/src/redact.ts, checked by one shared table of cases:
- any whitespace-delimited token that holds a URL or a request target loses everything from its first query or
  fragment marker (`?`, `#`, or their percent and JSON escapes) on;
- any `name=value` (or `name: value`) whose name is a credential parameter (X-Amz-*, Signature, AWSAccessKeyId, token, ...) loses
  its value, wherever it appears.
"""
from __future__ import annotations

import re

REDACTED = "[redacted]"
_TOKEN = re.compile(r"\S+")
_LOOKS_LIKE_URL = re.compile(r"[a-z][a-z0-9+.-]*(?::|%(?:25)*3a)(?://|\\/\\/|(?:%(?:25)*2f){2})|^[\"'(<\[{]*/", re.IGNORECASE)
_QUERY_MARKER = re.compile(r"\?|#|%(?:25)*3f|%(?:25)*23|\\u003f|\\u0023", re.IGNORECASE)
_CREDENTIAL_PARAMETER = re.compile(
    r"(x-amz-[a-z0-9-]+|signature|awsaccesskeyid|sig|token|access_token|id_token|api_key|apikey|password|secret)"
    r"(=|:\s*|%(?:25)*3[ad]|\\u003d)[^&\s]*",
    re.IGNORECASE,
)


def _cut_query(match: "re.Match[str]") -> str:
    token = match.group(0)
    if not _LOOKS_LIKE_URL.search(token):
        return token
    marker = _QUERY_MARKER.search(token)
    return token if marker is None else f"{token[:marker.start()]}?{REDACTED}"


def scrub_secrets(text: str) -> str:
    return _CREDENTIAL_PARAMETER.sub(lambda match: f"{match.group(1)}{match.group(2)}{REDACTED}", _TOKEN.sub(_cut_query, text))
