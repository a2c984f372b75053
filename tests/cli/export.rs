//! `threat-analyzer export`: default locations under `.threatmodel/`, `-o`, exit statuses.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_threat-analyzer");

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("app.py"),
        "# @threat SQL Injection (#sqli) [high] cwe:CWE-89\n\
         # @flows Customer -> App.Api via HTTPS\n\
         # @exposes App.Api to #sqli -- \"raw query\"\n\
         # @mitigates App.Api against #sqli using #params\n\
         # @control Parameterised queries (#params)\n",
    )
    .unwrap();
    dir
}

fn run(cwd: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN).args(args).current_dir(cwd).output().expect("binary runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid JSON")
}

#[test]
fn default_locations_under_dot_threatmodel() {
    let dir = project();
    for (format, file) in [
        ("json", ".threatmodel/json.json"),
        ("threat-dragon", ".threatmodel/threat-dragon.json"),
        ("threat-composer", ".threatmodel/threat-composer.json"),
    ] {
        let (code, stderr) = run(dir.path(), &["export", "--format", format]);
        assert_eq!(code, 0, "{format}: {stderr}");
        let v = read_json(&dir.path().join(file));
        assert!(v.is_object(), "{format}");
        assert!(stderr.contains("wrote"), "{stderr}");
    }
    let (code, stderr) = run(dir.path(), &["export", "--format", "threatspec"]);
    assert_eq!(code, 0, "{stderr}");
    for name in ["threatmodel.json", "threats.json", "controls.json", "components.json"] {
        read_json(&dir.path().join(".threatmodel/threatspec").join(name));
    }
    let tm = read_json(&dir.path().join(".threatmodel/threatspec/threatmodel.json"));
    assert_eq!(tm["exposures"][0]["threat"], "#sqli");
    assert_eq!(tm["exposures"][0]["component"], "#app_api");
    assert_eq!(tm["exposures"][0]["source"]["filename"], "app.py");
    assert_eq!(tm["exposures"][0]["source"]["line"], 3);
    // The export directory is not read back as source on the next run.
    let (code, _) = run(dir.path(), &["export", "--format", "json"]);
    assert_eq!(code, 0);
    let j = read_json(&dir.path().join(".threatmodel/json.json"));
    assert!(j["relations"].as_array().unwrap().iter().all(|r| r["file"] == "app.py"));
}

#[test]
fn path_argument_sets_the_project_root() {
    let outer = tempfile::tempdir().unwrap();
    let dir = project();
    let (code, stderr) =
        run(outer.path(), &["export", dir.path().to_str().unwrap(), "--format", "threat-dragon"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(dir.path().join(".threatmodel/threat-dragon.json").is_file());
    assert!(!outer.path().join(".threatmodel").exists());
}

#[test]
fn output_option_writes_where_asked() {
    let dir = project();
    let (code, stderr) =
        run(dir.path(), &["export", "--format", "threat-composer", "-o", "out/model.tc.json"]);
    assert_eq!(code, 0, "{stderr}");
    let v = read_json(&dir.path().join("out/model.tc.json"));
    assert_eq!(v["schema"], 1);
    let (code, stderr) = run(dir.path(), &["export", "--format", "threatspec", "-o", "ts"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(dir.path().join("ts/threatmodel.json").is_file());
    assert!(!dir.path().join(".threatmodel").exists());
    // Identical bytes on a second run.
    let first = std::fs::read(dir.path().join("out/model.tc.json")).unwrap();
    run(dir.path(), &["export", "--format", "threat-composer", "-o", "out/model.tc.json"]);
    assert_eq!(first, std::fs::read(dir.path().join("out/model.tc.json")).unwrap());
}

#[test]
fn errors_exit_2_with_a_message() {
    let dir = project();
    let (code, stderr) = run(dir.path(), &["export", "missing-dir", "--format", "json"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("missing-dir"), "{stderr}");
    let (code, _) = run(dir.path(), &["export", "--format", "pdf"]);
    assert_eq!(code, 2);
    let (code, _) = run(dir.path(), &["export"]);
    assert_eq!(code, 2, "--format is required");
    // Writing below a regular file fails.
    std::fs::write(dir.path().join("blocker"), "x").unwrap();
    let (code, stderr) = run(dir.path(), &["export", "--format", "json", "-o", "blocker/out.json"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot write") && stderr.contains("blocker"), "{stderr}");
}

/// Issue 19 §3: the risk register as CSV, at its default place, with formula-like cells
/// neutralised and RFC 4180 quoting.
#[test]
fn csv_risk_register() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("app.py"),
        "# @threat \"=cmd|' /C calc'!A0\" (#f) risk:L2xI2\n\
         # @threat \"SQL, \\\"quoted\\\"\" (#sqli) [high]\n\
         # @exposes App.Api to #f owner:-x risk:L5xI4\n\
         # @exposes App.Api to #sqli\n",
    )
    .unwrap();
    let (code, stderr) = run(dir.path(), &["export", "--format", "csv"]);
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(dir.path().join(".threatmodel/risk-register.csv")).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines.len(), 4, "header, two risks, and the final CR LF: {text:?}");
    assert_eq!(
        lines[0],
        "\"Id\",\"Threat\",\"Element\",\"STRIDE\",\"L\",\"I\",\"Score\",\"Band\",\"Status\",\"Owner\",\"Treatment due\",\"Where\""
    );
    assert_eq!(
        lines[1],
        "\"R1\",\"'=cmd|' /C calc'!A0\",\"App.Api\",\"–\",\"5\",\"4\",\"20\",\"critical\",\"open\",\"'-x\",\"\",\"app.py:3\""
    );
    assert!(
        lines[2].starts_with(
            "\"R2\",\"SQL, \"\"quoted\"\"\",\"App.Api\",\"–\",\"–\",\"–\",\"–\",\"high (severity)\",\"open\""
        ),
        "{}",
        lines[2]
    );
    assert_eq!(lines[3], "");
}
