//! The Argo output against a trimmed copy of the published CRD schemas
//! (`tests/data/argo-crd-trimmed.json`: the `openAPIV3Schema` of argo-rollouts'
//! `manifests/crds/rollout-crd.yaml` and `analysis-template-crd.yaml`, v1alpha1, reduced to the
//! fields lockstep emits, with `additionalProperties: false` added so a misspelt field fails).

use lockstep_rollout::Policy;
use lockstep_rollout::argo::{Options, emit};
use serde_json::Value;

/// A structural JSON-Schema check: type, required, properties, items, anyOf.
fn validate(schema: &Value, value: &Value, path: &str, problems: &mut Vec<String>) {
    if let Some(any) = schema["anyOf"].as_array() {
        let ok = any.iter().any(|s| {
            let mut p = Vec::new();
            validate(s, value, path, &mut p);
            p.is_empty()
        });
        if !ok {
            problems.push(format!("{path}: matches no anyOf branch: {value}"));
        }
        return;
    }
    let ty = schema["type"].as_str();
    let matches = match ty {
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        _ => true,
    };
    if !matches {
        problems.push(format!("{path}: expected {ty:?}, found {value}"));
        return;
    }
    if let (Some(obj), Some(props)) = (value.as_object(), schema["properties"].as_object()) {
        for req in schema["required"].as_array().into_iter().flatten() {
            let req = req.as_str().unwrap_or_default();
            if !obj.contains_key(req) {
                problems.push(format!("{path}: missing required {req}"));
            }
        }
        for (key, v) in obj {
            match props.get(key) {
                Some(s) => validate(s, v, &format!("{path}.{key}"), problems),
                None if schema["additionalProperties"] == Value::Bool(false) => {
                    problems.push(format!("{path}: unknown field {key}"));
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(item_schema)) = (value.as_array(), schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            validate(item_schema, v, &format!("{path}[{i}]"), problems);
        }
    }
}

fn schemas() -> Value {
    serde_json::from_str(include_str!("../data/argo-crd-trimmed.json")).unwrap()
}

fn parse(yaml: &str) -> Value {
    serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("not YAML: {e}\n{yaml}"))
}

fn problems(kind: &str, doc: &Value) -> Vec<String> {
    let mut p = Vec::new();
    validate(&schemas()[kind], doc, kind, &mut p);
    p
}

#[test]
fn the_validator_catches_what_it_should() {
    let bad = serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "spec": {"strategy": {"canary": {"steps": [{"setWeight": "ten"}, {"setWieght": 5}]}}}
    });
    let p = problems("Rollout", &bad);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(p[0].contains("steps[0].setWeight"), "{p:?}");
    assert!(p[1].contains("unknown field setWieght"), "{p:?}");
    let p = problems(
        "AnalysisTemplate",
        &serde_json::json!({"spec": {"metrics": [{"name": "x"}]}}),
    );
    assert!(
        p.iter().any(|x| x.contains("missing required provider")),
        "{p:?}"
    );
}

#[test]
fn emitted_documents_fit_the_crds_and_carry_the_policy() {
    let policy = Policy::new(vec![1, 10, 50, 100])
        .and_then(|p| p.min_samples(200))
        .and_then(|p| p.max_failure_rate(0.02))
        .unwrap()
        .max_latency_ms(Some(800));
    let m = emit(&policy, &Options::new("@acme/agent-cli", "2.0.0"));
    let stream = m.to_yaml();
    assert_eq!(stream.matches("\n---\n").count(), 1);

    let rollout = parse(&m.rollout);
    assert_eq!(problems("Rollout", &rollout), Vec::<String>::new());
    assert_eq!(rollout["kind"], "Rollout");
    assert_eq!(rollout["metadata"]["name"], "acme-agent-cli");
    let steps = rollout["spec"]["strategy"]["canary"]["steps"]
        .as_array()
        .unwrap();
    let weights: Vec<i64> = steps
        .iter()
        .filter_map(|s| s["setWeight"].as_i64())
        .collect();
    assert_eq!(weights, [1, 10, 50, 100]);
    assert_eq!(steps.len(), 12, "setWeight, pause, analysis per stage");

    let template = parse(&m.analysis_template);
    assert_eq!(
        problems("AnalysisTemplate", &template),
        Vec::<String>::new()
    );
    let name = template["metadata"]["name"].as_str().unwrap();
    for s in steps.iter().filter(|s| s.get("analysis").is_some()) {
        assert_eq!(s["analysis"]["templates"][0]["templateName"], name);
        assert_eq!(s["analysis"]["args"][0]["value"], "2.0.0");
    }
    let metrics = template["spec"]["metrics"].as_array().unwrap();
    let by_name = |n: &str| metrics.iter().find(|m| m["name"] == n).unwrap();
    assert_eq!(
        by_name("failure-rate-lower-bound")["failureCondition"],
        "result[0] > 0.02"
    );
    assert_eq!(
        by_name("failure-rate-upper-bound")["successCondition"],
        "result[0] <= 0.02"
    );
    assert!(
        by_name("failure-rate-upper-bound")
            .get("failureCondition")
            .is_none()
    );
    assert_eq!(by_name("samples")["successCondition"], "result[0] >= 200");
    let q = by_name("failure-rate-lower-bound")["provider"]["prometheus"]["query"]
        .as_str()
        .unwrap();
    assert!(q.contains("component=\"@acme/agent-cli\""), "{q}");
    assert!(
        q.contains("le=\"0.8\""),
        "latency limit as a histogram bucket: {q}"
    );
    assert_eq!(q.matches('(').count(), q.matches(')').count(), "{q}");
}
