#!/usr/bin/env python3
"""The console in a real browser (headless Debian Chromium, driven by Selenium), used as a person
uses it: controls found by their labels, buttons by their text. Every flow of the user guide —
create (All, with a limit; Custom with operations, users and a filter), view with its activity
chart, each rule's last match and sparkline, stop, start, modify, delete, batch delete, a refused
name, a dry run — then checked through the API. Screenshots of each page
go to target/console-screens/.

Usage: console_browser.py BASE_URL [ACCESS_KEYS_FILE]
With a keys file the server verifies AK/SK signatures: the page signs in the browser with the
keys typed for the session, and the checks read the API through the Huawei SDK's signer."""
import json
import pathlib
import sys
import tempfile
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = sys.argv[1].rstrip("/")
KEYS = json.load(open(sys.argv[2])) if len(sys.argv) > 2 else None
P = "24edf66e79d04187acb99a463e610764"
TOPIC = "urn:smn:eu-west-1:%s:key_events" % P
SCREENS = pathlib.Path(__file__).resolve().parent.parent / "target" / "console-screens"
MODE = "aksk" if KEYS else "open"
passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok   %s" % what)
    else:
        failed += 1
        print("FAIL %s %s" % (what, detail))


# ---- The API, as the checks read it.

def signed_headers(method, path, body):
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.sdk_request import SdkRequest
    from huaweicloudsdkcore.signer.signer import Signer
    from urllib.parse import parse_qsl, urlsplit
    key = KEYS[0]
    url = urlsplit(BASE + path)
    request = SdkRequest(method=method, schema=url.scheme, host=url.netloc, resource_path=url.path,
                         query_params=parse_qsl(url.query), header_params={"Content-Type": "application/json"},
                         body=body)
    signed = Signer(BasicCredentials(key["access_key"], key["secret_key"], key["project_id"])).sign(request)
    return signed.header_params


def api(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else b""
    headers = signed_headers(method, path, data) if KEYS else {"Content-Type": "application/json", "X-Project-Id": P}
    req = urllib.request.Request(BASE + path, data=data if body is not None else None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req) as resp:
            text = resp.read()
            return resp.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def stored():
    """The project's rules by name, as the API lists them."""
    rules = {}
    for kind in ("smn", "fun"):
        status, body = api("GET", "/v3/%s/notifications/%s" % (P, kind))
        assert status == 200, (status, body)
        rules.update({r["notification_name"]: r for r in body["notifications"]})
    return rules


def activity(name):
    """A rule's counts over the days the API reports, summed."""
    rule = stored()[name]
    status, body = api("GET", "/v3/%s/notifications/%s/activity" % (P, rule["notification_id"]))
    assert status == 200, (status, body)
    return {k: sum(h[k] for h in body["hours"]) for k in ("matches", "published", "digested", "failures")}


# ---- The browser, as a person uses it.

def browser():
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1366,900",
                 "--user-data-dir=" + tempfile.mkdtemp(prefix="console-chromium-")):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


driver = browser()
# The table is drawn anew after every change: an element found just before may be replaced.
wait = WebDriverWait(driver, 10, ignored_exceptions=[StaleElementReferenceException])


def visible(xpath):
    return wait.until(lambda d: next((e for e in d.find_elements(By.XPATH, xpath) if e.is_displayed()), None))


def click(xpath):
    """Clicks the visible element at xpath, finding it again if it was redrawn meanwhile."""
    def clicked(d):
        element = next((e for e in d.find_elements(By.XPATH, xpath) if e.is_displayed()), None)
        if element is None:
            return False
        element.click()
        return True
    wait.until(clicked)


def control(label, scope="//"):
    """The control a visible label names."""
    lab = visible("%slabel[normalize-space()='%s']" % (scope, label))
    return driver.find_element(By.ID, lab.get_attribute("for"))


def choose(label):
    """Clicks a radio button or check box by its label, as a person does."""
    click("//label[normalize-space()='%s']" % label)


def press(text, scope="//"):
    click("%sbutton[normalize-space()='%s']" % (scope, text))


def type_into(label, text, scope="//"):
    field = control(label, scope)
    field.clear()
    field.send_keys(text)


def row(name):
    return "//table[@id='rules']/tbody/tr[td[2][normalize-space()='%s']]" % name


def wait_rows(names):
    def shown(d):
        cells = d.find_elements(By.XPATH, "//table[@id='rules']/tbody/tr/td[2]")
        return sorted(c.text for c in cells) == sorted(names)
    try:
        wait.until(shown)
        return True
    except TimeoutException:
        return False


def confirm_yes():
    press("Yes", "//dialog[@open]//")
    wait.until(lambda d: not d.find_elements(By.XPATH, "//dialog[@open]"))


def screenshot(name):
    SCREENS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENS / ("%s-%s.png" % (MODE, name))))


def row_action(name, text):
    """Operation column: View, Start / Stop directly; Modify and Delete under More."""
    if text in ("Modify", "Delete"):
        click(row(name) + "//summary[normalize-space()='More']")
    press(text, row(name) + "//")


try:
    # The project prompt, then the page.
    driver.get(BASE + "/console/")
    type_into("Project ID", P)
    press("Open")
    wait.until(lambda d: d.current_url.endswith("/console/" + P))
    if KEYS:
        screenshot("sign-in")
        type_into("Access Key ID", KEYS[0]["access_key"])
        type_into("Secret Access Key", KEYS[0]["secret_key"])
        press("Sign In")
    visible("//span[@id='quota'][contains(., '0 / 100')]")
    screenshot("empty")
    check("the page opens on the project, quota 0 / 100", True)

    # Create: All operations, all users, to a topic.
    press("Create Key Event Notification")
    type_into("Notification Name", "all_ops")
    choose("All")
    choose("All users")
    choose("Yes")
    type_into("SMN Topic", TOPIC)
    choose("Limit messages")
    type_into("At most", "3")
    Select(control("messages per")).select_by_visible_text("5 minutes")
    screenshot("create-all")
    press("OK")
    check("created rule shows in the table", wait_rows(["all_ops"]))
    r = stored().get("all_ops", {})
    check("API: all_ops is complete, enabled, to the topic, for every user",
          (r.get("operation_type"), r.get("status"), r.get("topic_id"), r.get("notify_user_list")) ==
          ("complete", "enabled", TOPIC, []), r)
    check("API: all_ops sends at most 3 messages per 5 minutes",
          r.get("digest") == {"window_seconds": 300, "max_messages": 3}, r)
    # Five matches of all_ops: past its three messages (its own creation, a rule change, took
    # one), the rest counted into its digest.
    traces = [{"trace_id": "%s-fired-%d" % (MODE, i), "trace_name": "deleteServer", "service_type": "ECS",
               "resource_type": "ecs", "project_id": P, "user": {"name": "ops-alice"}} for i in range(5)]
    status, summary = api("POST", "/traces", {"traces": traces})
    check("POST /traces: all_ops fires five times, at most three messages in the window", status == 200
          and summary["published"] + summary.get("digested", 0) == 5 and summary.get("digested", 0) >= 2,
          (status, summary))

    # Create: Custom operations from the catalog plus a typed one, a filter, specified users.
    press("Create Key Event Notification")
    type_into("Notification Name", "custom_ops")
    choose("Custom")
    Select(control("Service")).select_by_visible_text("ECS")
    Select(control("Resource Type")).select_by_visible_text("ecs")
    names = Select(control("Trace Names"))
    names.select_by_visible_text("deleteServer")
    names.select_by_visible_text("stopServer")
    type_into("Other trace names (comma-separated)", "detachNetworkInterface")
    press("Add Operations")
    visible("//ul[@id='operations']/li[contains(., 'ECS / ecs: deleteServer, stopServer, detachNetworkInterface')]")
    choose("Advanced Filter")
    first = "//ol[@id='filter-rows']/li[1]//"
    Select(control("Field", first)).select_by_visible_text("trace_rating")
    Select(control("Operator", first)).select_by_visible_text("!=")
    type_into("Value", "normal", first)
    press("Add Condition")
    second = "//ol[@id='filter-rows']/li[2]//"
    Select(control("Field", second)).select_by_visible_text("trace_type")
    Select(control("Operator", second)).select_by_visible_text("=")
    type_into("Value", "ConsoleAction", second)
    choose("OR")
    choose("Specified users")
    group = "//ol[@id='user-groups']/li[1]//"
    type_into("User Group", "admin", group)
    type_into("Users", "ops-alice, dev-bob", group)
    choose("Yes")
    type_into("SMN Topic", TOPIC)

    # Test: the first sample (deleteServer by ops-alice, a console action) fires; the exact
    # message is shown; nothing is stored or published.
    Select(control("Sample trace")).select_by_index(1)
    press("Test")
    verdict = visible("//div[@id='test-result']/p[1]")
    subject = visible("//div[@id='test-result']/p[starts-with(., 'Subject:')]")
    message = json.loads(visible("//div[@id='test-result']/pre[@class='message']").text)
    driver.execute_script("arguments[0].scrollIntoView()", verdict)
    screenshot("dry-run")
    check("dry run: the rule fires on the sample", "the rule fires" in verdict.text, verdict.text)
    check("dry run: the subject and message that would be published",
          subject.text == "Subject: [normal] ECS ecs deleteServer by ops-alice"
          and message["trace"]["trace_name"] == "deleteServer"
          and message["notification"]["name"] == "custom_ops", (subject.text, message))
    check("dry run: nothing stored", "custom_ops" not in stored())
    control("Trace").clear()
    control("Trace").send_keys(json.dumps({"trace_id": "t-9", "trace_name": "deleteServer", "service_type": "ECS",
                                           "resource_type": "ecs", "project_id": P, "trace_rating": "normal",
                                           "trace_type": "ApiCall", "user": {"name": "ops-alice"}}))
    press("Test")
    verdict = visible("//div[@id='test-result']/p[1]")
    check("dry run: a normal API call does not pass the filter", "decided by filter" in verdict.text, verdict.text)

    press("OK")
    check("the custom rule shows in the table", wait_rows(["all_ops", "custom_ops"]))
    fired = visible(row("all_ops") + "/td[@class='activity'][contains(., 'Last fired')]")
    spark = fired.find_element(By.TAG_NAME, "svg")
    matched = activity("all_ops")
    check("the list shows when all_ops last fired and its sparkline",
          "Last fired just now" in fired.text and matched["matches"] >= 5
          and spark.get_attribute("aria-label") == "%d matches in 7 days" % matched["matches"],
          (fired.text, spark.get_attribute("aria-label"), matched))
    quiet = visible(row("custom_ops") + "/td[@class='activity'][contains(., 'fired')]")
    check("a rule that never matched says so", "Never fired" in quiet.text, quiet.text)
    r = stored().get("custom_ops", {})
    check("API: custom_ops holds what was picked and typed",
          r.get("operation_type") == "customized"
          and r.get("operations") == [{"service_type": "ECS", "resource_type": "ecs",
                                       "trace_names": ["deleteServer", "stopServer", "detachNetworkInterface"]}]
          and r.get("filter") == {"condition": "OR", "is_support_filter": True,
                                  "rule": ["trace_rating != normal", "trace_type = ConsoleAction"]}
          and r.get("notify_user_list") == [{"user_group": "admin", "user_list": ["ops-alice", "dev-bob"]}]
          and r.get("topic_id") == TOPIC and r.get("status") == "enabled", r)
    screenshot("list")

    # View.
    row_action("custom_ops", "View")
    view = visible("//section[@id='view']")
    screenshot("view")
    check("View shows the rule", "ECS / ecs: deleteServer, stopServer, detachNetworkInterface" in view.text
          and "admin: ops-alice, dev-bob" in view.text and TOPIC in view.text, view.text)
    press("Close")

    # Stop, then Start, each confirmed with Yes.
    row_action("all_ops", "Stop")
    screenshot("confirm-stop")
    confirm_yes()
    visible(row("all_ops") + "/td[normalize-space()='Disabled']")
    check("Stop: API shows all_ops disabled", stored()["all_ops"]["status"] == "disabled")
    row_action("all_ops", "Start")
    confirm_yes()
    visible(row("all_ops") + "/td[normalize-space()='Enabled']")
    check("Start: API shows all_ops enabled", stored()["all_ops"]["status"] == "enabled")
    check("Stop and Start keep the limit", stored()["all_ops"].get("digest") == {"window_seconds": 300, "max_messages": 3})
    row_action("all_ops", "View")
    view = visible("//section[@id='view']")
    check("View shows the limit", "At most 3 messages per 5 minutes, then one digest" in view.text, view.text)
    chart = visible("//div[@id='view-chart']/*[local-name()='svg']")
    summary = visible("//div[@id='view-chart']/p")
    driver.execute_script("arguments[0].scrollIntoView()", chart)
    screenshot("view-activity")
    matched = activity("all_ops")
    check("View charts the last 14 days hour by hour",
          chart.get_attribute("aria-label").startswith("%d matches in 14 days" % matched["matches"])
          and len(chart.find_elements(By.TAG_NAME, "rect")) >= 1
          and summary.text.startswith("%(matches)d matches: %(published)d published, %(digested)d in digests, 0 failed publishes."
                                      % matched),
          (chart.get_attribute("aria-label"), summary.text, matched))
    press("Close")

    # More > Modify: the form holds the rule; a rename keeps everything else.
    before = stored()["custom_ops"]
    row_action("custom_ops", "Modify")
    check("Modify opens the form filled in", control("Notification Name").get_attribute("value") == "custom_ops"
          and control("SMN Topic").get_attribute("value") == TOPIC)
    screenshot("modify")
    type_into("Notification Name", "custom_ops_v2")
    press("OK")
    check("the renamed rule shows in the table", wait_rows(["all_ops", "custom_ops_v2"]))
    after = stored().get("custom_ops_v2", {})
    same = {k: v for k, v in before.items() if k != "notification_name"} == \
           {k: v for k, v in after.items() if k != "notification_name"}
    check("API: Modify renamed the rule and changed nothing else", same, (before, after))

    # A refused name: the API's error beside the form, what was typed kept, nothing stored.
    press("Create Key Event Notification")
    type_into("Notification Name", "bad name!")
    choose("All")
    type_into("SMN Topic", TOPIC)
    press("OK")
    error = visible("//p[@id='form-error'][normalize-space()!='']")
    status, refused = api("POST", "/v3/%s/notifications" % P,
                          {"notification_name": "bad name!", "operation_type": "complete", "topic_id": TOPIC,
                           "notify_user_list": []})
    screenshot("refused")
    check("a refused name shows the API's error_msg", status == 400 and refused["error_msg"] in error.text,
          (error.text, refused))
    check("what was typed is kept", control("Notification Name").get_attribute("value") == "bad name!")
    check("API: nothing stored", sorted(stored()) == ["all_ops", "custom_ops_v2"])
    press("Cancel")

    # More > Delete, confirmed with Yes.
    row_action("all_ops", "Delete")
    confirm_yes()
    check("Delete: the row goes", wait_rows(["custom_ops_v2"]))
    check("API: all_ops deleted", sorted(stored()) == ["custom_ops_v2"])

    # Several rows at once.
    for name in ("batch_a", "batch_b"):
        api("POST", "/v3/%s/notifications" % P, {"notification_name": name, "operation_type": "complete", "topic_id": TOPIC})
    driver.refresh()
    if KEYS:
        type_into("Access Key ID", KEYS[0]["access_key"])
        type_into("Secret Access Key", KEYS[0]["secret_key"])
        press("Sign In")
    wait_rows(["custom_ops_v2", "batch_a", "batch_b"])
    for name in ("batch_a", "batch_b"):
        click("//input[@aria-label='Select %s']" % name)
    visible("//span[@id='quota'][contains(., '3 / 100')]")
    press("Delete", "//div[@class='toolbar']//")
    screenshot("confirm-batch-delete")
    confirm_yes()
    check("batch delete: both rows go", wait_rows(["custom_ops_v2"]))
    check("API: both deleted, the other kept", sorted(stored()) == ["custom_ops_v2"])

    # The refused name's 400 is the one error the browser may report.
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"
              and "status of 400" not in e["message"]]
    check("no errors in the browser's console", not errors, errors)
except Exception as e:  # a step that could not be done fails the run, with a picture of why
    screenshot("failure")
    import traceback
    check("every step could be done", False, traceback.format_exc(limit=3))
finally:
    driver.quit()

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
