//! What `template.yaml` deploys at the edge and for operations, with every hint set: the specs
//! in tests/specs/edge/ are planned (nothing is built), their templates passed through cfn-lint
//! and `sam validate --lint`, and read back.

#[path = "common/mod.rs"]
mod common;

use yaml_rust2::{Yaml, YamlLoader};

fn plan(stem: &str) -> apigen::Generated {
    let spec = common::repo().join(format!("tests/specs/edge/{stem}.yaml"));
    apigen::plan(&spec, &apigen::Options::default()).unwrap_or_else(|e| panic!("{stem}: {e}"))
}

fn file(generated: &apigen::Generated, path: &str) -> String {
    generated
        .plan
        .get(path)
        .unwrap_or_else(|| panic!("no {path}"))
        .contents
        .clone()
}

fn template(stem: &str) -> Yaml {
    let text = file(&plan(stem), "template.yaml");
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("template.yaml"), &text).expect("written");
    common::lint_template(dir.path());
    YamlLoader::load_from_str(&text)
        .expect("YAML")
        .pop()
        .expect("one document")
}

fn strings(y: &Yaml) -> Vec<&str> {
    y.as_vec()
        .map(|v| v.iter().filter_map(Yaml::as_str).collect())
        .unwrap_or_default()
}

/// A number, however YAML wrote it (`5` or `5.0`).
fn number(y: &Yaml) -> Option<f64> {
    y.as_f64().or_else(|| y.as_i64().map(|n| n as f64))
}

fn default(t: &Yaml, parameter: &str) -> Option<String> {
    let d = &t["Parameters"][parameter]["Default"];
    d.as_str()
        .map(str::to_string)
        .or_else(|| d.as_i64().map(|n| n.to_string()))
}

#[test]
fn an_http_api_with_every_edge_hint() {
    let t = template("http");
    let resources = &t["Resources"];
    let api = &resources["HttpApi"]["Properties"];
    // Stage, log and throttling settings are parameters whose defaults are the spec's.
    assert_eq!(default(&t, "Stage").as_deref(), Some("live"));
    assert_eq!(default(&t, "LogLevel").as_deref(), Some("debug"));
    assert_eq!(default(&t, "LogRetentionDays").as_deref(), Some("90"));
    assert_eq!(default(&t, "ThrottlingRateLimit").as_deref(), Some("200"));
    assert_eq!(default(&t, "ThrottlingBurstLimit").as_deref(), Some("400"));
    assert_eq!(default(&t, "MainTablePhysicalName").as_deref(), Some(""));
    assert_eq!(
        default(&t, "AlarmEmail").as_deref(),
        Some("ops@example.com")
    );
    assert_eq!(
        default(&t, "DomainName").as_deref(),
        Some("api.example.com")
    );

    // CORS: the spec's origins, methods, and every header its parameters and schemes use.
    let cors = &api["CorsConfiguration"];
    assert_eq!(
        strings(&cors["AllowOrigins"]),
        ["https://app.example.com", "http://localhost:5173"]
    );
    assert_eq!(strings(&cors["AllowMethods"]), ["GET", "POST"]);
    assert_eq!(
        strings(&cors["AllowHeaders"]),
        [
            "authorization",
            "content-type",
            "x-gate-token",
            "x-request-tag",
            "x-trace-id"
        ]
    );
    assert_eq!(strings(&cors["ExposeHeaders"]), ["x-total-count"]);
    assert_eq!(cors["AllowCredentials"].as_bool(), Some(true));
    assert_eq!(cors["MaxAge"].as_i64(), Some(3600));

    // Throttling: the stage's, and routes with their own (an unset limit is the stage's).
    let post = &api["RouteSettings"]["POST /things"];
    assert_eq!(number(&post["ThrottlingRateLimit"]), Some(5.0));
    assert_eq!(post["ThrottlingBurstLimit"].as_i64(), Some(10));
    let list = &api["RouteSettings"]["GET /things"];
    assert_eq!(number(&list["ThrottlingRateLimit"]), Some(200.0));
    assert_eq!(list["ThrottlingBurstLimit"].as_i64(), Some(50));
    assert!(!api["DefaultRouteSettings"]["ThrottlingRateLimit"].is_badvalue());

    // The domain maps the API under its base path; the URL says so.
    assert_eq!(strings(&api["Domain"]["BasePath"]), ["v1"]);
    assert!(api["DisableExecuteApiEndpoint"].is_badvalue());

    // JSON access logs, and a log group with the retention per function.
    let format = api["AccessLogSettings"]["Format"]
        .as_str()
        .expect("a format");
    let fields: serde_json::Value = serde_json::from_str(format).expect("JSON");
    for field in [
        "requestId",
        "route",
        "status",
        "latency",
        "caller",
        "integrationError",
    ] {
        assert!(fields.get(field).is_some(), "{field} in {format}");
    }
    for group in [
        "AccessLogs",
        "ApiFunctionLogs",
        "GateAuthorizerFunctionLogs",
    ] {
        assert_eq!(
            resources[group]["Type"].as_str(),
            Some("AWS::Logs::LogGroup"),
            "{group}"
        );
    }
    let function = &resources["ApiFunction"]["Properties"];
    assert_eq!(
        function["LoggingConfig"]["LogFormat"].as_str(),
        Some("JSON")
    );
    assert!(!function["Environment"]["Variables"]["APIGEN_METRICS_NAMESPACE"].is_badvalue());

    // Alarms with the spec's thresholds, for every function and table, and their topic.
    let threshold = |alarm: &str| number(&resources[alarm]["Properties"]["Threshold"]);
    assert_eq!(threshold("ApiErrorRateAlarm"), Some(2.5));
    assert_eq!(threshold("ApiLatencyAlarm"), Some(1500.0));
    // 70% of 20 s and of the authorizer's 5 s.
    assert_eq!(threshold("ApiFunctionDurationAlarm"), Some(14000.0));
    assert_eq!(
        threshold("GateAuthorizerFunctionDurationAlarm"),
        Some(3500.0)
    );
    for alarm in [
        "ApiFunctionErrorsAlarm",
        "ApiFunctionThrottlesAlarm",
        "GateAuthorizerFunctionErrorsAlarm",
        "MainTableThrottleAlarm",
        "MainTableSystemErrorsAlarm",
    ] {
        assert_eq!(
            resources[alarm]["Type"].as_str(),
            Some("AWS::CloudWatch::Alarm"),
            "{alarm}"
        );
    }
    // System errors are read per operation the stack calls.
    let metrics = resources["MainTableSystemErrorsAlarm"]["Properties"]["Metrics"]
        .as_vec()
        .expect("metrics");
    let operations: Vec<&str> = metrics
        .iter()
        .filter_map(|m| m["MetricStat"]["Metric"]["Dimensions"][1]["Value"].as_str())
        .collect();
    assert_eq!(operations, ["GetItem", "PutItem"]);
    assert_eq!(
        resources["AlarmEmailSubscription"]["Condition"].as_str(),
        Some("HasAlarmEmail")
    );

    // The dashboard's body is JSON (before `!Sub` fills in names).
    let body = resources["Dashboard"]["Properties"]["DashboardBody"]
        .as_str()
        .expect("a body");
    let dashboard: serde_json::Value = serde_json::from_str(body).expect("JSON");
    let titles: Vec<&str> = dashboard["widgets"]
        .as_array()
        .expect("widgets")
        .iter()
        .filter_map(|w| w["properties"]["title"].as_str())
        .collect();
    assert!(
        titles.contains(&"Latency p99 by operation (ms)"),
        "{titles:?}"
    );
    assert!(titles.contains(&"DynamoDB throttles"), "{titles:?}");
}

#[test]
fn a_rest_api_answers_preflights_in_its_function() {
    let t = template("rest");
    let resources = &t["Resources"];
    let api = &resources["RestApi"]["Properties"];
    assert_eq!(default(&t, "Stage").as_deref(), Some("v2"));
    assert_eq!(default(&t, "LogRetentionDays").as_deref(), Some("7"));
    // No certificate in the spec: `sam deploy` asks for one.
    assert!(t["Parameters"]["CertificateArn"]["Default"].is_badvalue());
    assert!(!api["AccessLogSetting"]["Format"].is_badvalue());
    let settings = api["MethodSettings"].as_vec().expect("method settings");
    assert_eq!(settings[0]["ResourcePath"].as_str(), Some("/*"));
    assert_eq!(settings[1]["ResourcePath"].as_str(), Some("/~1things"));
    assert_eq!(settings[1]["HttpMethod"].as_str(), Some("POST"));
    assert_eq!(number(&settings[1]["ThrottlingRateLimit"]), Some(1.5));
    assert_eq!(settings[1]["ThrottlingBurstLimit"].as_i64(), Some(3));
    assert_eq!(strings(&api["Domain"]["BasePath"]), ["things"]);
    // Browsers send preflights without credentials: those routes check none.
    let events = &resources["ApiFunction"]["Properties"]["Events"];
    for name in ["CorsPreflightRoot", "CorsPreflight"] {
        let event = &events[name]["Properties"];
        assert_eq!(event["Method"].as_str(), Some("OPTIONS"), "{name}");
        assert_eq!(event["Auth"]["Authorizer"].as_str(), Some("NONE"), "{name}");
    }
    // The function answers them, from the same rules.
    let routes = file(&plan("rest"), "src/generated/routes.rs");
    assert!(routes.contains("origins: &[\"*\"]"), "{routes}");
    assert!(routes.contains("http::Cors::answer"), "{routes}");
}

#[test]
fn samconfig_has_dev_and_prod_stacks() {
    let text = file(&plan("http"), "samconfig.toml");
    let config: toml_edit::DocumentMut = text.parse().expect("TOML");
    let stack = |env: &str| config[env]["global"]["parameters"]["stack_name"].as_str();
    assert_eq!(stack("default"), Some("edge-http"));
    assert_eq!(stack("dev"), Some("edge-http-dev"));
    assert_eq!(stack("prod"), Some("edge-http-prod"));
    let overrides = |env: &str| {
        config[env]["deploy"]["parameters"]["parameter_overrides"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(overrides("dev").contains("LogRetentionDays=7"));
    assert!(overrides("prod").contains("LogRetentionDays=90"));
}

#[test]
fn each_operation_gets_a_function_with_only_its_own_access() {
    let generated = plan("functions");
    let t = template("functions");
    let resources = &t["Resources"];
    assert!(resources["ApiFunction"].is_badvalue());
    // (function, binary, its route, the DynamoDB actions it may use, what it may use them on)
    type Expected<'a> = (&'a str, &'a str, &'a str, &'a [&'a str], &'a [&'a str]);
    let expected: [Expected; 3] = [
        (
            "CreateThingFunction",
            "create-thing",
            "/things",
            &["dynamodb:PutItem"],
            &[],
        ),
        (
            "GetThingFunction",
            "get-thing",
            "/things/{id}",
            &["dynamodb:GetItem"],
            &[],
        ),
        (
            "ListThingsOfKindFunction",
            "list-things-of-kind",
            "/kinds/{kind}/things",
            &["dynamodb:Query"],
            &["/index/GSI1"],
        ),
    ];
    for (function, binary, path, actions, indexes) in expected {
        let f = &resources[function];
        assert_eq!(
            f["Metadata"]["BuildProperties"]["Binary"].as_str(),
            Some(binary),
            "{function}"
        );
        let events = f["Properties"]["Events"].as_hash().expect("events");
        let paths: Vec<&str> = events
            .values()
            .filter_map(|e| e["Properties"]["Path"].as_str())
            .collect();
        assert_eq!(paths, [path], "{function} serves only its own route");
        let statements = f["Properties"]["Policies"][0]["Statement"]
            .as_vec()
            .expect("statements");
        assert_eq!(statements.len(), 1, "{function}");
        assert_eq!(strings(&statements[0]["Action"]), actions, "{function}");
        let on = format!("{:?}", statements[0]["Resource"]);
        for index in indexes {
            assert!(on.contains(index), "{function}: {on}");
        }
        if indexes.is_empty() {
            assert!(!on.contains("/index/"), "{function}: {on}");
        }
        // Its own logs and alarms.
        assert!(!resources[format!("{function}Logs").as_str()].is_badvalue());
        assert!(!resources[format!("{function}ErrorsAlarm").as_str()].is_badvalue());
        // Its binary serves its operations only.
        let source = file(&generated, &format!("src/bin/{binary}.rs"));
        assert!(
            source.contains("router_serving(service, operations)"),
            "{source}"
        );
    }
    let bin = file(&generated, "src/bin/get-thing.rs");
    assert!(bin.contains(r#"&["getThing"]"#), "{bin}");
}

#[test]
fn functions_per_tag_group_operations_by_their_first_tag() {
    let generated = plan("split");
    let names: Vec<&str> = generated
        .api
        .functions
        .iter()
        .map(|f| f.resource.as_str())
        .collect();
    assert_eq!(names, ["OpsFunction", "GreetingsFunction"]);
    let greetings = file(&generated, "src/bin/greetings.rs");
    assert!(
        greetings.contains(r#"&["greet", "farewell"]"#),
        "{greetings}"
    );
    template("split");
}
