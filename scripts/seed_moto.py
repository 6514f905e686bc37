#!/usr/bin/env python3
"""Creates in a moto server what template.yaml creates in AWS, for the local AWS mode: the rules
table, the `key_events` topic with a `key-events-subscriber` queue subscribed, and the trace
intake queue. Usage: seed_moto.py ENDPOINT_URL"""
import sys

import boto3

endpoint = sys.argv[1]
kw = dict(endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id="test", aws_secret_access_key="test")
ddb, sns, sqs = boto3.client("dynamodb", **kw), boto3.client("sns", **kw), boto3.client("sqs", **kw)
ddb.create_table(
    TableName="rules", BillingMode="PAY_PER_REQUEST",
    AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "dw", "dat")],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    GlobalSecondaryIndexes=[{
        "IndexName": "digest-members",
        "KeySchema": [{"AttributeName": "dw", "KeyType": "HASH"}, {"AttributeName": "dat", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["tn", "u", "rt", "r"]}}])
ddb.update_time_to_live(TableName="rules", TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
# An SMN URN urn:smn:<region>:<project>:<name> publishes to the SNS topic <project>_<name>.
topic = sns.create_topic(Name="24edf66e79d04187acb99a463e610764_key_events")["TopicArn"]
queue = sqs.create_queue(QueueName="key-events-subscriber")["QueueUrl"]
queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
intake = sqs.create_queue(QueueName="trace-intake")["QueueUrl"]
print("table rules; topic %s -> queue %s; intake %s" % (topic, queue, intake))
