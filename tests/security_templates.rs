//! What `template.yaml` asks API Gateway to check, for each kind of security
//! scheme: the specs in tests/specs/security/ are planned (nothing is built),
//! their templates read back, and, when `.venv` has them, passed through
//! cfn-lint and `sam validate --lint`.

#[path = "common/mod.rs"]
mod common;

use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

fn template(stem: &str) -> Yaml {
    let spec = common::repo().join(format!("tests/specs/security/{stem}.yaml"));
    let generated =
        apigen::plan(&spec, &apigen::Options::default()).unwrap_or_else(|e| panic!("{stem}: {e}"));
    let text = &generated
        .plan
        .get("template.yaml")
        .expect("a template")
        .contents;
    lint(text);
    YamlLoader::load_from_str(text)
        .expect("YAML")
        .pop()
        .expect("one document")
}

/// Both linters on the template's text.
fn lint(text: &str) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("template.yaml"), text).expect("written");
    common::lint_template(dir.path());
}

fn event<'y>(t: &'y Yaml, name: &str) -> &'y Yaml {
    let e = &t["Resources"]["ApiFunction"]["Properties"]["Events"][name]["Properties"];
    assert!(!e.is_badvalue(), "no event {name}");
    e
}

fn strings(y: &Yaml) -> Vec<&str> {
    y.as_vec()
        .map(|v| v.iter().filter_map(Yaml::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn http_api_authorizers() {
    let t = template("gateway-http");
    let auth = &t["Resources"]["HttpApi"]["Properties"]["Auth"];
    assert_eq!(auth["EnableIamAuthorizer"].as_bool(), Some(true));
    assert_eq!(auth["DefaultAuthorizer"].as_str(), Some("Users"));
    let users = &auth["Authorizers"]["Users"];
    assert_eq!(
        users["IdentitySource"].as_str(),
        Some("$request.header.Authorization")
    );
    // Issuer and audience are parameters, their defaults the spec's.
    let parameters = &t["Parameters"];
    assert_eq!(parameters["UsersIssuer"]["Type"].as_str(), Some("String"));
    assert_eq!(
        parameters["UsersIssuer"]["Default"].as_str(),
        Some("https://login.example.com/")
    );
    assert_eq!(
        parameters["UsersAudience"]["Type"].as_str(),
        Some("CommaDelimitedList")
    );
    assert_eq!(
        parameters["UsersAudience"]["Default"].as_str(),
        Some("things-api,things-console")
    );
    let gate = &auth["Authorizers"]["Gate"];
    assert_eq!(gate["EnableSimpleResponses"].as_bool(), Some(true));
    assert_eq!(
        gate["EnableFunctionDefaultPermissions"].as_bool(),
        Some(true)
    );
    assert_eq!(gate["AuthorizerPayloadFormatVersion"].as_str(), Some("2.0"));
    assert_eq!(strings(&gate["Identity"]["Headers"]), ["x-partner-token"]);
    assert_eq!(gate["Identity"]["ReauthorizeEvery"].as_i64(), Some(60));

    let function = &t["Resources"]["GateAuthorizerFunction"];
    assert_eq!(
        function["Metadata"]["BuildProperties"]["Binary"].as_str(),
        Some("authorizer")
    );
    assert_eq!(
        function["Properties"]["Environment"]["Variables"]["APIGEN_AUTHORIZER_SCHEME"].as_str(),
        Some("gate")
    );
    assert_eq!(function["Properties"]["MemorySize"].as_i64(), Some(128));
    assert_eq!(
        t["Resources"]["ApiFunction"]["Metadata"]["BuildProperties"]["Binary"].as_str(),
        Some("gateway-http")
    );

    assert_eq!(
        event(&t, "Health")["Auth"]["Authorizer"].as_str(),
        Some("NONE")
    );
    // Either scope lets the token through API Gateway; the function checks
    // each alternative's scopes in full.
    let list = &event(&t, "ListThings")["Auth"];
    assert_eq!(list["Authorizer"].as_str(), Some("Users"));
    assert_eq!(
        strings(&list["AuthorizationScopes"]),
        ["things/read", "things/admin"]
    );
    let create = &event(&t, "CreateThing")["Auth"];
    assert_eq!(create["Authorizer"].as_str(), Some("Users"));
    assert!(create["AuthorizationScopes"].is_badvalue());
    assert_eq!(
        event(&t, "PartnerThings")["Auth"]["Authorizer"].as_str(),
        Some("Gate")
    );
    assert_eq!(
        event(&t, "InternalThings")["Auth"]["Authorizer"].as_str(),
        Some("AWS_IAM")
    );
    // The function trusts API Gateway's claims under Lambda: no issuer for it.
    let variables = &t["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"];
    assert!(variables["APIGEN_JWT_ISSUER"].is_badvalue());
}

#[test]
fn rest_api_authorizers_and_keys() {
    let t = template("gateway-rest");
    let auth = &t["Resources"]["RestApi"]["Properties"]["Auth"];
    let users = &auth["Authorizers"]["Users"];
    assert!(users["UserPoolArn"]
        .as_str()
        .is_some_and(|arn| arn
            .contains(":cognito-idp:eu-west-1:${AWS::AccountId}:userpool/${UsersUserPoolId}")));
    assert_eq!(
        t["Parameters"]["UsersUserPoolId"]["Default"].as_str(),
        Some("eu-west-1_AbC123")
    );
    let gate = &auth["Authorizers"]["Gate"];
    assert_eq!(gate["FunctionPayloadType"].as_str(), Some("REQUEST"));
    assert_eq!(strings(&gate["Identity"]["QueryStrings"]), ["token"]);
    assert_eq!(gate["Identity"]["ReauthorizeEvery"].as_i64(), Some(60));

    let plan = &auth["UsagePlan"];
    assert_eq!(plan["CreateUsagePlan"].as_str(), Some("PER_API"));
    assert_eq!(plan["Throttle"]["BurstLimit"].as_i64(), Some(10));
    assert_eq!(plan["Quota"]["Limit"].as_i64(), Some(1000));
    assert_eq!(plan["Quota"]["Period"].as_str(), Some("DAY"));
    assert!(!t["Outputs"]["ApiKeyId"].is_badvalue());

    let create = &event(&t, "CreateThing")["Auth"];
    assert_eq!(create["Authorizer"].as_str(), Some("Users"));
    assert_eq!(create["ApiKeyRequired"].as_bool(), Some(true));
    assert_eq!(
        strings(&event(&t, "ListThings")["Auth"]["AuthorizationScopes"]),
        ["things/read", "things/admin"]
    );
    assert!(event(&t, "ListThings")["Auth"]["ApiKeyRequired"].is_badvalue());
    assert_eq!(
        event(&t, "InternalThings")["Auth"]["Authorizer"].as_str(),
        Some("AWS_IAM")
    );
}

#[test]
fn mutual_tls_needs_the_custom_domain() {
    for (stem, api) in [("mutual-tls", "HttpApi")] {
        let t = template(stem);
        let properties = &t["Resources"][api]["Properties"];
        assert_eq!(
            properties["DisableExecuteApiEndpoint"].as_bool(),
            Some(true),
            "{stem}"
        );
        let domain = &properties["Domain"];
        assert!(
            !domain["MutualTlsAuthentication"]["TruststoreUri"].is_badvalue(),
            "{stem}"
        );
        for name in [
            "DomainName",
            "CertificateArn",
            "TruststoreUri",
            "TruststoreVersion",
        ] {
            assert!(!t["Parameters"][name].is_badvalue(), "{stem}: {name}");
        }
        assert!(!t["Conditions"]["HasTruststoreVersion"].is_badvalue());
    }
}

#[test]
fn public_apis_are_unchanged() {
    let spec = common::repo().join("specs/petstore.yaml");
    assert!(Path::new(&spec).exists());
    let generated = apigen::plan(&spec, &apigen::Options::default()).expect("valid");
    let text = &generated
        .plan
        .get("template.yaml")
        .expect("a template")
        .contents;
    // Its parameters are the stage's and the operations' (log level, limits), none a
    // credential's.
    for word in [
        "Auth:",
        "Issuer:",
        "Audience:",
        "UserPoolId:",
        "BuildProperties",
        "Authorizer",
    ] {
        assert!(!text.contains(word), "petstore's template has {word}");
    }
}
