#!/usr/bin/env python3
"""A replay of the Terraform provider's resource `huaweicloud_cts_notification`, written from
its source (huaweicloud/services/cts/resource_huaweicloud_cts_notification.go): the requests it
sends for create, read (refresh), update, rename, enable/disable, import by name and destroy,
signed with AK/SK as its Go SDK signs them (the same SDK-HMAC-SHA256 scheme, here through the
Python SDK's signer). After each step, a refresh must show no difference from the
configuration: what `terraform plan` would report as a perpetual diff.

Usage: terraform_replay.py BASE_URL KEYS_FILE (the server's ACCESS_KEYS_FILE; its first key)
"""
import copy
import json
import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcts.v3 import (
    CreateNotificationRequest, CreateNotificationRequestBody, CtsClient, DeleteNotificationRequest,
    Filter, ListNotificationsRequest, NotificationUsers, Operations, UpdateNotificationRequest,
    UpdateNotificationRequestBody)

base_url, keys_file = sys.argv[1], sys.argv[2]
key = json.load(open(keys_file))[0]
project = key["project_id"]
client = CtsClient.new_builder().with_credentials(
    BasicCredentials(key["access_key"], key["secret_key"], project)).with_endpoint(base_url).build()
passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else "  " + str(detail)))
    passed, failed = passed + bool(ok), failed + (not ok)


# --- the provider's request builders (buildNotificationCreateRequestBody and friends) ---------

def operations_opts(cfg):
    ops = cfg.get("operations") or []
    return [Operations(service_type=o["service"], resource_type=o["resource"], trace_names=list(o["trace_names"]))
            for o in ops] or None


def users_opts(cfg):
    users = cfg.get("operation_users") or []
    return [NotificationUsers(user_group=u["group"], user_list=list(u["users"])) for u in users] or None


def filter_opts(cfg):
    f = cfg.get("filter") or []
    if not f:
        return None
    return Filter(is_support_filter=True, rule=list(f[0]["rule"]), condition=f[0]["condition"])


def create(cfg, state):
    body = CreateNotificationRequestBody(
        notification_name=cfg["name"], operation_type=cfg["operation_type"],
        operations=operations_opts(cfg), notify_user_list=users_opts(cfg),
        topic_id=cfg.get("smn_topic", ""), filter=filter_opts(cfg))
    created = client.create_notification(CreateNotificationRequest(body=body))
    state["id"] = cfg["name"]
    expect = "enabled" if cfg.get("enabled", True) else "disabled"
    if created.status != expect:
        return update(cfg, state)
    return read(state)


def update(cfg, state):
    body = UpdateNotificationRequestBody(
        notification_name=cfg["name"], notification_id=state.get("notification_id", ""),
        operation_type=cfg["operation_type"], operations=operations_opts(cfg),
        notify_user_list=users_opts(cfg), status="enabled" if cfg.get("enabled", True) else "disabled",
        topic_id=cfg.get("smn_topic", ""), filter=filter_opts(cfg))
    client.update_notification(UpdateNotificationRequest(body=body))
    state["id"] = cfg["name"]
    return read(state)


def read(state):
    """resourceCTSNotificationRead: the rule found by name (the resource id) sets the state."""
    found = client.list_notifications(
        ListNotificationsRequest(notification_type="smn", notification_name=state["id"])).notifications
    if not found:
        state.clear()
        return state
    n = found[0]
    state.update(name=n.notification_name, notification_id=n.notification_id, smn_topic=n.topic_id or "",
                 filter=[{"condition": n.filter.condition, "rule": n.filter.rule}] if n.filter else [])
    if n.operations is not None:
        state["operations"] = [{"service": o.service_type, "resource": o.resource_type,
                                "trace_names": o.trace_names} for o in n.operations]
    if n.notify_user_list is not None:
        state["operation_users"] = [{"group": u.user_group, "users": u.user_list} for u in n.notify_user_list]
    state["operation_type"] = n.operation_type
    state["status"] = n.status
    state["enabled"] = n.status == "enabled"
    return state


def delete(state):
    client.delete_notification(DeleteNotificationRequest(notification_id=state["notification_id"]))


def plan(cfg, state):
    """The attributes `terraform plan` would show as changed (empty lists equal absent ones)."""
    diff = {}
    for field in ("name", "operation_type", "smn_topic", "operations", "operation_users", "enabled", "filter"):
        want = cfg.get(field, {"smn_topic": "", "enabled": True}.get(field, []))
        got = state.get(field, [] if field in ("operations", "operation_users", "filter") else None)
        if want != got:
            diff[field] = (want, got)
    return diff


def step(what, cfg, state):
    check(what + ": no diff after refresh", plan(cfg, read(state)) == {}, plan(cfg, state))


topic = "urn:smn:eu-west-1:%s:key_events" % project
config = {
    "name": "tf_key_ops", "operation_type": "customized", "smn_topic": topic, "enabled": False,
    # Two blocks for one service and resource type stay two blocks.
    "operations": [{"service": "ECS", "resource": "ecs", "trace_names": ["stopServer", "deleteServer"]},
                   {"service": "ECS", "resource": "ecs", "trace_names": ["rebootServer"]}],
    "operation_users": [{"group": "admin", "users": ["ops-alice", "dev-bob"]}],
    # Written without spaces: read back exactly so.
    "filter": [{"condition": "AND", "rule": ["code!=200", "trace_rating = warning"]}],
}
state = {}
create(config, state)
check("create with enabled = false ends disabled (a PUT with an empty notification_id)",
      state.get("status") == "disabled", state)
step("create", config, state)
step("a second refresh", config, state)

config["filter"] = [{"condition": "OR", "rule": ["code!=200", "trace_type=ConsoleAction", "resource_name = web 01"]}]
config["enabled"] = True
update(config, state)
step("update filter and enable", config, state)

old_id = state["notification_id"]
config["name"] = "tf_key_ops_renamed"
update(config, state)
check("rename keeps the notification id", state.get("notification_id") == old_id, state)
step("rename", config, state)

config["enabled"] = False
update(config, state)
step("disable", config, state)
config["enabled"] = True
update(config, state)
step("enable", config, state)

imported = read({"id": config["name"]})
check("import by name: no diff", plan(config, imported) == {}, plan(config, imported))

plain = {"name": "tf_plain", "operation_type": "complete", "enabled": False}
plain_state = {}
create(plain, plain_state)
step("create without a topic (disabled, nothing to modify)", plain, plain_state)

try:
    update({"name": "tf_no_such_rule", "operation_type": "complete", "enabled": False}, {})
    check("a PUT by an unknown name fails", False)
except ClientRequestException as e:
    check("a PUT by an unknown name is 404 CTS.0402", (e.status_code, e.error_code) == (404, "CTS.0402"))

for s in (state, plain_state):
    delete(s)
check("destroy: the refresh finds nothing", read({"id": config["name"]}) == {} and read({"id": "tf_plain"}) == {})

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
