"""GET /api/v1/processes and POST /api/v1/processes/{key}/instances: what can be started, and starting it."""

from __future__ import annotations

from tests.web.conftest import SAMPLE_REQUEST

INSTANCE_KEYS = {"id", "process_key", "version", "business_key", "status", "data", "tasks"}
TASK_KEYS = {"id", "instance_id", "process_key", "name", "title", "role", "assignee", "status", "created_at",
             "due_at"}


def test_processes_lists_the_latest_versions_for_any_logged_in_user(api):
    for user in ("rep1", "qa1", "aud"):
        response = api(user).get("/processes")
        assert response.status_code == 200
        listed = {p["key"]: p for p in response.get_json()}
        assert set(listed) == {"sample_request", "customer_visit"}
        assert listed["sample_request"]["version"] == 1
        assert listed["sample_request"]["name"] == "样品提供申请"
        assert listed["sample_request"]["start_form"] == "sample_request_apply"
        assert listed["customer_visit"]["starters"] == ["sales_rep"]


def test_processes_say_whether_the_caller_may_start_them(api):
    assert {p["key"]: p["startable"] for p in api("rep1").get("/processes").get_json()} == {
        "sample_request": True, "customer_visit": True}
    assert {p["key"]: p["startable"] for p in api("qa1").get("/processes").get_json()} == {
        "sample_request": False, "customer_visit": False}


def test_processes_needs_a_token(api):
    assert api().get("/processes").status_code == 401


def test_a_sales_rep_starts_a_request_and_gets_the_instance_with_its_open_tasks(api):
    response = api("rep1").post("/processes/sample_request/instances",
                                json={"data": SAMPLE_REQUEST, "business_key": "YP-2026-001"})
    assert response.status_code == 201
    inst = response.get_json()
    assert set(inst) >= INSTANCE_KEYS
    assert inst["process_key"] == "sample_request"
    assert inst["version"] == 1
    assert inst["business_key"] == "YP-2026-001"
    assert inst["status"] == "running"
    assert inst["started_by"] == "rep1"
    assert {k: inst["data"][k] for k in SAMPLE_REQUEST} == SAMPLE_REQUEST
    assert inst["data"]["sample_route"] == "key_account"  # the DMN table's output
    [task] = inst["tasks"]
    assert set(task) >= TASK_KEYS
    assert (task["name"], task["role"], task["assignee"], task["status"]) == (
        "sales_approval", "sales_manager", None, "ready")
    assert task["instance_id"] == inst["id"]
    assert response.headers["Location"] == f"/api/v1/instances/{inst['id']}"
    assert api("rep1").get(f"/instances/{inst['id']}").get_json() == inst


def test_the_business_key_is_optional(api):
    inst = api("rep1").start_sample()
    assert inst["business_key"] is None


def test_a_local_customer_goes_to_quality_countersign(api):
    inst = api("rep1").start_sample(customer_class="local")
    assert [(t["name"], t["role"]) for t in inst["tasks"]] == [("quality_countersign", "quality")]


def test_a_role_that_may_not_start_the_process_gets_403(api):
    for user in ("mgr1", "qa1", "aud", "adm"):
        response = api(user).post("/processes/sample_request/instances", json={"data": SAMPLE_REQUEST})
        assert response.status_code == 403, user
        assert response.get_json()["error"] == "forbidden"
    assert api("aud").get("/instances/1").status_code == 404  # nothing was started


def test_an_unknown_process_gets_404(api):
    response = api("rep1").post("/processes/no_such_process/instances", json={"data": SAMPLE_REQUEST})
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_a_key_that_cannot_be_a_process_key_gets_404_json(api):
    response = api("rep1").post("/processes/bad%20key!/instances", json={"data": SAMPLE_REQUEST})
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_invalid_start_data_gets_422_with_each_field_in_chinese(api):
    data = {**SAMPLE_REQUEST, "quantity": 0, "customer_class": "vip"}
    del data["customer_name"]
    response = api("rep1").post("/processes/sample_request/instances", json={"data": data})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid_data"
    assert body["fields"] == {"customer_name": "此项必填", "quantity": "样品数量须大于零",
                              "customer_class": "请选择列表中的一项"}
    assert api("aud").get("/instances/1").status_code == 404  # nothing was started


def test_invalid_start_data_in_english_on_request(api):
    response = api("rep1", {"Accept-Language": "en"}).post(
        "/processes/sample_request/instances", json={"data": {**SAMPLE_REQUEST, "wanted_by": "soon"}})
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"wanted_by": "Not a valid date (YYYY-MM-DD)"}


def test_an_empty_start_gets_422_for_the_required_fields(api):
    response = api("rep1").post("/processes/sample_request/instances", json={})
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"customer_name", "customer_class", "product", "spec", "quantity",
                                                  "purpose", "delivery_address", "wanted_by"}


def test_a_business_key_longer_than_128_characters_gets_422(api):
    response = api("rep1").post("/processes/sample_request/instances",
                                json={"data": SAMPLE_REQUEST, "business_key": "K" * 129})
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"business_key"}


def test_data_and_business_key_of_the_wrong_type_get_422(api):
    response = api("rep1", {"Accept-Language": "en"}).post(
        "/processes/sample_request/instances", json={"data": [SAMPLE_REQUEST], "business_key": 12})
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"data": "Must be an object", "business_key": "Must be a text"}


def test_a_body_that_is_not_a_json_object_gets_400(api):
    rep = api("rep1")
    path = "/processes/sample_request/instances"
    json = "application/json"
    for kwargs in ({"json": [SAMPLE_REQUEST]}, {"json": "data"}, {"data": "{not json", "content_type": json},
                   {"data": ""}, {"data": '{"data": NaN}', "content_type": json}):
        response = rep.post(path, **kwargs)
        assert response.status_code == 400, kwargs
        body = response.get_json()
        assert body["error"] == "bad_request"
        assert "JSON" in body["message"]


# -- GET /processes/{key}: one process with its start form (issue 13, item 10) -------------------------------


def test_a_process_comes_with_the_start_form_the_start_page_shows(api, engine):
    response = api("rep1").get("/processes/sample_request")
    assert response.status_code == 200
    process = response.get_json()
    assert (process["key"], process["version"], process["startable"]) == ("sample_request", 1, True)
    assert process["name"] == "样品提供申请"
    assert process["names"] == {"zh": "样品提供申请", "en": "Sample request approval"}
    # the summary line of the diagram's documentation in the caller's language (zh unless asked otherwise)
    assert process["summary"].startswith("业务员为客户申请样品")
    form = process["form"]
    assert process["start_form"] == form["key"] == "sample_request_apply"
    assert form["title"] == {"zh": "样品提供申请表", "en": "Sample request form"}
    assert form["schema"]["required"] == ["customer_name", "customer_class", "product", "spec", "quantity",
                                          "purpose", "delivery_address", "wanted_by"]
    assert form["schema"]["properties"]["quantity"] == {"type": "number", "exclusiveMinimum": 0, "maximum": 1000,
                                                        "x-decimals": 3}
    fields = {f["name"]: f for f in form["ui"]["fields"]}
    assert fields["customer_name"]["label"] == {"zh": "客户名称", "en": "Customer name"}
    assert fields["purpose"]["options"]["project_bid"] == {"zh": "工程攻关", "en": "Project bid"}
    assert form["ui"]["messages"]["quantity"]
    # the very form the web start page renders and the engine validates a start against
    assert form == {k: engine.start_form("rep1", "sample_request")[k] for k in ("key", "title", "schema", "ui")}


def test_the_name_follows_accept_language(api):
    process = api("rep1", {"Accept-Language": "en"}).get("/processes/customer_visit").get_json()
    assert process["name"] == process["names"]["en"] != process["names"]["zh"]
    assert api("rep1").get("/processes/customer_visit").get_json()["name"] == process["names"]["zh"]
    assert process["summary"].startswith("A sales representative")
    assert api("rep1").get("/processes/customer_visit").get_json()["summary"].startswith("业务员")


def test_only_a_process_the_caller_may_start_is_described_as_startable(api):
    for user in ("mgr1", "qa1", "aud", "adm"):
        process = api(user).get("/processes/sample_request").get_json()
        assert process["startable"] is False, user
        assert process["form"]["key"] == "sample_request_apply"  # what a start needs is no secret
    listed = {p["key"]: p["startable"] for p in api("qa1").get("/processes").get_json()}
    assert listed["sample_request"] is False  # the list and the detail agree


def test_a_client_starts_the_process_with_data_its_form_describes(api):
    rep = api("rep1")
    form = rep.get("/processes/sample_request").get_json()["form"]
    data = {name: SAMPLE_REQUEST[name] for name in form["schema"]["required"]}
    assert rep.post("/processes/sample_request/instances", json={"data": data}).status_code == 201


def test_the_current_version_after_a_new_deployment(api, engine, tmp_path):
    from tests.web.conftest import p5_p6_files

    files = []
    for path in p5_p6_files():
        copy = tmp_path / path.name
        text = path.read_text(encoding="utf-8")
        if path.name == "sample_request.bpmn":
            text = text.replace("zh: 业务员为客户申请样品", "zh: 第二版：业务员为客户申请样品", 1)
        copy.write_text(text, encoding="utf-8")
        files.append(copy)
    engine.deploy("system", files)
    process = api("rep1").get("/processes/sample_request").get_json()
    assert process["version"] == 2
    assert process["summary"].startswith("第二版：")


def test_an_unknown_process_key_gets_404_naming_it(api):
    response = api("rep1").get("/processes/no_such_process")
    assert response.status_code == 404
    body = response.get_json()
    assert body["error"] == "not_found"
    assert "no_such_process" in body["message"]
    assert api("rep1").get("/processes/bad%20key!").get_json()["error"] == "not_found"


def test_a_process_needs_a_token(api):
    assert api().get("/processes/sample_request").status_code == 401
