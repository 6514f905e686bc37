#!/usr/bin/env python3
"""Writes events/api/*.json: one API Gateway HTTP API (payload 2.0) request per call of the
rules API, as the rules-api function receives them behind the JWT authorizer. Rerun after
changing a body; the files are committed."""
import json
import pathlib

here = pathlib.Path(__file__).resolve().parent
P = "24edf66e79d04187acb99a463e610764"
ID = "3f1c2b9e-5a7d-4e8f-9b10-2c3d4e5f6a7b"
create_body = json.loads((here / "create-notification-request.json").read_text())
update_body = dict(create_body, notification_id=ID, status="disabled")
# The same operations to a function: the test function cts-recorder of the local AWS mode.
function_body = dict(create_body, notification_name="prod_key_ops_remediate",
                     topic_id="arn:aws:lambda:eu-west-1:123456789012:function:cts-recorder")
# The same operations with a digest of every match (max_messages 0) per minute.
digest_body = dict(create_body, notification_name="prod_key_ops_digest",
                   digest={"window_seconds": 60, "max_messages": 0})


def event(method, path, route, query="", body=None, params=None):
    params = dict({"project_id": P}, **(params or {}))
    headers = {"accept": "application/json", "authorization": "Bearer eyJhbGciOi.local.sample",
               "host": "api.example.com", "x-project-id": P}
    if body is not None:
        headers["content-type"] = "application/json;charset=UTF-8"
    e = {
        "version": "2.0",
        "routeKey": "%s %s" % (method, route),
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "a1b2c3d4e5",
            "authorizer": {"jwt": {"claims": {"project_id": P, "sub": "ops-alice"}, "scopes": None}},
            "domainName": "api.example.com", "domainPrefix": "api",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.24", "userAgent": "huaweicloud-sdk-python"},
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "routeKey": "%s %s" % (method, route),
            "stage": "$default", "time": "25/Nov/2026:09:14:07 +0000", "timeEpoch": 1795598047000,
        },
        "pathParameters": params,
        "isBase64Encoded": False,
    }
    if query:
        e["queryStringParameters"] = dict(kv.split("=", 1) for kv in query.split("&"))
    if body is not None:
        e["body"] = json.dumps(body)
    return e


events = {
    "create": event("POST", "/v3/%s/notifications" % P, "/v3/{project_id}/notifications", body=create_body),
    "create-function": event("POST", "/v3/%s/notifications" % P, "/v3/{project_id}/notifications", body=function_body),
    "create-digest": event("POST", "/v3/%s/notifications" % P, "/v3/{project_id}/notifications", body=digest_body),
    "list": event("GET", "/v3/%s/notifications/smn" % P, "/v3/{project_id}/notifications/{notification_type}",
                  query="notification_name=prod_key_ops", params={"notification_type": "smn"}),
    "modify": event("PUT", "/v3/%s/notifications" % P, "/v3/{project_id}/notifications", body=update_body),
    "delete": event("DELETE", "/v3/%s/notifications" % P, "/v3/{project_id}/notifications",
                    query="notification_id=%s" % ID),
    "quotas": event("GET", "/v3/%s/quotas" % P, "/v3/{project_id}/quotas"),
    "operations": event("GET", "/v3/%s/operations" % P, "/v3/{project_id}/operations", query="service_type=ECS&typical=true"),
}
for name, e in events.items():
    (here / "api" / ("%s.json" % name)).write_text(json.dumps(e, indent=2) + "\n")
