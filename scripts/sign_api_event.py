#!/usr/bin/env python3
"""Signs an API Gateway (HTTP API) request event as a Huawei SDK signs the request it describes,
with the SDK's own signer and the current time: the event's authorizer and Authorization header
are replaced by an AK/SK signature. For invoking the deployed-style API function locally.

Usage: sign_api_event.py EVENT_FILE KEY_JSON > signed.json
KEY_JSON: {"access_key", "secret_key", "project_id"}, as `access-keys create` prints it.
"""
import json
import sys
from urllib.parse import parse_qsl

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

event = json.load(open(sys.argv[1]))
key = json.loads(sys.argv[2])
event["requestContext"].pop("authorizer", None)
headers = {k: v for k, v in event["headers"].items() if k.lower() != "authorization"}
request = SdkRequest(method=event["requestContext"]["http"]["method"], schema="https", host=headers.get("host"),
                     resource_path=event["rawPath"], query_params=parse_qsl(event.get("rawQueryString", "")),
                     header_params=headers, body=(event.get("body") or "").encode())
signed = Signer(BasicCredentials(key["access_key"], key["secret_key"], key["project_id"])).sign(request)
event["headers"] = {k.lower(): v for k, v in signed.header_params.items()}
json.dump(event, sys.stdout)
