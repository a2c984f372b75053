//! `threat-analyzer.showDfd` through the protocol: the preview is written to
//! `$XDG_CACHE_HOME/threat-analyzer/preview/` (never into the workspace), the answer names it,
//! and `window/showDocument` goes out only to a client that supports it.
//!
//! The server reads `XDG_CACHE_HOME` when the command runs, so this file holds ONE test that
//! sets it between phases, each phase on its own runtime that is shut down before the next
//! `set_var` (no other thread of this test binary reads the environment meanwhile).
#[path = "support/html.rs"]
mod html_support;
#[path = "support/lsp.rs"]
mod lsp_support;
use lsp_support::*;
use serde_json::{Value, json};
use std::fs;
use std::path::Path;

const FLOWS: &str = "# @flows Shop.Web -> Shop.Api via HTTPS\n# @flows Shop.Api -> Shop.Db via TLS\n\
                     # @component <img src=x onerror=alert(1)> (#evil)\n# @flows #evil -> Shop.Api via x\n";

fn set_cache_home(dir: &Path) {
    // SAFETY: see the module docs: no other thread reads the environment at this point.
    unsafe { std::env::set_var("XDG_CACHE_HOME", dir) };
}

fn phase<T>(f: impl std::future::Future<Output = T>) -> T {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let out = runtime.block_on(f);
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    out
}

/// Starts a client on `root`, waits for indexing, runs showDfd with `args`; returns the raw
/// response and whether a `window/showDocument` request came (with its params).
async fn show_dfd(root: &Path, capabilities: Value, args: Value) -> (Value, Option<Value>) {
    let (mut client, init) = TestClient::start(root, capabilities, Value::Null).await;
    let commands = init["capabilities"]["executeCommandProvider"]["commands"].as_array().unwrap().clone();
    assert!(commands.contains(&json!("threat-analyzer.showDfd")), "{commands:?}");
    client.wait_for(|m| m["method"] == "window/logMessage").await; // indexing done
    let response = client
        .request_raw(
            "workspace/executeCommand",
            json!({"command": "threat-analyzer.showDfd", "arguments": [args]}),
        )
        .await;
    // A later request's answer: anything the command sent has arrived by then.
    client.request("workspace/executeCommand", json!({"command": "threat-analyzer.status"})).await;
    let shown = if response["result"]["shown"] == true {
        Some(client.wait_for(|m| m["method"] == "window/showDocument").await["params"].clone())
    } else {
        client
            .notifications
            .iter()
            .find(|m| m["method"] == "window/showDocument")
            .map(|m| m["params"].clone())
    };
    (response, shown)
}

#[test]
fn show_dfd_writes_the_preview_outside_the_workspace() {
    let workspace = tempfile::tempdir().unwrap();
    fs::write(workspace.path().join("flows.py"), FLOWS).unwrap();
    let cache = tempfile::tempdir().unwrap();
    set_cache_home(cache.path());

    // A client without window/showDocument: the file is written, nothing is sent.
    let (response, sent) = phase(show_dfd(workspace.path(), json!({}), json!({})));
    let result = &response["result"];
    assert_eq!(result["shown"], false, "{response}");
    assert!(sent.is_none(), "showDocument sent to a client without support: {sent:?}");
    let path = Path::new(result["path"].as_str().unwrap()).to_path_buf();
    assert!(path.starts_with(cache.path().join("threat-analyzer/preview")), "{path:?}");
    assert!(!path.starts_with(workspace.path()));
    assert_eq!(result["uri"], file_uri(&path));
    let html = fs::read_to_string(&path).unwrap();
    html_support::assert_page_is_inert(&html);
    assert!(html.contains("<svg") && html.contains("Shop.Api"), "{html}");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;") && !html.contains("<img"), "escaped");
    let workspace_files: Vec<_> =
        fs::read_dir(workspace.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(workspace_files, ["flows.py"], "nothing written into the workspace");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert_eq!(mode(&path), 0o600);
    }

    // A client with window/showDocument support is asked to open it, externally; a scope
    // narrows the diagram.
    let caps = json!({"window": {"showDocument": {"support": true}}});
    let (response, sent) =
        phase(show_dfd(workspace.path(), caps.clone(), json!({"scope": {"component": "Shop.Db"}})));
    let result = &response["result"];
    assert_eq!(result["shown"], true, "{response}");
    let sent = sent.expect("window/showDocument sent");
    assert_eq!(sent["uri"], result["uri"]);
    assert_eq!(sent["external"], true);
    assert_eq!(result["path"].as_str().unwrap(), path.to_str().unwrap(), "one preview per workspace");
    let scoped = fs::read_to_string(&path).unwrap();
    assert!(scoped.contains("Component Shop.Db") && !scoped.contains("Shop.Web"), "{scoped}");

    // A cache directory inside the workspace is refused with a clear error; nothing is written.
    set_cache_home(&workspace.path().join(".cache"));
    let (response, sent) = phase(show_dfd(workspace.path(), caps.clone(), json!({})));
    let message = response["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("inside the workspace"), "{response}");
    assert!(sent.is_none());
    assert!(!workspace.path().join(".cache").exists());

    // A bad scope is an invalid-params error, not a panic.
    set_cache_home(cache.path());
    let (response, _) = phase(show_dfd(workspace.path(), json!({}), json!({"scope": {"layer": "x"}})));
    assert_eq!(response["error"]["code"], -32602, "{response}");
}
