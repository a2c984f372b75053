//! Exports (`render::export`): schema validity, Threat Dragon layout, determinism, hostile text.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use threat_analyzer::analysis::Analysis;
use threat_analyzer::file_id::FileId;
use threat_analyzer::model::{FileFacts, ProjectIndex};
use threat_analyzer::render::export::{
    self, ExportOptions, Model, json, threat_composer, threat_dragon, threatspec,
};
use threat_analyzer::syntax::Language;
use threat_analyzer::walk::{WalkOptions, scan_from};

#[path = "support/schemas.rs"]
mod schemas;
use schemas::{assert_invalid, assert_valid};

fn webshop() -> ProjectIndex {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/webshop");
    scan_from(&dir, std::slice::from_ref(&dir), &WalkOptions::default()).expect("webshop scans").index
}

fn index_of(files: &[(&str, &str)]) -> ProjectIndex {
    let mut index = ProjectIndex::new();
    for (path, text) in files {
        let facts = FileFacts::new(FileId::relative(*path), Language::Python, Arc::from(*text));
        index.set_file(Arc::new(facts));
    }
    index
}

#[test]
fn validation_rejects_bad_instances() {
    let mut tm = serde_json::json!({"mitigations": [], "exposures": [], "acceptances": [], "transfers": [],
        "connections": [], "reviews": [], "tests": [], "run_id": "x"});
    assert_valid("threatspec-0.5-threatmodel.schema.json", &tm);
    tm["exposures"] = serde_json::json!([{"threat": "#Bad-Id", "component": "#a", "details": "",
        "source": {"annotation": "", "code": "", "filename": "", "line": 1}}]);
    assert_invalid("threatspec-0.5-threatmodel.schema.json", &tm);
    assert_invalid("threat-composer-v1.schema.json", &serde_json::json!({"schema": 1, "bogus": true}));
}

struct Exports {
    threatspec: Vec<(&'static str, Value)>,
    dragon: Value,
    composer: Value,
    json: Value,
}

fn exports(index: &ProjectIndex) -> Exports {
    let analysis = Analysis::new(index);
    let model = Model::new(index, &analysis);
    let options = ExportOptions { title: "webshop".into() };
    Exports {
        threatspec: threatspec::render(&model),
        dragon: threat_dragon::render(&model, &options),
        composer: threat_composer::render(&model, &options),
        json: json::render(&model),
    }
}

fn file<'a>(files: &'a [(&'static str, Value)], name: &str) -> &'a Value {
    &files.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("{name} exported")).1
}

#[test]
fn webshop_threatspec_is_valid() {
    let e = exports(&webshop());
    let names: Vec<&str> = e.threatspec.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["components.json", "controls.json", "threatmodel.json", "threats.json"]);
    assert_valid("threatspec-0.5-threatmodel.schema.json", file(&e.threatspec, "threatmodel.json"));
    assert_valid("threatspec-0.5-threats.schema.json", file(&e.threatspec, "threats.json"));
    assert_valid("threatspec-0.5-controls.schema.json", file(&e.threatspec, "controls.json"));
    assert_valid("threatspec-0.5-components.schema.json", file(&e.threatspec, "components.json"));
    let tm = file(&e.threatspec, "threatmodel.json");
    assert!(!tm["exposures"].as_array().unwrap().is_empty());
    assert!(!tm["mitigations"].as_array().unwrap().is_empty());
    assert!(!tm["connections"].as_array().unwrap().is_empty());
    let exposure = &tm["exposures"][0];
    let source = &exposure["source"];
    assert!(source["annotation"].as_str().unwrap().starts_with('@'), "{source}");
    assert!(
        source["code"]
            .as_str()
            .unwrap()
            .contains(source["annotation"].as_str().unwrap().lines().next().unwrap())
    );
    assert!(source["line"].as_u64().unwrap() >= 1);
    // Every id a relation uses is defined in the entity files (except the placeholder).
    let threats = file(&e.threatspec, "threats.json")["threats"].as_object().unwrap().clone();
    for x in tm["exposures"].as_array().unwrap() {
        assert!(threats.contains_key(x["threat"].as_str().unwrap()), "{x}");
    }
}

#[test]
fn webshop_threat_dragon_is_valid_and_laid_out() {
    let e = exports(&webshop());
    assert_valid("threat-dragon-v2.schema.json", &e.dragon);
    if let Some(example) = schemas::load("threat-dragon-v2.minimal-example.json") {
        assert_valid("threat-dragon-v2.schema.json", &example);
    }
    let cells = e.dragon["detail"]["diagrams"][0]["cells"].as_array().unwrap();
    let rect = |c: &Value| {
        let (x, y) = (c["position"]["x"].as_f64().unwrap(), c["position"]["y"].as_f64().unwrap());
        (x, y, x + c["size"]["width"].as_f64().unwrap(), y + c["size"]["height"].as_f64().unwrap())
    };
    let nodes: Vec<&Value> = cells
        .iter()
        .filter(|c| matches!(c["data"]["type"].as_str(), Some("tm.Actor" | "tm.Process" | "tm.Store")))
        .collect();
    assert!(nodes.len() >= 5, "{}", nodes.len());
    for (i, a) in nodes.iter().enumerate() {
        for b in &nodes[i + 1..] {
            let (a1, b1) = (rect(a), rect(b));
            let overlap = a1.0 < b1.2 && b1.0 < a1.2 && a1.1 < b1.3 && b1.1 < a1.3;
            assert!(!overlap, "{} overlaps {}", a["data"]["name"], b["data"]["name"]);
        }
    }
    let ids: BTreeSet<&str> = cells.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), cells.len(), "cell ids are unique");
    let node_ids: BTreeSet<&str> = nodes.iter().map(|c| c["id"].as_str().unwrap()).collect();
    let flows: Vec<&Value> = cells.iter().filter(|c| c["data"]["type"] == "tm.Flow").collect();
    assert!(!flows.is_empty());
    for f in &flows {
        assert_eq!(f["shape"], "flow");
        assert!(node_ids.contains(f["source"]["cell"].as_str().unwrap()), "{f}");
        assert!(node_ids.contains(f["target"]["cell"].as_str().unwrap()), "{f}");
    }
    // Boxes hold their members: every node inside a box is a member and vice versa is checked
    // against the JSON export's boundary membership by name.
    let boxes: Vec<&Value> = cells.iter().filter(|c| c["data"]["type"] == "tm.BoundaryBox").collect();
    let json_boundaries = e.json["boundaries"].as_array().unwrap();
    assert_eq!(boxes.len(), json_boundaries.len());
    assert!(!boxes.is_empty());
    for b in &boxes {
        let r = rect(b);
        let inside: usize = nodes
            .iter()
            .filter(|n| {
                let n = rect(n);
                n.0 >= r.0 && n.1 >= r.1 && n.2 <= r.2 && n.3 <= r.3
            })
            .count();
        let title = b["data"]["name"].as_str().unwrap();
        let members = json_boundaries.iter().find(|j| j["title"] == title).unwrap()["members"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(inside, members, "box {title}");
        assert!(members > 0);
        // No node straddles the box's edge.
        for n in &nodes {
            let n = rect(n);
            let overlaps = n.0 < r.2 && r.0 < n.2 && n.1 < r.3 && r.1 < n.3;
            let contained = n.0 >= r.0 && n.1 >= r.1 && n.2 <= r.2 && n.3 <= r.3;
            assert!(!overlaps || contained, "a node straddles {title}");
        }
    }
    // Threats: under data.threats, STRIDE-typed, statuses from coverage, no nulls.
    let statuses: BTreeSet<&str> = nodes
        .iter()
        .flat_map(|n| n["data"]["threats"].as_array().unwrap())
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert!(statuses.contains("Mitigated"), "{statuses:?}");
    assert!(statuses.iter().all(|s| ["Open", "Mitigated", "Accepted", "Transferred"].contains(s)));
    let types = [
        "Spoofing",
        "Tampering",
        "Repudiation",
        "Information disclosure",
        "Denial of service",
        "Elevation of privilege",
    ];
    for n in &nodes {
        let threats = n["data"]["threats"].as_array().unwrap();
        let open = threats.iter().any(|t| t["status"] == "Open");
        assert_eq!(n["data"]["hasOpenThreats"], open);
        for t in threats {
            // Empty: no category chosen (the threat is unclassified).
            let ty = t["type"].as_str().unwrap();
            assert!(ty.is_empty() || types.contains(&ty), "{t}");
            assert!(["Low", "Medium", "High", "Critical", "TBD"].contains(&t["severity"].as_str().unwrap()));
            assert_eq!(t["modelType"], "STRIDE");
        }
    }
    assert!(!export::to_pretty(e.dragon.clone()).contains("null"), "nullable properties are left out");
}

#[test]
fn webshop_threat_composer_is_valid() {
    let e = exports(&webshop());
    assert_valid("threat-composer-v1.schema.json", &e.composer);
    let threats = e.composer["threats"].as_array().unwrap();
    assert!(!threats.is_empty());
    for t in threats {
        let s = t["statement"].as_str().unwrap();
        assert!(s.starts_with("A ") || s.starts_with("An "), "{s}");
        assert!(s.contains(" can ") && s.contains("negatively impacting"), "{s}");
    }
    assert!(!e.composer["mitigations"].as_array().unwrap().is_empty());
    assert!(!e.composer["mitigationLinks"].as_array().unwrap().is_empty());
    assert!(!e.composer["assumptions"].as_array().unwrap().is_empty(), "webshop has @assumes");
}

#[test]
fn webshop_json_model_shape() {
    let e = exports(&webshop());
    let j = &e.json;
    assert_eq!(j["version"], 1);
    for k in ["assets", "threats", "controls", "actors", "boundaries", "relations"] {
        assert!(j[k].is_array(), "{k}");
    }
    assert!(j["diagnostics"]["errors"].is_u64());
    let rel = &j["relations"].as_array().unwrap()[0];
    assert!(
        rel["kind"].is_string() && rel["args"].is_array() && rel["file"].is_string() && rel["line"].is_u64()
    );
    let threat = j["threats"].as_array().unwrap().iter().find(|t| t["key"] == "sqli").expect("sqli threat");
    assert_eq!(threat["stride"], serde_json::json!(["T", "I"]), "cwe:CWE-89 maps to T and I");
}

#[test]
fn exports_are_deterministic() {
    let a = exports(&webshop());
    let b = exports(&webshop());
    let bytes = |e: &Exports| {
        let mut out = String::new();
        for (_, v) in &e.threatspec {
            out.push_str(&export::to_pretty(v.clone()));
        }
        for v in [&e.dragon, &e.composer, &e.json] {
            out.push_str(&export::to_pretty(v.clone()));
        }
        out
    };
    assert_eq!(bytes(&a), bytes(&b));
    // File order does not matter either.
    let files = [
        ("b.py", "# @threat Evil (#evil) [high] cwe:CWE-79\n# @exposes Shop.Api to #evil\n"),
        (
            "a.py",
            "# @flows Customer -> Shop.Api via HTTPS\n# @mitigates Shop.Api against #evil using #esc\n# @control Escaping (#esc)\n",
        ),
    ];
    let forward = exports(&index_of(&files));
    let backward = exports(&index_of(&[files[1], files[0]]));
    assert_eq!(bytes(&forward), bytes(&backward));
}

#[test]
fn hostile_names_survive_as_data() {
    let hostile = r#"# @threat Evil "</script><img src=x onerror=alert(1)> \ ' }{ (#evil) [critical] -- "desc \"quoted\" <b>"
# @exposes Shop."Api]" to #evil -- "line1 <script>"
# @flows Customer -> Shop."Api]" via "}]),
# @assumes Shop."Api]" -- "nothing \u0000 here"
"#;
    let index = index_of(&[("x.py", hostile)]);
    let e = exports(&index);
    assert_valid("threat-dragon-v2.schema.json", &e.dragon);
    assert_valid("threat-composer-v1.schema.json", &e.composer);
    assert_valid("threatspec-0.5-threatmodel.schema.json", file(&e.threatspec, "threatmodel.json"));
    assert_valid("threatspec-0.5-threats.schema.json", file(&e.threatspec, "threats.json"));
    assert_valid("threatspec-0.5-components.schema.json", file(&e.threatspec, "components.json"));
    for v in [&e.dragon, &e.composer, &e.json, file(&e.threatspec, "threatmodel.json")] {
        let text = export::to_pretty(v.clone());
        let back: Value = serde_json::from_str(&text).expect("output parses back");
        assert_eq!(&back, v);
    }
    let text = export::to_pretty(e.json.clone());
    assert!(text.contains("</script>"), "names are kept as data");
    // Threat Dragon threat titles carry the name verbatim.
    let cells = e.dragon["detail"]["diagrams"][0]["cells"].as_array().unwrap();
    let titles: Vec<&str> = cells
        .iter()
        .flat_map(|c| c["data"]["threats"].as_array().into_iter().flatten())
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert!(titles.iter().any(|t| t.contains("<img src=x")), "{titles:?}");
}

#[test]
fn statuses_follow_coverage() {
    let index = index_of(&[(
        "a.py",
        "# @threat Open One (#open1)\n# @threat Fixed (#fixed) stride:I\n# @threat Taken (#taken)\n\
         # @exposes Shop.Api to #open1\n# @exposes Shop.Api to #fixed\n# @exposes Shop.Api to #taken\n\
         # @mitigates Shop.Api against #fixed\n# @accepts #taken on Shop.Api\n",
    )]);
    let e = exports(&index);
    let cells = e.dragon["detail"]["diagrams"][0]["cells"].as_array().unwrap();
    let api = cells.iter().find(|c| c["data"]["name"] == "Shop.Api").expect("api node");
    let by_title: Vec<(String, String, String)> = api["data"]["threats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["title"].as_str().unwrap().to_string(),
                t["status"].as_str().unwrap().to_string(),
                t["type"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(by_title.contains(&("Open One".into(), "Open".into(), "".into())), "{by_title:?}");
    assert!(by_title.contains(&("Fixed".into(), "Mitigated".into(), "Information disclosure".into())));
    assert!(by_title.contains(&("Taken".into(), "Accepted".into(), "".into())));
    assert_eq!(api["data"]["hasOpenThreats"], true);
    let statuses: Vec<&str> =
        e.composer["threats"].as_array().unwrap().iter().map(|t| t["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "threatIdentified").count(), 1, "{statuses:?}");
}

#[test]
fn stride_comes_from_evidence_and_unclassified_threats_export_without_one() {
    // Issue 14 §4: SSRF, brute force and timing are not Tampering; a threat with no `stride:`
    // and no mapped reference is unclassified in every export.
    let index = index_of(&[(
        "a.py",
        "# @threat SSRF (#ssrf) cwe:CWE-918
# @threat Brute Force (#brute) cwe:CWE-307
         # @threat Timing (#timing) cwe:CWE-208
# @threat Odd (#odd) cwe:CWE-99999
         # @exposes Shop.Api to #ssrf
# @exposes Shop.Api to #brute
         # @exposes Shop.Api to #timing
# @exposes Shop.Api to #odd
",
    )]);
    let e = exports(&index);
    let stride = |key: &str| {
        let t = e.json["threats"].as_array().unwrap().iter().find(|t| t["key"] == key).unwrap().clone();
        t["stride"].clone()
    };
    assert_eq!(stride("ssrf"), serde_json::json!(["S", "I"]));
    assert_eq!(stride("brute"), serde_json::json!(["S"]));
    assert_eq!(stride("timing"), serde_json::json!(["I"]));
    assert_eq!(stride("odd"), serde_json::json!([]));
    let cells = e.dragon["detail"]["diagrams"][0]["cells"].as_array().unwrap();
    let api = cells.iter().find(|c| c["data"]["name"] == "Shop.Api").expect("api node");
    let type_of = |title: &str| {
        let threats = api["data"]["threats"].as_array().unwrap();
        threats.iter().find(|t| t["title"] == title).unwrap()["type"].as_str().unwrap().to_string()
    };
    assert_eq!(type_of("SSRF"), "Spoofing");
    assert_eq!(type_of("Timing"), "Information disclosure");
    assert_eq!(type_of("Odd"), "");
    let composer_stride = |name: &str| {
        let threats = e.composer["threats"].as_array().unwrap();
        let t = threats.iter().find(|t| t["threatAction"].as_str().unwrap_or("").contains(name)).unwrap();
        t["metadata"].as_array().unwrap().iter().find(|m| m["key"] == "STRIDE").map(|m| m["value"].clone())
    };
    assert_eq!(composer_stride("SSRF"), Some(serde_json::json!(["S", "I"])));
    assert_eq!(composer_stride("Odd"), None, "no guessed category");
    schemas::assert_valid("threat-composer-v1.schema.json", &e.composer);
    schemas::assert_valid("threat-dragon-v2.schema.json", &e.dragon);
}

#[test]
fn threat_dragon_severity_is_the_exposures_own() {
    // Issue 14 §2: a `[low]` exposure of a critical threat is Low on its node; an exposure
    // stating nothing inherits Critical.
    let index = index_of(&[(
        "a.py",
        "# @threat SQL Injection (#sqli) [critical]\n\
         # @exposes Shop.Admin to #sqli [low]\n# @exposes Shop.Api to #sqli\n",
    )]);
    let e = exports(&index);
    let cells = e.dragon["detail"]["diagrams"][0]["cells"].as_array().unwrap();
    let severity_on = |node: &str| {
        let cell = cells.iter().find(|c| c["data"]["name"] == node).unwrap_or_else(|| panic!("no {node}"));
        cell["data"]["threats"][0]["severity"].as_str().unwrap().to_string()
    };
    assert_eq!(severity_on("Shop.Admin"), "Low");
    assert_eq!(severity_on("Shop.Api"), "Critical");
}

#[test]
fn threat_dragon_carries_the_highest_score_and_a_band_severity() {
    // Issue 19 §3: `score` is the node's highest likelihood × impact of the threat; a rated
    // threat without a written severity gets its band's; a severity-only one no score.
    let index = index_of(&[(
        "a.py",
        "# @threat SQL Injection (#sqli) risk:L2xI3\n# @threat Leak (#leak) [medium]\n\
         # @exposes Shop.Api to #sqli risk:L4xI5\n# @exposes Shop.Api to #sqli\n\
         # @exposes Shop.Web to #sqli\n# @exposes Shop.Web to #leak\n",
    )]);
    let e = exports(&index);
    assert_valid("threat-dragon-v2.schema.json", &e.dragon);
    let cells = e.dragon["detail"]["diagrams"][0]["cells"].as_array().unwrap();
    let threat_on = |node: &str, title: &str| {
        let cell = cells.iter().find(|c| c["data"]["name"] == node).unwrap_or_else(|| panic!("no {node}"));
        let threats = cell["data"]["threats"].as_array().unwrap();
        let t =
            threats.iter().find(|t| t["title"] == title).unwrap_or_else(|| panic!("no {title} on {node}"));
        (t["score"].as_str().unwrap().to_string(), t["severity"].as_str().unwrap().to_string())
    };
    assert_eq!(threat_on("Shop.Api", "SQL Injection"), ("20".into(), "Critical".into()));
    assert_eq!(threat_on("Shop.Web", "SQL Injection"), ("6".into(), "Medium".into()));
    assert_eq!(threat_on("Shop.Web", "Leak"), ("".into(), "Medium".into()));
}

/// The STRIDE worksheet stream as JSON values, one per YAML document.
fn worksheets(index: &ProjectIndex) -> (String, Vec<Value>) {
    let analysis = Analysis::new(index);
    let model = Model::new(index, &analysis);
    let text = export::stride_worksheet::render(&model, &threat_analyzer::model::risk::RiskPolicy::default());
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (text, docs.iter().map(yaml_to_json).collect())
}

fn yaml_to_json(y: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match y {
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(r) => panic!("no floats in a worksheet: {r}"),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Null => Value::Null,
        Yaml::Array(items) => Value::Array(items.iter().map(yaml_to_json).collect()),
        Yaml::Hash(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.as_str().expect("string keys").to_string(), yaml_to_json(v)))
                .collect(),
        ),
        other => panic!("unexpected YAML node {other:?}"),
    }
}

/// The worksheet schema of this repository (always present: never skipped).
fn worksheet_validator() -> jsonschema::Validator {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas/stride-worksheet.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

#[test]
fn stride_worksheets_follow_their_schema() {
    let validator = worksheet_validator();
    let index = index_of(&[(
        "a.py",
        "# @asset Shop.Api (#api)\n# @asset Shop.Db (#db)\n# @actor Customer (#customer)\n\
         # @boundary #api and #customer (#edge)\n\
         # @flows #customer -> #api via HTTPS\n# @flows #api -> #db via SQL\n\
         # @threat SQL injection (#sqli) risk:L3xI4 cwe:CWE-89 -- \"built queries\"\n\
         # @threat \"Key: value\\n- [x] & *alias !tag\" (#odd) [high]\n\
         # @control Prepared statements (#prep)\n\
         # @exposes #api to #sqli risk:L4xI5 owner:team-db due:2026-12-31 -- \"search endpoint\"\n\
         # @exposes #db to #sqli\n# @mitigates #db against #sqli using #prep\n\
         # @exposes #api to #odd\n",
    )]);
    let (text, docs) = worksheets(&index);
    assert!(text.starts_with("---\n"), "{text}");
    for d in &docs {
        let errors: Vec<String> =
            validator.iter_errors(d).map(|e| format!("{e} at {}", e.instance_path)).collect();
        assert!(errors.is_empty(), "{errors:#?}\n{d:#}");
    }
    let kinds: Vec<(&str, &str)> =
        docs.iter().map(|d| (d["worksheet"].as_str().unwrap(), d["element"].as_str().unwrap())).collect();
    assert_eq!(
        kinds,
        [("component", "Shop.Api"), ("component", "Shop.Db"), ("boundary-crossing", "Customer -> Shop.Api")]
    );
    let api = &docs[0]["threats"];
    assert_eq!(api[0]["threat"], "SQL injection");
    assert_eq!(
        (api[0]["likelihood"].as_i64(), api[0]["impact"].as_i64(), api[0]["risk_score"].as_i64()),
        (Some(4), Some(5), Some(20))
    );
    assert_eq!(api[0]["stride"], serde_json::json!(["Tampering", "Information disclosure"]));
    assert_eq!(api[0]["attack_vector"], "search endpoint");
    assert_eq!(api[0]["description"], "built queries");
    assert_eq!(api[0]["owner"], "team-db");
    assert_eq!(
        api[0]["recommended_mitigations"],
        serde_json::json!(["Prepared statements"]),
        "used elsewhere"
    );
    // Hostile text survives as a string, and no rating is invented for a severity.
    assert_eq!(api[1]["threat"], "Key: value\\n- [x] & *alias !tag");
    assert_eq!((api[1]["risk_score"].clone(), api[1]["band"].clone()), (Value::Null, Value::from("high")));
    let db = &docs[1]["threats"][0];
    assert_eq!(db["existing_controls"], serde_json::json!(["Prepared statements"]));
    assert_eq!(db["status"], "mitigated");
    assert_eq!(db["likelihood"], 3, "the threat's rating");
    // The crossing lists the flow-relevant risks of its ends (T, I or D): SQL injection on the API.
    let crossing = &docs[2];
    assert_eq!(crossing["mechanism"], "HTTPS");
    assert_eq!(crossing["threats"].as_array().unwrap().len(), 1, "{crossing:#}");
    // The schema rejects what the layout forbids.
    let mut bad = docs[0].clone();
    bad["threats"][0]["likelihood"] = Value::from(6);
    assert!(!validator.is_valid(&bad));
    let mut bad = docs[0].clone();
    bad["threats"][0]["impact"] = Value::Null;
    assert!(!validator.is_valid(&bad), "a likelihood without an impact");
    let webshop = worksheets(&webshop()).1;
    assert!(!webshop.is_empty());
    for d in &webshop {
        assert!(validator.is_valid(d), "{d:#}");
    }
}
