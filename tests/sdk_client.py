#!/usr/bin/env python3
"""A real client of the API: the Huawei Cloud Python SDK (huaweicloudsdkcts) creates, lists,
updates, disables, enables and deletes notification rules, reads the quota and the operations
catalog, against a running server that verifies its AK/SK signatures; then a wrong secret,
another project's key and an unsigned request are refused, and change nothing.

Usage: sdk_client.py BASE_URL KEYS_FILE
KEYS_FILE is the server's ACCESS_KEYS_FILE: its first key acts on the project under test, its
second on another project.
"""
import json
import sys
import urllib.error
import urllib.request

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcts.v3 import (
    CreateNotificationRequest, CreateNotificationRequestBody, CtsClient, DeleteNotificationRequest,
    Filter, ListNotificationsRequest, ListOperationsRequest, ListQuotasRequest, NotificationUsers,
    Operations, UpdateNotificationRequest, UpdateNotificationRequestBody)

base_url, keys_file = sys.argv[1], sys.argv[2]
own, other = json.load(open(keys_file))[:2]
project = own["project_id"]


def client_for(ak, sk, project_id):
    return CtsClient.new_builder().with_credentials(BasicCredentials(ak, sk, project_id)) \
        .with_endpoint(base_url).build()


client = client_for(own["access_key"], own["secret_key"], project)
topic = "urn:smn:eu-west-1:%s:key_events" % project
passed = failed = 0


def check(what, ok):
    global passed, failed
    print(("ok   " if ok else "FAIL ") + what)
    passed, failed = passed + bool(ok), failed + (not ok)


def create(name):
    body = CreateNotificationRequestBody(
        notification_name=name, operation_type="customized",
        operations=[Operations(service_type="ECS", resource_type="ecs", trace_names=["deleteServer", "stopServer"])],
        notify_user_list=[NotificationUsers(user_group="admin", user_list=["ops-alice"])],
        topic_id=topic,
        filter=Filter(condition="OR", is_support_filter=True, rule=["trace_rating != normal", "code = 403"]))
    return client.create_notification(CreateNotificationRequest(body=body))


def names(name=None):
    resp = client.list_notifications(ListNotificationsRequest(notification_type="smn", notification_name=name))
    return [n.notification_name for n in resp.notifications]


first = create("sdk_rule_one")
check("create answers the new rule", first.notification_id and first.status == "enabled"
      and first.operations[0].trace_names == ["deleteServer", "stopServer"] and first.filter.rule[0] == "trace_rating != normal")
second = create("sdk_rule_two")
check("list by exact name", names("sdk_rule_one") == ["sdk_rule_one"])
check("list all", sorted(names()) == ["sdk_rule_one", "sdk_rule_two"])

try:
    create("sdk_rule_one")
    check("a duplicate name is refused", False)
except ClientRequestException as e:
    check("a duplicate name is refused with CTS.0400", e.status_code == 400 and e.error_code == "CTS.0400")


def update(status, name="sdk_rule_one"):
    body = UpdateNotificationRequestBody(
        notification_id=first.notification_id, notification_name=name, operation_type="customized",
        operations=[Operations(service_type="ECS", resource_type="ecs", trace_names=["deleteServer"])],
        notify_user_list=[], status=status, topic_id=topic)
    return client.update_notification(UpdateNotificationRequest(body=body))


check("disable", update("disabled").status == "disabled")
check("enable and rename", update("enabled", "sdk_rule_renamed").notification_name == "sdk_rule_renamed")
check("the rename is listed", sorted(names()) == ["sdk_rule_renamed", "sdk_rule_two"])

quota = client.list_quotas(ListQuotasRequest()).resources[0]
check("the quota counts the rules", (quota.type, quota.used, quota.quota) == ("smn_notification", 2, 100))
ops = client.list_operations(ListOperationsRequest(service_type="ECS")).operations
check("the operations catalog", ops and all(o.service_type == "ECS" for o in ops))


def refused(what, call, status, code):
    try:
        call()
        check(what, False)
    except ClientRequestException as e:
        check("%s: %d %s" % (what, status, code), (e.status_code, e.error_code) == (status, code))


wrong_secret = client_for(own["access_key"], own["secret_key"] + "x", project)
refused("a wrong secret", lambda: wrong_secret.list_notifications(ListNotificationsRequest(notification_type="smn")),
        401, "APIGW.0301")
refused("a wrong secret cannot create", lambda: wrong_secret.create_notification(CreateNotificationRequest(
    body=CreateNotificationRequestBody(notification_name="intruder", operation_type="complete"))), 401, "APIGW.0301")
# The other project's key, aimed at this project (the SDK puts its project in the path).
intruder = client_for(other["access_key"], other["secret_key"], project)
refused("another project's key", lambda: intruder.delete_notification(
    DeleteNotificationRequest(notification_id=first.notification_id)), 403, "CTS.0013")
refused("another project's key cannot create", lambda: intruder.create_notification(CreateNotificationRequest(
    body=CreateNotificationRequestBody(notification_name="intruder", operation_type="complete"))), 403, "CTS.0013")
try:
    urllib.request.urlopen("%s/v3/%s/notifications/smn" % (base_url, project))
    check("an unsigned request is refused", False)
except urllib.error.HTTPError as e:
    body = json.load(e)
    check("an unsigned request is 401 APIGW.0301 with a request id",
          e.code == 401 and body["error_code"] == "APIGW.0301" and body["request_id"] == e.headers["X-Request-Id"])
check("nothing changed by refused calls", sorted(names()) == ["sdk_rule_renamed", "sdk_rule_two"])

client.delete_notification(DeleteNotificationRequest(
    notification_id="%s,%s" % (first.notification_id, second.notification_id)))
check("a batch delete removes both", names() == [])

try:
    client.delete_notification(DeleteNotificationRequest(notification_id=first.notification_id))
    check("deleting an unknown id fails", False)
except ClientRequestException as e:
    check("deleting an unknown id is 404 CTS.0402", e.status_code == 404 and e.error_code == "CTS.0402")

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
