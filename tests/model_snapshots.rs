//! Snapshots of the resolved model, one per dialect and one mixing all three.
mod support;
use expect_test::{Expect, expect};

fn check_model(fixture: &str, expect: Expect) {
    expect.assert_eq(&support::model_dump(fixture));
}

#[test]
fn gal_dialect() {
    check_model(
        r#"
        //- /.guardlink/definitions.gal
        @asset Shop.Api.Orders (#orders) -- "order placement and search"
        @threat SQL Injection (#sqli) [P1] cwe:CWE-89 owasp:A03:2021
        @control Prepared Statements (#prepared)
        @actor Customer (#customer)
        //- /api/orders.py
        # @exposes #orders to #sqli [high] -- "search builds SQL by hand"
        #   -- "until ticket SEC-42 lands"
        # @mitigates Shop.Api.Orders against SQL Injection using #prepared
        # @flows Shop.Web -> Shop.Api.Orders via HTTPS
        # @boundary between Internet and Shop.Web (#edge)
        # @entitles #customer to place-order on Shop.Api.Orders
        # @handles pii on Shop.Api.Orders
        # @owns team-orders for Shop.Api.Orders
        # @validates #prepared for Shop.Api.Orders
        # @audit Shop.Api.Orders
        # @assumes Shop.Web -- "TLS terminates at the load balancer"
        # @feature "Checkout"
        # @comment rewrite search before Q3
        # @confirmed #sqli on Shop.Api.Legacy [critical]
        x = 1  # @accepts #sqli on Shop.Api.Legacy
        "#,
        expect![[r#"
            .guardlink/definitions.gal (gal)
              1:1 @asset [gal] asset=asset:shop.api.orders@1:8 desc="order placement and search"
              2:1 @threat [gal] threat=threat:sqli@2:9 severity=high refs=cwe:CWE-89,owasp:A03:2021
              3:1 @control [gal] control=control:prepared@3:10
              4:1 @actor [gal] actor=actor:customer@4:8
            api/orders.py (python)
              1:3 @exposes [gal] asset=asset:shop.api.orders@1:13 threat=threat:sqli@1:24 severity=high desc="search builds SQL by hand until ticket SEC-42 lands"
              3:3 @mitigates [gal] asset=asset:shop.api.orders@3:14 threat=threat:sqli@3:38 control=control:prepared@3:59
              4:3 @flows [gal] asset=asset:shop.web@4:10 asset=asset:shop.api.orders@4:22 two_way=false via="HTTPS"
              5:3 @boundary [gal] asset=asset:internet@5:21 asset=asset:shop.web@5:34 id="edge"
              6:3 @entitles [gal] actor=actor:customer@6:14 asset=asset:shop.api.orders@6:41 capability="place-order"
              7:3 @handles [gal] asset=asset:shop.api.orders@7:19 value="pii"
              8:3 @owns [gal] asset=asset:shop.api.orders@8:25 value="team-orders"
              9:3 @validates [gal] control=control:prepared@9:15 asset=asset:shop.api.orders@9:28
              10:3 @audit [gal] asset=asset:shop.api.orders@10:10
              11:3 @assumes [gal] asset=asset:shop.web@11:12 desc="TLS terminates at the load balancer"
              12:3 @feature [gal] value="Checkout"
              13:3 @comment [gal] text="rewrite search before Q3"
              14:3 @confirmed [gal] threat=threat:sqli@14:15 asset=asset:shop.api.legacy@14:23 severity=critical
              15:10 @accepts [gal] threat=threat:sqli@15:20 asset=asset:shop.api.legacy@15:28
        "#]],
    );
}

#[test]
fn threatspec_dialect() {
    check_model(
        r#"
        //- /app.js
        // @component External:User (#user)
        // @component WebApp:Web Server (#web)
        // @threat Cross-site Scripting (#xss)
        // @control Content Security Policy (#csp)
        // @connects #user to #web with HTTPS
        // @connect WebApp:Web Server with WebApp:Database with TLS
        // @exposes WebApp:Web Server to Cross-site Scripting with unescaped templates
        // @mitigates WebApp:Web Server against #xss with #csp
        // @accepts non-privileged port to #web with port 8080 is fine behind the LB
        // @transfers #xss from #web to External:User with browser sandbox
        // @review #web Are cookies HttpOnly?
        // @tests #csp for #web
        /*
         * @mitigates WebApp:Web Server against Session hijacking with Secure cookies:
         *   description: cookies are Secure and HttpOnly
         *   ticket: SEC-7
         */
        "#,
        expect![[r#"
            app.js (javascript)
              1:4 @asset [threatspec] asset=asset:external.user@1:15
              2:4 @asset [threatspec] asset=asset:webapp.web_server@2:15
              3:4 @threat [gal] threat=threat:xss@3:12
              4:4 @control [gal] control=control:csp@4:13
              5:4 @flows [threatspec] asset=asset:external.user@5:15 asset=asset:webapp.web_server@5:24 details="HTTPS" two_way=false
              6:4 @flows [threatspec] asset=asset:webapp.web_server@6:13 asset=asset:webapp.database@6:36 details="TLS" two_way=true
              7:4 @exposes [threatspec] asset=asset:webapp.web_server@7:13 threat=threat:xss@7:34 details="unescaped templates"
              8:4 @mitigates [threatspec] asset=asset:webapp.web_server@8:15 threat=threat:xss@8:42 control=control:csp@8:52
              9:4 @accepts [threatspec] threat=threat:non_privileged_port@9:13 asset=asset:webapp.web_server@9:37 details="port 8080 is fine behind the LB"
              10:4 @transfers [threatspec] threat=threat:xss@10:16 asset=asset:webapp.web_server@10:26 asset=asset:external.user@10:33 details="browser sandbox"
              11:4 @audit [threatspec] asset=asset:webapp.web_server@11:13 note="Are cookies HttpOnly?"
              12:4 @validates [threatspec] control=control:csp@12:12 asset=asset:webapp.web_server@12:21
              14:4 @mitigates [threatspec] asset=asset:webapp.web_server@14:15 threat=threat:session_hijacking@14:41 control=control:secure_cookies@14:64 desc="cookies are Secure and HttpOnly" ticket="SEC-7"
        "#]],
    );
}

#[test]
fn legacy_threatspec_dialect() {
    check_model(
        r#"
        //- /index.php
        <?php
        // @alias boundary @internet to Internet
        // @alias component @internet:@browser to Customer Browser
        // @alias component @dmz:@web to Web Server
        // @alias threat @xss to Cross-site scripting
        // @describe component @dmz:@web as Apache with mod_php
        // @connects @internet:@browser to @dmz:@web as checkout
        // @exposes @dmz:@web to @xss with unescaped output
        // @mitigates @dmz:@web against @xss with htmlspecialchars
        // @transfers @cwe_319_cleartext_transmission to @internet:@browser with user must use HTTPS
        // @accepts @cwe_400_resource_exhaustion to @dmz:@web with rate limits upstream
        // @review @dmz:@web check php.ini hardening
        "#,
        expect![[r#"
            index.php (php)
              2:4 @alias [threatspec-0.1] boundary=boundary:internet@2:21 name="Internet"
              3:4 @alias [threatspec-0.1] asset=asset:internet.browser@3:22 name="Customer Browser"
              4:4 @alias [threatspec-0.1] asset=asset:dmz.web@4:22 name="Web Server"
              5:4 @alias [threatspec-0.1] threat=threat:xss@5:19 name="Cross-site scripting"
              6:4 @describe [threatspec-0.1] asset=asset:dmz.web@6:25 text="Apache with mod_php"
              7:4 @flows [threatspec-0.1] asset=asset:internet.browser@7:15 asset=asset:dmz.web@7:37 two_way=false as="checkout"
              8:4 @exposes [threatspec-0.1] asset=asset:dmz.web@8:14 threat=threat:xss@8:27 details="unescaped output"
              9:4 @mitigates [threatspec-0.1] asset=asset:dmz.web@9:16 threat=threat:xss@9:34 control=control:htmlspecialchars@9:43
              10:4 @transfers [threatspec-0.1] threat=threat:cwe_319_cleartext_transmission@10:16 asset=asset:internet.browser@10:51 details="user must use HTTPS"
              11:4 @accepts [threatspec-0.1] threat=threat:cwe_400_resource_exhaustion@11:14 asset=asset:dmz.web@11:46 details="rate limits upstream"
              12:4 @audit [threatspec-0.1] asset=asset:dmz.web@12:13 note="check php.ini hardening"
        "#]],
    );
}
