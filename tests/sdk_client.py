#!/usr/bin/env python3
"""A real client of the API: the Huawei Cloud Python SDK (huaweicloudsdkcts) creates, lists,
updates, disables, enables and deletes notification rules against a running server.

Usage: sdk_client.py BASE_URL PROJECT_ID
"""
import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcts.v3 import (
    CreateNotificationRequest, CreateNotificationRequestBody, CtsClient, DeleteNotificationRequest,
    Filter, ListNotificationsRequest, NotificationUsers, Operations, UpdateNotificationRequest,
    UpdateNotificationRequestBody)

base_url, project = sys.argv[1], sys.argv[2]
# AK/SK are dummies: the local server does not verify signatures, but the SDK signs every call.
client = CtsClient.new_builder() \
    .with_credentials(BasicCredentials("AKLOCALTESTONLY0000", "local-secret-key-not-used", project)) \
    .with_endpoint(base_url).build()
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
