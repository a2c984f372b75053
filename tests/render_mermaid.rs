//! The data-flow diagram model (`render::dfd`) and its Mermaid text (`render::mermaid`).
mod support;

use expect_test::expect;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use threat_analyzer::analysis::Analysis;
use threat_analyzer::file_id::FileId;
use threat_analyzer::model::FileFacts;
use threat_analyzer::model::ProjectIndex;
use threat_analyzer::render::dfd::{self, BoundaryGroup, Dfd, Edge, ElementKind, Node, Scope, ThreatStatus};
use threat_analyzer::render::mermaid;
use threat_analyzer::walk::{WalkOptions, scan_from};

fn webshop() -> ProjectIndex {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/webshop");
    scan_from(&dir, std::slice::from_ref(&dir), &WalkOptions::default()).expect("webshop scans").index
}

fn diagram(index: &ProjectIndex, scope: &Scope) -> Dfd {
    dfd::build(index, &Analysis::new(index), scope)
}

#[test]
fn webshop_diagram() {
    let index = webshop();
    let text = mermaid::render(&diagram(&index, &Scope::Project));
    expect![[r#"
        flowchart LR
          subgraph b_dmz["DMZ"]
            n_dmz__legacy_admin("Legacy Admin Panel<br/>✓ 1 mitigated")
          end
          subgraph b_internet["Internet"]
            n_internet__staff_browser["Staff Browser"]
          end
          subgraph bh_data_tier_bfde10aecdb5fb8c["Shop.Api #124; Shop.Db #40;#35;data-tier#41;"]
            n_shop__db[("Shop.Db<br/>✓ 1 mitigated<br/>data: pii")]
          end
          subgraph bh_internet_edge_fc597708b86b646e["Shop.Web #124; Shop.Api #40;#35;internet-edge#41;"]
            n_shop__api("Shop.Api<br/>✓ 4 mitigated<br/>data: secrets")
            n_shop__api__auth("Shop.Api.Auth<br/>✓ 2 mitigated · 1 accepted<br/>data: pii")
            n_shop__api__orders("Shop.Api.Orders<br/>⚠ 1 open · ✓ 1 mitigated<br/>⚠ Insecure Direct Object Reference #91;P1#93;<br/>data: pii, financial")
          end
          subgraph g_webshop["Webshop"]
            subgraph g_webshop__worker["Webshop:Worker"]
              n_webshop__worker("Webshop:Worker<br/>✓ 2 mitigated")
              n_webshop__worker__payments("Webshop:Worker:Payments<br/>✓ 1 mitigated<br/>data: financial")
            end
          end
          n_customer["Customer"]
          n_shop__psp("Shop.Psp")
          n_shop__queue[("Shop.Queue")]
          n_shop__web("Shop.Web")
          n_shop__web__checkout("Shop.Web.Checkout<br/>✓ 1 mitigated · 1 transferred")
          n_support_agent["Support Agent"]
          n_internet__staff_browser -->|"order export"| n_dmz__legacy_admin
          n_shop__api -->|"TLS"| n_shop__db
          n_shop__api__orders -->|"AMQP"| n_shop__queue
          n_shop__queue -->|"AMQP 0-9-1 over TLS, manual acks after the database commit"| n_webshop__worker
          n_shop__web -->|"HTTPS"| n_shop__api
          n_shop__web -->|"HTTPS JSON, session cookie and X-CSRF-Token header"| n_shop__api
          n_shop__web__checkout -->|"HTTPS"| n_shop__api__orders
          n_shop__web__checkout -->|"HTTPS"| n_shop__psp
          n_webshop__worker__payments -->|"HTTPS to the Stripe API using a restricted key"| n_shop__psp
          legend_key["Key: box actor · rounded process · cylinder store · dashed boundary<br/>⚠ open · ✗ confirmed, with #91;severity#93; · ✓ mitigated<br/>border: critical 4px dark red · high 3px orange · green: none open"]
          style legend_key fill:#ffffff,stroke:#9aa5b1,color:#3e4c59
          classDef high fill:#ffedd5,stroke:#c2410c,stroke-width:3px
          class n_shop__api__orders high
          classDef clean fill:#e8f5e9,stroke:#2e7d32,stroke-width:1.3px
          class n_dmz__legacy_admin,n_shop__api,n_shop__api__auth,n_shop__db,n_shop__web__checkout,n_webshop__worker,n_webshop__worker__payments clean
          classDef component fill:#ffffff,stroke:#9aa5b1,stroke-width:1px
          class g_webshop,g_webshop__worker component
          style b_dmz stroke-dasharray: 5 5
          style b_internet stroke-dasharray: 5 5
          style bh_data_tier_bfde10aecdb5fb8c stroke-dasharray: 5 5
          style bh_internet_edge_fc597708b86b646e stroke-dasharray: 5 5
    "#]].assert_eq(&text);
}

fn fixture_index(fixture: &str) -> ProjectIndex {
    support::index_of(&support::parse_fixture(fixture).files)
}

/// A compact, readable dump of the model (not of the Mermaid text).
fn summary(dfd: &Dfd) -> String {
    let mut out = String::new();
    for n in &dfd.nodes {
        let s = &n.status;
        let _ = write!(out, "{} {:?} [{}]", n.id, n.label, n.kind.as_str());
        if let Some(b) = &n.boundary {
            let _ = write!(out, " in {b}");
        }
        if !s.is_empty() {
            let _ = write!(
                out,
                " open={} confirmed={} mitigated={} accepted={} transferred={}",
                s.open, s.confirmed, s.mitigated, s.accepted, s.transferred
            );
        }
        out.push('\n');
    }
    for e in &dfd.edges {
        let arrow = if e.two_way { "<->" } else { "->" };
        let _ = writeln!(out, "{} {arrow} {} {:?}", e.from, e.to, e.label);
    }
    for b in &dfd.boundaries {
        let _ = writeln!(out, "boundary {} {:?} key={:?}: {}", b.id, b.title, b.key, b.members.join(" "));
    }
    out
}

fn keys(dfd: &Dfd) -> Vec<&str> {
    let mut keys: Vec<&str> = dfd.nodes.iter().map(|n| n.key.as_str()).collect();
    keys.sort_unstable();
    keys
}

fn kind_of(dfd: &Dfd, key: &str) -> ElementKind {
    dfd.node_by_key(key).unwrap_or_else(|| panic!("no node {key}: {}", summary(dfd))).kind
}

// ---------------------------------------------------------------------------------------------
// Scopes

#[test]
fn boundary_scope_is_members_plus_neighbours() {
    let index = webshop();
    let dfd = diagram(&index, &Scope::Boundary("internet-edge".into()));
    expect![[r#"
        n_shop__api "Shop.Api" [process] in bh_internet_edge_fc597708b86b646e open=0 confirmed=0 mitigated=4 accepted=0 transferred=0
        n_shop__api__auth "Shop.Api.Auth" [process] in bh_internet_edge_fc597708b86b646e open=0 confirmed=0 mitigated=2 accepted=1 transferred=0
        n_shop__api__orders "Shop.Api.Orders" [process] in bh_internet_edge_fc597708b86b646e open=1 confirmed=0 mitigated=1 accepted=0 transferred=0
        n_shop__db "Shop.Db" [data-store] in bh_data_tier_bfde10aecdb5fb8c open=0 confirmed=0 mitigated=1 accepted=0 transferred=0
        n_shop__queue "Shop.Queue" [data-store]
        n_shop__web "Shop.Web" [process]
        n_shop__web__checkout "Shop.Web.Checkout" [process] open=0 confirmed=0 mitigated=1 accepted=0 transferred=1
        n_shop__api -> n_shop__db Some("TLS")
        n_shop__api__orders -> n_shop__queue Some("AMQP")
        n_shop__web -> n_shop__api Some("HTTPS")
        n_shop__web -> n_shop__api Some("HTTPS JSON, session cookie and X-CSRF-Token header")
        n_shop__web__checkout -> n_shop__api__orders Some("HTTPS")
        boundary bh_data_tier_bfde10aecdb5fb8c "Shop.Api | Shop.Db (#data-tier)" key="data-tier": n_shop__db
        boundary bh_internet_edge_fc597708b86b646e "Shop.Web | Shop.Api (#internet-edge)" key="internet-edge": n_shop__api n_shop__api__auth n_shop__api__orders
    "#]].assert_eq(&summary(&dfd));
    // `#id`, and a normalised spelling of the key, name the same boundary.
    assert_eq!(diagram(&index, &Scope::Boundary("#internet-edge".into())), dfd);
    assert_eq!(diagram(&index, &Scope::Boundary("Internet Edge".into())), dfd);
    // A legacy boundary by its alias title.
    let dmz = diagram(&index, &Scope::Boundary("DMZ".into()));
    assert_eq!(keys(&dmz), ["dmz.legacy_admin", "internet.staff_browser"]);
    assert_eq!(dmz.edges.len(), 1);
    assert_eq!(diagram(&index, &Scope::Boundary("no-such-boundary".into())), Dfd::default());
}

#[test]
fn component_scope_is_component_children_and_direct_neighbours() {
    let index = webshop();
    let worker = diagram(&index, &Scope::Component("Webshop:Worker".into()));
    expect![[r#"
        n_shop__psp "Shop.Psp" [process]
        n_shop__queue "Shop.Queue" [data-store]
        n_webshop__worker "Webshop:Worker" [process] in g_webshop__worker open=0 confirmed=0 mitigated=2 accepted=0 transferred=0
        n_webshop__worker__payments "Webshop:Worker:Payments" [process] in g_webshop__worker open=0 confirmed=0 mitigated=1 accepted=0 transferred=0
        n_shop__queue -> n_webshop__worker Some("AMQP 0-9-1 over TLS, manual acks after the database commit")
        n_webshop__worker__payments -> n_shop__psp Some("HTTPS to the Stripe API using a restricted key")
        boundary g_webshop "Webshop" key="webshop": 
        boundary g_webshop__worker "Webshop:Worker" key="webshop.worker": n_webshop__worker n_webshop__worker__payments
    "#]].assert_eq(&summary(&worker));
    // Dotted and colon paths, any case, and `#id` name the same component.
    assert_eq!(diagram(&index, &Scope::Component("webshop.worker".into())), worker);
    assert_eq!(diagram(&index, &Scope::Component("#worker".into())), worker);
    // A leaf: only its direct neighbours, and only the flows touching it (not Shop.Web -> Shop.Api).
    let queue = diagram(&index, &Scope::Component("#queue".into()));
    assert_eq!(keys(&queue), ["shop.api.orders", "shop.queue", "webshop.worker"]);
    assert_eq!(queue.edges.len(), 2);
    // `Shop.Web` includes `Shop.Web.Checkout` and the checkout's neighbours.
    let web = diagram(&index, &Scope::Component("Shop.Web".into()));
    assert_eq!(keys(&web), ["shop.api", "shop.api.orders", "shop.psp", "shop.web", "shop.web.checkout"]);
    assert_eq!(diagram(&index, &Scope::Component("Shop.Nothing".into())), Dfd::default());
}

#[test]
fn file_scope_is_what_the_file_says() {
    let index = webshop();
    let orders = diagram(&index, &Scope::File(FileId::relative("api/orders.py")));
    expect![[r#"
        n_shop__api__orders "Shop.Api.Orders" [process] in bh_internet_edge_fc597708b86b646e open=1 confirmed=0 mitigated=1 accepted=0 transferred=0
        n_shop__queue "Shop.Queue" [data-store]
        n_shop__api__orders -> n_shop__queue Some("AMQP")
        boundary bh_internet_edge_fc597708b86b646e "Shop.Web | Shop.Api (#internet-edge)" key="internet-edge": n_shop__api__orders
    "#]].assert_eq(&summary(&orders));
    let legacy = diagram(&index, &Scope::File(FileId::relative("legacy/admin/export.php")));
    assert_eq!(keys(&legacy), ["dmz.legacy_admin", "internet.staff_browser"]);
    assert_eq!(legacy.boundaries.len(), 2);
    // Flows are the file's own: db.py declares Shop.Api -> Shop.Db and nothing else.
    let db = diagram(&index, &Scope::File(FileId::relative("api/db.py")));
    assert_eq!(keys(&db), ["shop.api", "shop.db"]);
    assert_eq!(db.edges.len(), 1);
    assert_eq!(diagram(&index, &Scope::File(FileId::relative("missing.py"))), Dfd::default());
}

// ---------------------------------------------------------------------------------------------
// Rules

#[test]
fn element_kind_rule() {
    let index = fixture_index(
        r#"
        //- /a.py
        # @asset Shop.OrdersDb
        # @component Orders DB
        # @component Redis Sessions
        # @component S3Buckets
        # @asset Shop.Bookstore
        # @asset Shop.Feedback
        # @component Legacy Admin Panel
        # @component User Service
        # @component Staff Browser
        # @component Shop:Customers
        # @actor Customer (#customer)
        # @flows Customer -> Shop.Web
        # @flows #customer -> Shop.Api
        # @connects @internet:@portal to @dmz:@app
        # @connects @external_apis:@stripe to @dmz:@app
        # @boundary between Internet and Shop.Web
        # @handles pii on Shop.Web
        # @audit Shop.Audited
        "#,
    );
    let dfd = diagram(&index, &Scope::Project);
    use ElementKind::*;
    let expected = [
        ("shop.ordersdb", DataStore),
        ("orders_db", DataStore),
        ("redis_sessions", DataStore),
        ("s3buckets", DataStore),
        ("shop.bookstore", Process),
        ("shop.feedback", Process),
        ("legacy_admin_panel", Process),
        ("user_service", Process),
        ("staff_browser", Actor),
        ("shop.customers", Actor),
        ("customer", Actor),
        ("shop.web", Process),
        ("internet.portal", Actor),
        ("external_apis.stripe", Actor),
        ("dmz.app", Process),
        ("internet", Actor),
    ];
    for (key, kind) in expected {
        assert_eq!(kind_of(&dfd, key), kind, "{key}");
    }
    // `@actor Customer` and the asset `Customer` (by name or by `#customer`) are one node.
    assert_eq!(dfd.nodes.iter().filter(|n| n.label == "Customer").count(), 1);
    let customer = dfd.node_by_key("customer").unwrap().id.clone();
    assert_eq!(dfd.edges.iter().filter(|e| e.from == customer).count(), 2);
    // Lifecycle-only assets are not nodes.
    assert!(dfd.node_by_key("shop.audited").is_none());
    assert_eq!(dfd::classify(false, None, "Ledger"), DataStore);
    assert_eq!(dfd::classify(false, Some("users"), "Portal"), Actor);
    assert_eq!(dfd::classify(true, None, "Orders DB"), Actor);
}

#[test]
fn boundary_rule() {
    let index = fixture_index(
        r#"
        //- /infra.tf
        # @boundary between Internet and Shop.Api (#edge)
        # @boundary Shop.Api | Shop.Api.Db (#data)
        # @boundary between Shop.Api.Db and Shop.Api (#b-second)
        # @boundary between Shop.Web and Shop.Cdn
        # @flows Shop.Web -> Shop.Api.Orders.Search
        //- /legacy.php
        <?php
        // @alias boundary @dmz to Demilitarised Zone
        // @component Dmz:Admin:Export
        // @connects @lan:@printer to @dmz:@admin
        // @component Shop:Plain
        "#,
    );
    let dfd = diagram(&index, &Scope::Project);
    expect![[r#"
        n_dmz__admin "admin" [actor] in b_dmz
        n_dmz__admin__export "Dmz:Admin:Export" [process] in b_dmz
        n_internet "Internet" [actor]
        n_lan__printer "printer" [process] in b_lan
        n_shop__api "Shop.Api" [process] in bh_b_second_42deb37d2853cbd4
        n_shop__api__db "Shop.Api.Db" [data-store] in b_data
        n_shop__api__orders__search "Shop.Api.Orders.Search" [process] in bh_b_second_42deb37d2853cbd4
        n_shop__cdn "Shop.Cdn" [process] in bh_shop_web_shop_cdn_8f30e3fd3773d61a
        n_shop__plain "Shop:Plain" [process] in g_shop
        n_shop__web "Shop.Web" [process] in g_shop
        n_lan__printer -> n_dmz__admin None
        n_shop__web -> n_shop__api__orders__search None
        boundary b_data "Shop.Api | Shop.Api.Db (#data)" key="data": n_shop__api__db
        boundary b_dmz "Demilitarised Zone" key="dmz": n_dmz__admin n_dmz__admin__export
        boundary b_lan "lan" key="lan": n_lan__printer
        boundary bh_b_second_42deb37d2853cbd4 "Shop.Api.Db | Shop.Api (#b-second)" key="b-second": n_shop__api n_shop__api__orders__search
        boundary bh_shop_web_shop_cdn_8f30e3fd3773d61a "Shop.Web | Shop.Cdn" key="shop.web|shop.cdn": n_shop__cdn
        boundary g_shop "Shop" key="shop": n_shop__plain n_shop__web
    "#]].assert_eq(&summary(&dfd));
    let boundary_of = |key: &str| dfd.node_by_key(key).and_then(|n| n.boundary.clone());
    let edge = dfd::boundary_id("edge");
    // The second side and its descendants; not the first side.
    let second = dfd::boundary_id("b-second");
    assert_eq!(boundary_of("shop.api.orders.search"), Some(second.clone()));
    assert_eq!(boundary_of("internet"), None);
    // Shop.Api is the second side of #edge and of #b-second: the smallest id wins.
    assert_eq!(boundary_of("shop.api"), Some(second));
    assert!(dfd.boundaries.iter().all(|b| b.id != edge), "#edge has no member left");
    // Its own boundary beats its ancestor's.
    assert_eq!(boundary_of("shop.api.db"), Some(dfd::boundary_id("data")));
    // No id: keyed `A|B`, titled `A | B`.
    let cdn = dfd.boundaries.iter().find(|b| b.key == "shop.web|shop.cdn").expect("unnamed boundary");
    assert_eq!(cdn.title, "Shop.Web | Shop.Cdn");
    // Legacy: `@b:@c`, and colon paths under an aliased boundary; other colon paths are in no
    // trust boundary, only in the component group of their parent path (issue 14 §5).
    assert_eq!(boundary_of("dmz.admin.export"), Some(dfd::boundary_id("dmz")));
    assert_eq!(boundary_of("lan.printer"), Some(dfd::boundary_id("lan")));
    assert_eq!(boundary_of("shop.plain"), Some(dfd::group_id("shop")));
    assert!(
        dfd.boundaries.iter().filter(|b| !b.component).all(|b| !b.members.contains(&"n_shop__plain".into()))
    );
    let dmz = dfd.boundaries.iter().find(|b| b.key == "dmz").unwrap();
    assert_eq!(dmz.title, "Demilitarised Zone");
}

#[test]
fn threat_status_uses_the_coverage_rule() {
    let index = fixture_index(
        r#"
        //- /a.py
        # @threat SQL Injection (#sqli)
        # @exposes Shop.Api.Orders to #sqli
        # @exposes Shop.Api.Orders to SQL Injection
        # @mitigates Shop.Api against #sqli
        # @exposes Shop.Api.Orders to #xss
        # @exposes Shop.Api.Orders to #nowhere
        # @confirmed #idor on Shop.Api.Orders
        # @exposes Shop.Web to #csrf
        # @accepts #csrf on Shop.Web
        # @exposes Shop.Web to #skimming
        # @transfers #skimming from Shop.Web to Shop.Psp
        # @exposes Shop.Web to #dos
        //- /b.py
        # @threat Cross-site scripting (#xss)
        # @threat IDOR (#idor)
        # @threat CSRF (#csrf)
        # @threat Skimming (#skimming)
        # @threat DoS (#dos)
        "#,
    );
    let dfd = diagram(&index, &Scope::Project);
    let status = |key: &str| dfd.node_by_key(key).unwrap().status.clone();
    // #sqli is covered by the parent's mitigation (counted once though exposed twice);
    // #xss is open; the dangling #nowhere counts nowhere.
    assert_eq!(status("shop.api.orders"), ThreatStatus { open: 1, confirmed: 1, ..Default::default() });
    assert_eq!(status("shop.api"), ThreatStatus { mitigated: 1, ..Default::default() });
    assert_eq!(
        status("shop.web"),
        ThreatStatus { open: 1, accepted: 1, transferred: 1, ..Default::default() }
    );
    assert!(status("shop.psp").is_empty());
    let text = mermaid::render(&dfd);
    // The findings and open exposures are named, findings first; no severity is stated, so
    // none is shown, and an unrated finding counts as high.
    assert!(
        text.contains(
            "(\"Shop.Api.Orders<br/>✗ 1 confirmed · ⚠ 1 open<br/>✗ IDOR<br/>⚠ Cross-site scripting\")"
        ),
        "{text}"
    );
    assert!(text.contains("  class n_shop__api__orders high\n"), "{text}");
    assert!(text.contains("  class n_shop__web unrated\n"), "{text}");
    assert!(text.contains("  class n_shop__api clean\n"), "{text}");
    assert!(text.contains("(\"Shop.Web<br/>⚠ 1 open · 1 accepted · 1 transferred<br/>⚠ DoS\")"), "{text}");
}

#[test]
fn edges_labels_direction_and_dedup() {
    let index = fixture_index(
        r#"
        //- /a.py
        # @flows A -> B via HTTPS
        # @flows A -> B via HTTPS
        # @flows A -> B via gRPC
        # @flows A <-> C
        # @connects A with D with mutual TLS
        # @connects A to #nowhere with TLS
        //- /b.php
        <?php
        // @connects @x:@a to @x:@b as nightly export
        "#,
    );
    let dfd = diagram(&index, &Scope::Project);
    expect![[r#"
        n_a "A" [process]
        n_b "B" [process]
        n_c "C" [process]
        n_d "D" [process]
        n_x__a "a" [process] in b_x
        n_x__b "b" [process] in b_x
        n_a -> n_b Some("HTTPS")
        n_a -> n_b Some("gRPC")
        n_a <-> n_c None
        n_a <-> n_d Some("mutual TLS")
        n_x__a -> n_x__b Some("nightly export")
        boundary b_x "x" key="x": n_x__a n_x__b
    "#]]
    .assert_eq(&summary(&dfd));
    let text = mermaid::render(&dfd);
    assert!(text.contains("  n_a <--> n_c\n"), "{text}");
    assert!(text.contains("  n_a <-->|\"mutual TLS\"| n_d\n"), "{text}");
    assert!(text.contains("  n_a -->|\"HTTPS\"| n_b\n"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Escaping

/// Checks every line of a Mermaid document against the shapes this renderer writes, with each
/// quoted string replaced by `Q`, and every quoted string for unescaped structural characters.
fn assert_structurally_safe(text: &str) {
    fn is_id(s: &str) -> bool {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    }
    for line in text.lines() {
        let quotes = line.matches('"').count();
        assert!(quotes % 2 == 0, "odd number of quotes: {line}");
        let mut skeleton = String::new();
        for (i, part) in line.split('"').enumerate() {
            if i % 2 == 0 {
                skeleton.push_str(part);
                continue;
            }
            skeleton.push('Q');
            // Our own line break, then entity codes (`#name;`, `#123;`), are the only markup.
            let content = part.replace("<br/>", " ");
            let mut rest = content.as_str();
            while let Some(c) = rest.chars().next() {
                if c == '#' {
                    let end = rest.find(';').unwrap_or_else(|| panic!("bare # in {part:?}"));
                    assert!(
                        end > 1 && rest[1..end].bytes().all(|b| b.is_ascii_alphanumeric()),
                        "bad entity in {part:?}"
                    );
                    rest = &rest[end + 1..];
                    continue;
                }
                assert!(
                    !"<>`|[]{}()%;\\&".contains(c) && !c.is_control(),
                    "unescaped {c:?} in label {part:?} of {line}"
                );
                rest = &rest[c.len_utf8()..];
            }
        }
        let s = skeleton.trim();
        let words: Vec<&str> = s.split(' ').collect();
        let ok = match words.as_slice() {
            ["flowchart", "LR"] | ["end"] => true,
            ["subgraph", decl] => decl.strip_suffix("[Q]").is_some_and(is_id),
            ["classDef", ..] => true,
            ["class", ids, class] => ids.split(',').all(is_id) && is_id(class),
            ["style", id, "stroke-dasharray:", "5", "5"] => is_id(id),
            ["style", "legend_key", "fill:#ffffff,stroke:#9aa5b1,color:#3e4c59"] => true,
            [a, "-->" | "<-->", b] => is_id(a) && is_id(b),
            [a, arrow, b] => {
                (arrow.strip_prefix("-->|").or_else(|| arrow.strip_prefix("<-->|")) == Some("Q|"))
                    && is_id(a)
                    && is_id(b)
            }
            [decl] => ["[Q]", "(Q)", "[(Q)]"].iter().any(|shape| decl.strip_suffix(shape).is_some_and(is_id)),
            _ => false,
        };
        assert!(ok, "unexpected line structure {s:?} from {line:?}");
    }
}

#[test]
fn hostile_names_from_annotations_stay_text() {
    let mut text = String::new();
    for (i, name) in support::HOSTILE_LABELS
        .iter()
        .enumerate()
        .filter(|(_, n)| !n.contains(['\n', '\r', '\u{2028}', '\0']))
    {
        let _ = writeln!(text, "// @component {name} (#c{i})");
        let _ = writeln!(text, "// @connects #c{i} to Sink with {name}");
        let _ = writeln!(text, "// @exposes #c{i} to {name} with x");
    }
    let _ = writeln!(text, "// @actor Mallory\"] --> x");
    let _ = writeln!(text, "// @boundary between Sink and Evil\"]; click A call x() (#b)");
    let index = fixture_index(&format!("//- /evil.js\n{text}"));
    let dfd = diagram(&index, &Scope::Project);
    assert!(dfd.nodes.len() >= support::HOSTILE_LABELS.len() - 2, "{}", summary(&dfd));
    let out = mermaid::render(&dfd);
    assert_structurally_safe(&out);
    assert!(!out.contains("<img") && !out.contains("<script") && !out.contains("%%{"), "{out}");
    assert!(out.contains("#lt;img src=x onerror=alert#40;1#41;#gt;"), "{out}");
}

#[test]
fn hostile_text_in_a_hand_built_model_stays_text() {
    let mut dfd = Dfd::default();
    for (i, name) in support::HOSTILE_LABELS.iter().enumerate() {
        let kind = [ElementKind::Actor, ElementKind::Process, ElementKind::DataStore][i % 3];
        dfd.nodes.push(Node {
            id: format!("n_{i}"),
            key: format!("k{i}"),
            label: name.to_string(),
            kind,
            boundary: (i % 2 == 0).then(|| "b_0".to_string()),
            status: ThreatStatus { open: i, ..Default::default() },
            ..Default::default()
        });
        dfd.edges.push(Edge {
            from: format!("n_{i}"),
            to: "n_0".into(),
            label: Some(name.to_string()),
            two_way: i % 2 == 1,
            proposed: false,
        });
    }
    dfd.nodes.sort_by(|a, b| a.id.cmp(&b.id));
    let members = dfd.nodes.iter().filter(|n| n.boundary.is_some()).map(|n| n.id.clone()).collect();
    dfd.boundaries.push(BoundaryGroup {
        id: "b_0".into(),
        key: "x".into(),
        title: support::HOSTILE_LABELS.join(" "),
        members,
        legacy: false,
        ..BoundaryGroup::default()
    });
    // Ids the model never makes (a keyword, text) are replaced, not written.
    for (i, id) in ["end", "x\"] --> click A call y()", "legend_key", "a b"].into_iter().enumerate() {
        dfd.nodes.push(Node {
            id: id.to_string(),
            key: format!("odd{i}"),
            label: "odd".into(),
            kind: ElementKind::Process,
            boundary: None,
            status: ThreatStatus::default(),
            ..Default::default()
        });
        dfd.edges.push(Edge {
            from: id.into(),
            to: "n_0".into(),
            label: None,
            two_way: false,
            proposed: false,
        });
    }
    let out = mermaid::render(&dfd);
    assert_structurally_safe(&out);
    assert!(out.contains("\"line break  and bidi \""), "{out}");
    assert!(!out.contains("  end(") && !out.contains("click A call y") && !out.contains("a b"), "{out}");
    assert_eq!(out.matches("\n  legend_key[").count(), 1, "{out}");
    // The checker itself rejects what it must.
    for bad in ["  n_1[\"a\"b\"]", "  n_1[\"a]\"]", "  n_1[\"x\"] --> n_2", "  n_1(\"#x\")", "  %%{init}%%"] {
        assert!(std::panic::catch_unwind(|| assert_structurally_safe(bad)).is_err(), "{bad}");
    }
}

// ---------------------------------------------------------------------------------------------
// Determinism

#[test]
fn output_is_stable() {
    let index = webshop();
    let analysis = Analysis::new(&index);
    let first = mermaid::render(&dfd::build(&index, &analysis, &Scope::Project));
    let second = mermaid::render(&dfd::build(&index, &Analysis::new(&index), &Scope::Project));
    assert_eq!(first, second);

    // The same files added in reverse order give the same diagram, in every scope.
    let mut reversed = ProjectIndex::new();
    let files: Vec<_> = index.files().cloned().collect();
    for facts in files.iter().rev() {
        reversed.set_file(Arc::new(FileFacts::new(facts.path.clone(), facts.language, facts.text.shared())));
    }
    for scope in [
        Scope::Project,
        Scope::Boundary("internet-edge".into()),
        Scope::Component("Shop.Api".into()),
        Scope::File(FileId::relative("api/orders.py")),
    ] {
        let a = diagram(&index, &scope);
        let b = diagram(&reversed, &scope);
        assert_eq!(a, b, "{scope:?}");
        assert_eq!(mermaid::render(&a), mermaid::render(&b));
    }
    assert_eq!(mermaid::render(&diagram(&reversed, &Scope::Project)), first);

    // Ids are sorted and unique.
    let dfd = diagram(&index, &Scope::Project);
    assert!(dfd.nodes.windows(2).all(|w| w[0].id < w[1].id));
    assert!(dfd.boundaries.windows(2).all(|w| w[0].id < w[1].id));
    assert!(
        dfd.edges
            .windows(2)
            .all(|w| (&w[0].from, &w[0].to, &w[0].label) <= (&w[1].from, &w[1].to, &w[1].label))
    );
}

#[test]
fn the_legend_is_one_small_node() {
    // A legend of several nodes in a subgraph took about a third of the rendered picture; the
    // key is now one node of at most three short lines, whatever the diagram.
    let text = mermaid::render(&diagram(&webshop(), &Scope::Project));
    let key: Vec<&str> = text.lines().filter(|l| l.contains("legend")).collect();
    assert_eq!(key.len(), 2, "the key's node and its style: {key:#?}");
    assert!(key[0].starts_with("  legend_key[\"") && key[1].starts_with("  style legend_key "), "{key:#?}");
    let label = key[0].trim_start_matches("  legend_key[\"").trim_end_matches("\"]");
    let lines: Vec<&str> = label.split("<br/>").collect();
    assert!(lines.len() <= 3 && lines.iter().all(|l| l.chars().count() <= 72), "{lines:#?}");
    assert!(!text.contains("subgraph legend"), "{text}");
}
