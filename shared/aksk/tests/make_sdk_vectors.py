#!/usr/bin/env python3
"""Writes sdk_signed.json beside this file: requests signed by the Huawei Cloud Python SDK's own
signer (huaweicloudsdkcore.signer.signer.Signer), for the Rust tests to verify. Each vector is
the request exactly as the SDK would send it (method, path, query, headers, body) at a fixed
X-Sdk-Date. Usage: .venv/bin/python shared/aksk/tests/make_sdk_vectors.py"""
import json
import pathlib
from importlib.metadata import version

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

AK, SK, PROJECT = "HPUAEXAMPLEKEY000001", "exampleSecretKey0000000000000000000000001", "24edf66e79d04187acb99a463e610764"
DATE = "20261126T160631Z"
BASE = "/v3/%s" % PROJECT

cases = [
    ("create", "POST", BASE + "/notifications", [], b'{"notification_name":"key_ops","operation_type":"complete"}'),
    ("list by name", "GET", BASE + "/notifications/smn", [("notification_name", "key_ops")], b""),
    ("delete two ids", "DELETE", BASE + "/notifications", [("notification_id", "a1,b2")], b""),
    ("repeated and unordered query", "DELETE", BASE + "/notifications", [("notification_id", "z9"), ("notification_id", "a1"), ("a", "")], b""),
    ("query that needs escaping", "GET", BASE + "/operations", [("service_type", "ECS"), ("resource_type", "a b/c~d*é")], b""),
    ("path that needs escaping", "GET", "/v3/proj%20%C3%A9/quotas", [], b""),
    ("unicode body", "PUT", BASE + "/notifications", [], '{"notification_name":"n","agency_name":"é ü"}'.encode()),
]
vectors = []
for name, method, path, query, body in cases:
    headers = {"Content-Type": "application/json;charset=UTF-8", "X-Sdk-Date": DATE,
               "User-Agent": "huaweicloud-usdk-python/3.0", "X-Project-Id": PROJECT}
    request = SdkRequest(method=method, schema="https", host="cts.example.com", resource_path=path,
                         query_params=list(query), header_params=headers, body=body)
    signed = Signer(BasicCredentials(AK, SK, PROJECT)).sign(request)
    uri = signed.uri
    vectors.append({
        "name": name, "method": method,
        "path": uri.split("?", 1)[0], "query": uri.split("?", 1)[1] if "?" in uri else "",
        "headers": dict(signed.header_params), "body": body.decode(),
    })
out = {"sdk": "huaweicloudsdkcore " + version("huaweicloudsdkcore"), "access_key": AK, "secret_key": SK,
       "project_id": PROJECT, "date": DATE, "vectors": vectors}
(pathlib.Path(__file__).parent / "sdk_signed.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
print("%d vectors" % len(vectors))
